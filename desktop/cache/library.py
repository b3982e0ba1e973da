"""Read-side queries for the library list and the activity page.

Returns plain frozen dataclasses so views and the CLI never hold ORM objects or sessions.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import select

from cmecore.renditions import Choice, Quality

from desktop.cache import models as m
from desktop.cache.blobstore import BlobScan, BlobStore, LocalState
from desktop.cache.db import Database
from desktop.cache.job_state import ACTIVE_JOB_STATES
from desktop.cache.video_forms import every_video_forms, form_standing_in, video_choice, video_choices
from desktop.cache.library_snapshot import CreditOffer, LibraryRow, read_library  # noqa: F401 (re-exported)

@dataclass(frozen=True)
class AssetInfo:
    """An asset as the activity page shows it. Each video of an activity stands for the form
    of it here, else the one wanted (cache/video_in_use.py): its file, size and `quality`."""

    kind: str
    title: str
    media_type: str
    size: int
    sha256: str
    url: str
    language: str
    timed: bool
    state: LocalState
    quality: Quality | None = None  # video: the form these fields describe


@dataclass(frozen=True)
class ObjectiveInfo:
    text: str
    children: tuple[ObjectiveInfo, ...] = ()


@dataclass(frozen=True)
class StatementInfo:
    profession: str
    provider: str
    credit_type: str
    max_credits: float
    statement: str
    uan: str | None
    activity_type: str | None
    contact_hours: float | None


@dataclass(frozen=True)
class ActivityDetail:
    id: str
    version: int
    title: str
    description: str
    highlights: tuple[str, ...]
    format: str
    audience: str
    release_date: date
    review_date: date | None
    termination_date: date
    estimated_minutes: int
    providers: tuple[str, ...]
    commercial_support: str
    off_label_statement: str
    transcript_machine_generated: bool
    faculty: tuple[tuple[str, str, str, str], ...]  # name, credentials, title/affiliation, bio
    disclosures: tuple[tuple[str, str, str, str, bool], ...]  # person, role, company, nature, mitigated
    objectives: tuple[ObjectiveInfo, ...]
    accreditation: tuple[StatementInfo, ...]
    assets: tuple[AssetInfo, ...] = field(default=())

    def statements_for(self, profession: str | None) -> list[StatementInfo]:
        """The learner's profession first (UI.md), the rest after."""
        return sorted(self.accreditation, key=lambda s: s.profession != profession)


def _queued_sha256s(session) -> set[str]:
    """Blobs with a download job waiting, running or paused (shown as `queued`)."""
    return set(session.scalars(select(m.DownloadJob.sha256).where(m.DownloadJob.state.in_(ACTIVE_JOB_STATES))))


def _asset_infos(assets: list[m.Asset], blobs: BlobStore | BlobScan, queued: set[str],
                 videos: list[list[Choice]], wanted: Quality | None) -> tuple[AssetInfo, ...]:
    """One activity's assets; each video as the form standing in for it (`videos`: each
    video's forms, the original first, as `every_video_forms` gives them)."""
    out, forms_of = [], {forms[0].sha256: forms for forms in videos}
    for x in assets:
        sha, size, media_type, url, quality = x.sha256, x.size, x.media_type, x.url, None
        if x.kind == "video" and x.sha256 in forms_of:
            form = form_standing_in(forms_of[x.sha256], wanted, lambda s: blobs.state(s) is LocalState.present)
            if form is not None:
                sha, size, media_type, url, quality = form.sha256, form.size, form.media_type, form.url, form.quality
        out.append(AssetInfo(x.kind, x.title, media_type, size, sha, url, x.language, x.timed,
                             blobs.state(sha, queued=sha in queued), quality))
    return tuple(out)


def library_rows(db: Database, blobs: BlobStore) -> list[LibraryRow]:
    """The library as the first paint reads it, with each video's form as a Quality."""
    return [replace(r, video_quality=Quality(r.video_quality)) if r.video_quality else r
            for r in read_library(db.path, blobs)]


def activity_titles(db: Database, activity_ids: list[str]) -> dict[str, str]:
    """id -> title of these activities (those in the cache), in one read."""
    with db.read() as session:
        rows = session.execute(select(m.Activity.id, m.Activity.title).where(m.Activity.id.in_(activity_ids)))
        return {activity_id: title for activity_id, title in rows}


def activity_detail(db: Database, blobs: BlobStore, activity_id: str) -> ActivityDetail | None:
    with db.read() as session:
        a = session.get(m.Activity, activity_id)
        if a is None:
            return None
        queued = _queued_sha256s(session)
        return ActivityDetail(
            id=a.id,
            version=a.version,
            title=a.title,
            description=a.description,
            highlights=tuple(a.highlights),
            format=a.format,
            audience=a.audience,
            release_date=a.release_date,
            review_date=a.review_date,
            termination_date=a.termination_date,
            estimated_minutes=a.estimated_minutes,
            providers=tuple(a.providers),
            commercial_support=a.commercial_support,
            off_label_statement=a.off_label_statement,
            transcript_machine_generated=a.transcript_machine_generated,
            faculty=tuple(
                (f.name, f.credentials, ", ".join(x for x in (f.title, f.affiliation) if x), f.bio)
                for f in a.faculty
            ),
            disclosures=tuple(
                (d.person, d.role, d.company, d.nature, d.mitigated) for d in a.disclosures
            ),
            objectives=_objective_tree(a.objectives),
            accreditation=tuple(
                StatementInfo(
                    s.profession, s.provider, s.credit_type, s.max_credits, s.statement,
                    s.uan, s.activity_type, s.contact_hours,
                )
                for s in a.accreditation
            ),
            assets=_asset_infos(a.assets, blobs, queued, every_video_forms(db, [a.id]).get(a.id, []),
                                video_choice(db, a.id).wanted),
        )


def _objective_tree(rows: list[m.Objective]) -> tuple[ObjectiveInfo, ...]:
    children: dict[int | None, list[m.Objective]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)

    def build(parent_id: int | None) -> tuple[ObjectiveInfo, ...]:
        kids = sorted(children.get(parent_id, []), key=lambda r: r.position)
        return tuple(ObjectiveInfo(r.text, build(r.id)) for r in kids)

    return build(None)


def activity_exists(db: Database, activity_id: str) -> bool:
    with db.read() as session:
        return session.get(m.Activity, activity_id) is not None


def sync_state(db: Database, server_url: str) -> m.SyncState | None:
    with db.read() as session:
        return session.get(m.SyncState, server_url)


def assets_by_activity(db: Database, blobs: BlobStore) -> dict[str, list[AssetInfo]]:
    """Every cached asset with its local state, grouped by activity (one query, one disk scan)."""
    scan = blobs.scan()
    with db.read() as session:
        queued = _queued_sha256s(session)
        rows: dict[str, list[m.Asset]] = {}
        for x in session.scalars(select(m.Asset).order_by(m.Asset.activity_id, m.Asset.position)):
            rows.setdefault(x.activity_id, []).append(x)
        forms, choices = every_video_forms(db), video_choices(db)
        return {activity_id: list(_asset_infos(assets, scan, queued, forms.get(activity_id, []),
                                               choices[activity_id].wanted if activity_id in choices else None))
                for activity_id, assets in rows.items()}
