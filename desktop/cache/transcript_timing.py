"""What the timing of an activity's transcript depends on, and the timing the search index holds.

An untimed transcript's cues are spread over a media length (desktop/services/transcripts.py
chooses which). The facts it chooses from are read here in one query per call, for one
activity or all: each transcript asset in catalog order, the catalog's length of the
activity's first video, the length a player on this computer last learnt (watch progress,
any learner: it is the same file), and the timing recorded with the search rows
(`transcript_timings`). `replace_transcript_index` writes the rows and that record in one
transaction, so the record always describes what the index holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from desktop.cache import models as m
from desktop.cache.db import Database
from desktop.cache.search_index import CueLike, index_transcript_in


@dataclass(frozen=True)
class IndexedTiming:
    sha256: str
    basis: str  # file | catalog | played | nominal
    length_ms: int | None


@dataclass(frozen=True)
class TranscriptFacts:
    """One transcript asset and what its timing may depend on."""

    activity_id: str
    sha256: str
    media_type: str
    timing: str  # the catalog's: "file", or "audio" (the server timed it from the speech)
    catalog_length_ms: int | None  # the first video's duration_ms from the catalog
    played_length_ms: int | None  # the length a player here last reported for this activity
    indexed: IndexedTiming | None  # what the search index holds for the activity (None: no record)


def transcript_facts(db: Database, activity_id: str | None = None) -> list[TranscriptFacts]:
    """Every transcript asset (of one activity, or of all), activities by id, assets in catalog order."""
    video = m.Asset.__table__.alias("video")
    catalog_length = (
        select(video.c.duration_ms)
        .where(video.c.activity_id == m.Asset.activity_id, video.c.kind == "video")
        .order_by(video.c.position).limit(1).scalar_subquery()
    )
    played_length = (
        select(m.WatchProgress.duration_ms)
        .where(m.WatchProgress.activity_id == m.Asset.activity_id, m.WatchProgress.duration_ms > 0)
        .order_by(m.WatchProgress.updated_at.desc()).limit(1).scalar_subquery()
    )
    t = m.TranscriptTiming
    query = (
        select(m.Asset.activity_id, m.Asset.sha256, m.Asset.media_type, m.Asset.timing, catalog_length, played_length,
               t.sha256, t.basis, t.length_ms)
        .outerjoin(t, t.activity_id == m.Asset.activity_id)
        .where(m.Asset.kind == "transcript")
        .order_by(m.Asset.activity_id, m.Asset.position)
    )
    if activity_id is not None:
        query = query.where(m.Asset.activity_id == activity_id)
    with db.read() as s:
        return [
            TranscriptFacts(a, sha, media_type, timing or "file", catalog or None, played or None,
                            IndexedTiming(t_sha, basis, length) if t_sha is not None else None)
            for a, sha, media_type, timing, catalog, played, t_sha, basis, length in s.execute(query)
        ]


def replace_transcript_index(db: Database, activity_id: str, timing: IndexedTiming, cues: Sequence[CueLike]) -> None:
    """The activity's transcript rows in search become `cues`, recorded as timed by `timing`."""
    with db.write() as s:
        index_transcript_in(s, activity_id, cues)
        row = s.get(m.TranscriptTiming, activity_id)
        if row is None:
            row = m.TranscriptTiming(activity_id=activity_id)
            s.add(row)
        row.sha256, row.basis, row.length_ms = timing.sha256, timing.basis, timing.length_ms
