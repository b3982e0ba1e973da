"""The library list, read with the standard library's sqlite3 alone.

This is the hot path of start-up: the first painted library needs these rows before
SQLAlchemy or pydantic are imported, so the query is plain SQL over the tables the
ORM models in `models.py` define (four narrow selects, no per-row queries).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from operator import itemgetter
from pathlib import Path

from desktop.cache.blobstore import BlobScan, BlobStore, LocalState, combined_state
from desktop.cache.job_state import ACTIVE_JOB_STATES
from desktop.cache.schema_version import SCHEMA_HEAD, revision_of
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
        return _read_library(conn, blobs)
    finally:
        conn.close()


_FACULTY = "SELECT activity_id, name FROM faculty ORDER BY activity_id, position"
_CREDITS = ("SELECT activity_id, profession, credit_type, max_credits, contact_hours "
            "FROM accreditation_statements ORDER BY activity_id, position")
_ACTIVITIES = "SELECT id, title, release_date, termination_date, review_date FROM activities ORDER BY title"
_FIELDS = tuple(LibraryRow.__dataclass_fields__)


def _read_library(conn: sqlite3.Connection, blobs: BlobStore) -> list[LibraryRow]:
    # Rows come grouped by activity and in position order: itertools.groupby and itemgetter
    # group them without a Python step per row, and activities offering the same credits
    # share one tuple of offers (a library has few distinct ones).
    activity, rest, second = itemgetter(0), itemgetter(slice(1, None)), itemgetter(1)
    faculty = {a: ", ".join(map(second, rows)) for a, rows in groupby(conn.execute(_FACULTY).fetchall(), activity)}
    offers: dict[tuple, tuple[CreditOffer, ...]] = {}
    credits = {
        a: offers.get(raw) or offers.setdefault(raw, tuple(CreditOffer(*c) for c in raw))
        for a, rows in groupby(conn.execute(_CREDITS).fetchall(), activity) for raw in (tuple(map(rest, rows)),)
    }
    media = _media(conn, blobs.scan())
    dates: dict[str, date] = {}  # libraries share few dates: each parsed once
    absent = (LocalState.absent, 0, None)
    rows = []
    for id_, title, release, termination, review, in conn.execute(_ACTIVITIES).fetchall():
        state, media_bytes, quality = media.get(id_, absent)
        rows.append(_library_row((
            id_, title, faculty.get(id_, ""), credits.get(id_, ()),
            dates.get(release) or dates.setdefault(release, date.fromisoformat(release)),
            dates.get(termination) or dates.setdefault(termination, date.fromisoformat(termination)),
            state, media_bytes,
            (dates.get(review) or dates.setdefault(review, date.fromisoformat(review))) if review else None,
            "", quality,
        )))
    return rows


def _library_row(values: tuple) -> LibraryRow:
    """A LibraryRow from its fields' values in order, as LibraryRow(*values) makes it: a frozen
    dataclass's __init__ sets each field through object.__setattr__, which for 1,000 rows is
    three times the instructions of filling the new instance's __dict__ at once."""
    row = object.__new__(LibraryRow)
    row.__dict__.update(zip(_FIELDS, values, strict=True))
    return row


def _media(conn: sqlite3.Connection, scan: BlobScan) -> dict[str, tuple[LocalState, int, str | None]]:
    """(media state, bytes here, the video form here) of each activity with a file of its own
    in the store, partly there or queued; every other activity has none (absent, 0, None), so
    the work grows with what is downloaded, not with the library."""
    queued = {
        sha for (sha,) in conn.execute(
            f"SELECT sha256 FROM download_jobs WHERE state IN ({', '.join('?' * len(ACTIVE_JOB_STATES))})",
            ACTIVE_JOB_STATES,
        )
    }
    touched = sorted(scan.present | scan.partial | queued)
    if not touched:
        return {}
    ids: set[str] = set()
    for chunk in range(0, len(touched), 500):  # SQLite's limit on bound values is far above 500
        shas = touched[chunk:chunk + 500]
        marks = ", ".join("?" * len(shas))
        ids.update(a for (a,) in conn.execute(f"SELECT activity_id FROM assets WHERE sha256 IN ({marks})", shas))
        ids.update(a for (a,) in conn.execute(
            "SELECT a.activity_id FROM asset_renditions r JOIN assets a ON a.id = r.asset_id "
            f"WHERE r.sha256 IN ({marks})", shas))
    assets = _grouped(conn, "SELECT activity_id, sha256, size FROM assets ORDER BY activity_id, position")
    videos, wanted = stored_forms(conn)
    return {id_: _media_of(assets.get(id_, []), scan, queued, videos.get(id_, []), wanted.get(id_)) for id_ in ids}


def _grouped(conn: sqlite3.Connection, sql: str) -> dict[str, list[tuple]]:
    grouped: dict[str, list[tuple]] = {}
    for activity_id, *rest in conn.execute(sql):
        grouped.setdefault(activity_id, []).append(tuple(rest))
    return grouped


def _media_of(assets, scan: BlobScan, queued, videos: list[list[StoredForm]],
              wanted: str | None) -> tuple[LocalState, int, str | None]:
    # Each video counts by its form in use (video_in_use.py): the original's row stands for it;
    # the first video (the one played) says which form is here.
    def present(sha: str) -> bool:
        return scan.state(sha) is LocalState.present

    in_use_of = {forms[0].sha256: form_in_use(forms, wanted, present) for forms in videos}
    in_use = in_use_of.get(videos[0][0].sha256) if videos else None
    assets = [(found.sha256, found.size) if (found := in_use_of.get(sha)) is not None else (sha, size)
              for sha, size in assets]
    states = [scan.state(sha, queued=sha in queued) for sha, _size in assets]
    return (
        combined_state(states),
        sum(size for (_sha, size), st in zip(assets, states) if st is LocalState.present),
        in_use.quality if in_use is not None and scan.state(in_use.sha256) is LocalState.present else None,
    )


@dataclass(frozen=True)
class FirstPaint:
    """What the window needs to show the library before the services are open."""

    rows: list[LibraryRow]
    profession: str | None


def read_first_paint(db_path: Path, blobs: BlobStore) -> FirstPaint | None:
    """The library as cached, or None when the file is missing or needs an upgrade first."""
    if not db_path.exists():  # (connecting would create it)
        return None
    try:
        conn = sqlite3.connect(db_path)
        try:
            if revision_of(conn) != SCHEMA_HEAD:
                return None
            rows = _read_library(conn, blobs)
            found = conn.execute(
                "SELECT profession FROM learners WHERE signed_in = 1 ORDER BY last_signed_in_at DESC LIMIT 1"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:  # damaged or locked: the services' own opening deals with it
        return None
    return FirstPaint(rows, found[0] if found else None)
