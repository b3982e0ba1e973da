"""The watch page's queries: an activity's media files (and which activities use a file), and
a learner's watch progress.

Plain dataclasses out; no ORM object leaves a session. Watch progress is per learner and
activity (`watch_progress`); saving merges the watched ranges with what is stored, so a
save can never forget something watched (two windows, or a save that arrives late).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select

from desktop.cache import models as m
from desktop.cache.db import Database
from desktop.learning.progress import WatchedIntervals


@dataclass(frozen=True)
class AssetRef:
    kind: str
    title: str
    media_type: str
    sha256: str
    language: str
    timed: bool
    activity_id: str = ""
    timing: str = "file"  # a timed transcript's timings: "file" (the provider's) or "audio" (the server's)


@dataclass(frozen=True)
class WatchProgressInfo:
    position_ms: int
    duration_ms: int
    watched: WatchedIntervals
    updated_at: datetime | None

    @property
    def watched_share(self) -> float:
        return self.watched.share(self.duration_ms)


def activity_assets(db: Database, activity_id: str, kind: str | None = None) -> list[AssetRef]:
    """An activity's assets in catalog order, optionally of one kind."""
    query = select(m.Asset).where(m.Asset.activity_id == activity_id).order_by(m.Asset.position)
    if kind is not None:
        query = query.where(m.Asset.kind == kind)
    with db.read() as s:
        return [_ref(a) for a in s.scalars(query)]


def assets_of_blob(db: Database, sha256: str) -> list[AssetRef]:
    """Every asset (of any activity) whose file is this blob, a form of a video among them:
    one file may serve several."""
    with db.read() as s:
        found = [_ref(a) for a in s.scalars(select(m.Asset).where(m.Asset.sha256 == sha256))]
        forms = s.execute(select(m.Asset, m.AssetRendition.media_type)
                          .join(m.AssetRendition, m.AssetRendition.asset_id == m.Asset.id)
                          .where(m.AssetRendition.sha256 == sha256))
        # Another form of a video (schema 0013) serves its activity as the video does.
        found += [replace(_ref(a), media_type=media_type, sha256=sha256) for a, media_type in forms]
        return found


def activities_using(db: Database, sha256s: set[str]) -> set[str]:
    """The activities one of these blobs serves (as an asset, or as a form of a video)."""
    if not sha256s:
        return set()
    with db.read() as s:
        found = set(s.scalars(select(m.Asset.activity_id).where(m.Asset.sha256.in_(sha256s))))
        found.update(s.scalars(select(m.Asset.activity_id)
                               .join(m.AssetRendition, m.AssetRendition.asset_id == m.Asset.id)
                               .where(m.AssetRendition.sha256.in_(sha256s))))
        return found


def videos_only_in(db: Database, activity_id: str) -> set[str]:
    """The SHA-256 of this activity's videos that no other activity uses (safe to delete)."""
    with db.read() as s:
        videos = set(s.scalars(
            select(m.Asset.sha256).where(m.Asset.activity_id == activity_id, m.Asset.kind == "video")
        ))
        shared = set(s.scalars(
            select(m.Asset.sha256).where(m.Asset.sha256.in_(videos), m.Asset.activity_id != activity_id)
        ))
    return videos - shared


def _ref(a: m.Asset) -> AssetRef:
    return AssetRef(a.kind, a.title, a.media_type, a.sha256, a.language, a.timed, a.activity_id, a.timing)


def load_watch_progress(db: Database, learner_id: str, activity_id: str) -> WatchProgressInfo | None:
    with db.read() as s:
        row = s.get(m.WatchProgress, (learner_id, activity_id))
        if row is None:
            return None
        return WatchProgressInfo(row.position_ms, row.duration_ms, _watched(row.watched), row.updated_at)


def save_watch_progress(
    db: Database,
    learner_id: str,
    activity_id: str,
    position_ms: int,
    duration_ms: int,
    watched: WatchedIntervals,
    now: datetime,
) -> WatchProgressInfo:
    """Store where the learner is and what they watched (merged with what was stored)."""
    with db.write() as s:
        row = s.get(m.WatchProgress, (learner_id, activity_id))
        if row is None:
            row = m.WatchProgress(learner_id=learner_id, activity_id=activity_id)
            s.add(row)
            merged = WatchedIntervals(watched.intervals)
        else:
            merged = _watched(row.watched)
            for start, end in watched.intervals:
                merged.add(start, end)
        row.position_ms = max(0, int(position_ms))
        if duration_ms > 0 or not row.duration_ms:
            row.duration_ms = max(0, int(duration_ms))
        row.watched = merged.to_json()
        row.updated_at = now
        return WatchProgressInfo(row.position_ms, row.duration_ms, merged, now)


def save_media_length(db: Database, learner_id: str, activity_id: str, length_ms: int, now: datetime) -> None:
    """The player found the video's length: keep it in the learner's progress (position and
    watched ranges untouched; a learner with none yet gets an empty record at 0)."""
    if length_ms <= 0:
        return
    with db.write() as s:
        row = s.get(m.WatchProgress, (learner_id, activity_id))
        if row is None:
            s.add(m.WatchProgress(learner_id=learner_id, activity_id=activity_id, position_ms=0,
                                  duration_ms=int(length_ms), watched=[], updated_at=now))
        elif row.duration_ms != length_ms:
            row.duration_ms = int(length_ms)
            row.updated_at = now


def _watched(data: object) -> WatchedIntervals:
    try:
        return WatchedIntervals.from_json(data)
    except ValueError:
        return WatchedIntervals()  # a damaged row: start the record afresh rather than fail
