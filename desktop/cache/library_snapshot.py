"""The library list, read with the standard library's sqlite3 alone.

This is the hot path of start-up: the first painted library needs these rows before
SQLAlchemy or pydantic are imported, so the query is plain SQL over the tables the
ORM models in `models.py` define (four narrow selects, no per-row queries).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from desktop.cache.blobstore import BlobScan, BlobStore, LocalState, combined_state
from desktop.cache.job_state import ACTIVE_JOB_STATES
from desktop.cache.schema_version import SCHEMA_HEAD, current_revision
from desktop.cache.video_in_use import StoredForm, form_in_use, stored_forms

# Short labels for the library's credits column.
_CREDIT_ABBREV = {
    "physician": "AMA",
    "physician_assistant": "PA",
    "nurse_practitioner": "NP",
    "nurse": "RN",
    "pharmacist": "ACPE",
    "other": "Other",
}


@dataclass(frozen=True)
class CreditOffer:
    profession: str
    credit_type: str
    max_credits: float
    contact_hours: float | None

    @property
    def label(self) -> str:
        amount = self.contact_hours if self.contact_hours is not None else self.max_credits
        return f"{amount:g} {_CREDIT_ABBREV.get(self.profession, self.profession)}"


@dataclass(frozen=True)
class LibraryRow:
    id: str
    title: str
    faculty: str
    credits: tuple[CreditOffer, ...]
    release_date: date
    termination_date: date
    media_state: LocalState
    media_bytes: int
    review_date: date | None = None
    ended: str = ""  # why it can no longer be started or claimed (rule 3), "" while it can
    # The form of the video on this machine (cmecore.renditions.Quality; a plain str equal to
    # it in the first paint's rows), None while no form is here.
    video_quality: str | None = None

    @property
    def expired(self) -> bool:
        return bool(self.ended)

    def credits_label(self, profession: str | None = None) -> str:
        """The learner's own credit first, then the others."""
        ordered = sorted(self.credits, key=lambda c: c.profession != profession)
        return " · ".join(dict.fromkeys(c.label for c in ordered))



def read_library(db_path: Path, blobs: BlobStore) -> list[LibraryRow]:
    """Every cached activity as a library row, sorted by title."""
    conn = sqlite3.connect(db_path)
    try:
        faculty = _grouped(conn, "SELECT activity_id, name FROM faculty ORDER BY activity_id, position")
        credits = _grouped(
            conn,
            "SELECT activity_id, profession, credit_type, max_credits, contact_hours "
            "FROM accreditation_statements ORDER BY activity_id, position",
        )
        assets = _grouped(conn, "SELECT activity_id, sha256, size FROM assets ORDER BY activity_id, position")
        videos, wanted = stored_forms(conn)
        queued = {
            sha for (sha,) in conn.execute(
                f"SELECT sha256 FROM download_jobs WHERE state IN ({', '.join('?' * len(ACTIVE_JOB_STATES))})",
                ACTIVE_JOB_STATES,
            )
        }
        activities = conn.execute(
            "SELECT id, title, release_date, termination_date, review_date FROM activities ORDER BY title"
        ).fetchall()
    finally:
        conn.close()
    scan = blobs.scan()
    return [
        _row(id_, title, release, termination, review, faculty.get(id_, []), credits.get(id_, []),
             assets.get(id_, []), scan, queued, videos.get(id_, []), wanted.get(id_))
        for id_, title, release, termination, review in activities
    ]


def _grouped(conn: sqlite3.Connection, sql: str) -> dict[str, list[tuple]]:
    grouped: dict[str, list[tuple]] = {}
    for activity_id, *rest in conn.execute(sql):
        grouped.setdefault(activity_id, []).append(tuple(rest))
    return grouped


def _row(id_, title, release, termination, review, faculty, credits, assets, scan: BlobScan, queued,
         videos: list[list[StoredForm]], wanted: str | None) -> LibraryRow:
    # Each video counts by its form in use (video_in_use.py): the original's row stands for it;
    # the first video (the one played) says which form is here.
    def present(sha: str) -> bool:
        return scan.state(sha) is LocalState.present

    in_use_of = {forms[0].sha256: form_in_use(forms, wanted, present) for forms in videos}
    in_use = in_use_of.get(videos[0][0].sha256) if videos else None
    assets = [(found.sha256, found.size) if (found := in_use_of.get(sha)) is not None else (sha, size)
              for sha, size in assets]
    states = [scan.state(sha, queued=sha in queued) for sha, _size in assets]
    return LibraryRow(
        id=id_,
        title=title,
        faculty=", ".join(name for (name,) in faculty),
        credits=tuple(CreditOffer(*c) for c in credits),
        release_date=date.fromisoformat(release),
        termination_date=date.fromisoformat(termination),
        media_state=combined_state(states),
        media_bytes=sum(size for (_sha, size), st in zip(assets, states) if st is LocalState.present),
        review_date=date.fromisoformat(review) if review else None,
        video_quality=in_use.quality if in_use is not None and scan.state(in_use.sha256) is LocalState.present else None,
    )


@dataclass(frozen=True)
class FirstPaint:
    """What the window needs to show the library before the services are open."""

    rows: list[LibraryRow]
    profession: str | None


def read_first_paint(db_path: Path, blobs: BlobStore) -> FirstPaint | None:
    """The library as cached, or None when the file is missing or needs an upgrade first."""
    try:
        if current_revision(db_path) != SCHEMA_HEAD:
            return None
        rows = read_library(db_path, blobs)
        conn = sqlite3.connect(db_path)
        try:
            found = conn.execute(
                "SELECT profession FROM learners WHERE signed_in = 1 ORDER BY last_signed_in_at DESC LIMIT 1"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:  # damaged or locked: the services' own opening deals with it
        return None
    return FirstPaint(rows, found[0] if found else None)
