"""Writing a validated catalog into the cache, all or nothing.

Withdrawals are remembered (`WithdrawnActivity`, with the catalog revision they were learnt
at) after the activity's row is gone, so a content pack made earlier cannot bring the
activity back; a catalog or a newer pack that holds the activity again clears the record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cmecore import protocol
from desktop.cache import models as m
from desktop.cache import search
from desktop.cache.db import Database
from desktop.errors import CatalogApplyError

# Statement fields only the server's reports use (the ACCME activity id, for `report --pars`):
# the cache keeps no column for them.
SERVER_ONLY_STATEMENT_FIELDS = frozenset({"accme_activity_id"})
# Issue 14's asset fields this cache has no columns for yet (s14-desktop stores them).
NOT_CACHED_ASSET_FIELDS = frozenset({"renditions", "width", "height", "bitrate"})


def apply_catalog(
    db: Database,
    catalog: protocol.Catalog,
    *,
    server_url: str,
    etag: str | None,
    synced_at: datetime,
    clock_offset_ms: int | None,
) -> int:
    """Apply `catalog` and the new sync state in one transaction; returns activities changed."""
    with db.write() as session:
        if catalog.full:
            keep = {a.id for a in catalog.activities}
            session.execute(delete(m.Activity).where(m.Activity.id.not_in(keep)))
        if catalog.withdrawn:
            session.execute(delete(m.Activity).where(m.Activity.id.in_(catalog.withdrawn)))
        put_back = _remember_withdrawals(session, catalog, synced_at)
        if catalog.full or catalog.withdrawn or put_back:
            # Bulk deletes bypass the ORM, and FTS rows have no foreign key: drop them here.
            search.remove_orphans(session)
        for activity in catalog.activities:
            _upsert_activity(session, activity, synced_at)
        session.flush()
        search.index_titles(session, [(a.id, a.title, a.description) for a in catalog.activities])
        if catalog.full:
            count = session.scalar(select(func.count()).select_from(m.Activity))
            if count != len(catalog.activities):  # Anki's habit: check before committing
                raise CatalogApplyError(
                    f"The catalog could not be stored as the server sent it ({len(catalog.activities)} "
                    f"activities, but {count} were stored); nothing was changed. Sync again later."
                )
        state = _state(session, server_url)
        state.catalog_cursor = catalog.cursor
        state.catalog_etag = etag
        state.last_sync_at = synced_at
        state.last_attempt_at = synced_at
        state.last_error = None
        state.last_error_code = None
        state.clock_offset_ms = clock_offset_ms
    return len(catalog.activities) + len(catalog.withdrawn)


@dataclass(frozen=True)
class PackApplied:
    """What a content pack's activities did to the cache (ids, in the pack's order)."""

    written: list[str] = field(default_factory=list)
    older: list[str] = field(default_factory=list)  # the cache holds a newer version: left as it is
    withdrawn: list[str] = field(default_factory=list)  # withdrawn after the pack was issued: not added


def apply_activities(
    db: Database, activities: list[protocol.Activity], *, synced_at: datetime, issued_revision: int | None = None,
) -> PackApplied:
    """Add or update these activities in one transaction without touching the sync state
    (a content pack: the catalog cursor and ETag stay the server's).

    An activity is skipped when the cache holds it in a newer version, or when this cache
    learnt of its withdrawal at a catalog revision the pack was not issued after
    (`issued_revision`: the pack's signed revision; None, a pack that carries none, is
    older than any withdrawal). An activity a newer pack holds again was published again:
    its withdrawal record goes."""
    applied = PackApplied()
    with db.write() as session:
        for activity in activities:
            gone = session.get(m.WithdrawnActivity, activity.id)
            if gone is not None:
                if issued_before(issued_revision, gone.known_at_revision):
                    applied.withdrawn.append(activity.id)
                    continue
                session.delete(gone)
            row = session.get(m.Activity, activity.id)
            if row is not None and row.version > activity.version:
                applied.older.append(activity.id)
                continue
            _upsert_activity(session, activity, synced_at)
            applied.written.append(activity.id)
        session.flush()
        search.index_titles(session, [(a.id, a.title, a.description) for a in activities if a.id in applied.written])
    return applied


def _remember_withdrawals(session: Session, catalog: protocol.Catalog, at: datetime) -> int:
    """Record the catalog's withdrawals at its cursor, forget those published again, and drop
    any cached activity still recorded as withdrawn (one an older pack put back before)."""
    live = [a.id for a in catalog.activities]
    if live:
        session.execute(delete(m.WithdrawnActivity).where(m.WithdrawnActivity.activity_id.in_(live)))
    for activity_id in dict.fromkeys(catalog.withdrawn):
        if activity_id in live:
            continue
        row = session.get(m.WithdrawnActivity, activity_id)
        if row is None:
            session.add(m.WithdrawnActivity(activity_id=activity_id, known_at_revision=catalog.cursor, learnt_at=at))
        else:
            row.known_at_revision, row.learnt_at = catalog.cursor, at
    session.flush()
    gone = session.execute(delete(m.Activity).where(m.Activity.id.in_(select(m.WithdrawnActivity.activity_id))))
    return gone.rowcount or 0


def issued_before(issued_revision: int | None, known_at_revision: int) -> bool:
    """Whether a pack issued at `issued_revision` (None: not known) comes from before a
    withdrawal learnt at `known_at_revision`. At that revision the activity was already
    withdrawn, so only a pack issued after it can hold the activity published again."""
    return issued_revision is None or issued_revision <= known_at_revision


def pack_skips(db: Database, activities: list[protocol.Activity], issued_revision: int | None) -> set[str]:
    """Those of `activities` a pack issued at `issued_revision` will not write: older than
    the cached version, or withdrawn (read only: `apply_activities` decides again in its own
    transaction; this lets an import leave their files out)."""
    ids = [a.id for a in activities]
    with db.read() as session:
        gone = session.scalars(select(m.WithdrawnActivity).where(m.WithdrawnActivity.activity_id.in_(ids)))
        skips = {r.activity_id for r in gone if issued_before(issued_revision, r.known_at_revision)}
        cached = {row.id: row.version for row in
                  session.execute(select(m.Activity.id, m.Activity.version).where(m.Activity.id.in_(ids)))}
    return skips | {a.id for a in activities if a.id in cached and cached[a.id] > a.version}


def _upsert_activity(session: Session, src: protocol.Activity, synced_at: datetime) -> None:
    row = session.get(m.Activity, src.id)
    if row is None:
        row = m.Activity(id=src.id)
        session.add(row)
    row.version = src.version
    row.title = src.title
    row.description = src.description
    row.highlights = list(src.highlights)
    row.format = src.format
    row.audience = src.audience
    row.release_date = src.release_date
    row.review_date = src.review_date
    row.termination_date = src.termination_date
    row.estimated_minutes = src.estimated_minutes
    row.providers = list(src.providers)
    row.commercial_support = src.commercial_support
    row.off_label_statement = src.off_label_statement
    row.transcript_machine_generated = src.transcript_machine_generated
    row.assessment = src.assessment.model_dump(mode="json") if src.assessment else None
    row.evaluation = [q.model_dump(mode="json") for q in src.evaluation]
    row.evaluation_opens = src.evaluation_opens
    row.min_watched_share = src.participation.min_watched_share
    row.synced_at = synced_at
    # Children are replaced wholesale: the catalog is the truth for front matter.
    row.faculty = [
        m.Faculty(position=i, **f.model_dump()) for i, f in enumerate(src.faculty)
    ]
    row.disclosures = [
        m.Disclosure(position=i, **d.model_dump()) for i, d in enumerate(src.disclosures)
    ]
    row.accreditation = [
        m.AccreditationStatement(position=i, **a.model_dump(mode="json", exclude=SERVER_ONLY_STATEMENT_FIELDS))
        for i, a in enumerate(src.accreditation)
    ]
    row.assets = [
        m.Asset(position=i, **a.model_dump(mode="json", exclude=NOT_CACHED_ASSET_FIELDS)) for i, a in enumerate(src.assets)
    ]
    row.objectives = list(_objective_rows(src.objectives, parent=None))


def _objective_rows(objectives: Iterable[protocol.Objective], parent: m.Objective | None):
    for i, objective in enumerate(objectives):
        row = m.Objective(position=i, text=objective.text)
        if parent is not None:
            row.parent = parent
        yield row
        yield from _objective_rows(objective.children, parent=row)


def _state(session: Session, server_url: str) -> m.SyncState:
    state = session.get(m.SyncState, server_url)
    if state is None:
        state = m.SyncState(server_url=server_url)
        session.add(state)
    return state


def record_sync_not_modified(
    db: Database, server_url: str, *, synced_at: datetime, clock_offset_ms: int | None
) -> None:
    with db.write() as session:
        state = _state(session, server_url)
        state.last_sync_at = synced_at
        state.last_attempt_at = synced_at
        state.last_error = None
        state.last_error_code = None
        if clock_offset_ms is not None:
            state.clock_offset_ms = clock_offset_ms


def record_sync_failure(db: Database, server_url: str, message: str, code: str | None, at: datetime) -> None:
    """Remember the failure (its message and its error code) for the status bar; the
    catalog rows stay as they were."""
    with db.write() as session:
        state = _state(session, server_url)
        state.last_attempt_at = at
        state.last_error = message
        state.last_error_code = code
