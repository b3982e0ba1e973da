"""The forms of each activity's video as the cache holds them (the catalog's original and its
renditions), which one this machine wants, and which one is here.

The forms come out as cmecore.renditions `Choice`s built by `offered` (one rule for what an
activity offers, largest first); which present file stands for the video is
`video_in_use.form_in_use` (shared with the library's first paint). `video_choices` keeps
the wanted quality per activity and, while a switch is under way, the quality it replaces:
that file goes only once the new one is verified.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from cmecore.protocol import Asset, AssetKind, Rendition, RenditionKind
from cmecore.renditions import Choice, Quality, offered
from desktop.cache import models as m
from desktop.cache.blobstore import BlobStore
from desktop.cache.db import Database
from desktop.cache.video_in_use import StoredForm, form_in_use


@dataclass(frozen=True)
class VideoForm:
    """One form of an activity's video as the learner may choose it (largest first in lists)."""

    quality: Quality
    size: int
    width: int | None
    height: int | None
    bitrate: int | None  # bits per second, all streams
    duration_ms: int | None
    media_type: str
    on_machine: bool  # its file is here, verified
    wanted: bool  # the form chosen for this machine


@dataclass(frozen=True)
class VideoChoiceInfo:
    wanted: Quality | None  # None: never chosen here (the settings' quality applies)
    replaces: Quality | None  # a switch under way: the form removed once `wanted` is verified


def video_forms_by_activity(db: Database, activity_ids: list[str] | None = None) -> dict[str, list[Choice]]:
    """Each activity's video forms (its first video: the one played, chosen and switched),
    largest first; an activity without a video is left out. A catalog with no renditions
    gives the original alone."""
    return {activity_id: videos[0] for activity_id, videos in every_video_forms(db, activity_ids).items()}


def every_video_forms(db: Database, activity_ids: list[str] | None = None) -> dict[str, list[list[Choice]]]:
    """Each activity's videos in catalog order (the first is the one played), each as its
    forms, largest first (so `forms[0]` is the original the catalog lists as the asset)."""
    with db.read() as s:
        return _forms(s, activity_ids)


def video_forms(db: Database, activity_id: str) -> list[Choice]:
    return video_forms_by_activity(db, [activity_id]).get(activity_id, [])


def _forms(s: Session, activity_ids: list[str] | None) -> dict[str, list[list[Choice]]]:
    query = select(m.Asset).where(m.Asset.kind == "video").order_by(m.Asset.activity_id, m.Asset.position)
    if activity_ids is not None:
        query = query.where(m.Asset.activity_id.in_(activity_ids))
    found: dict[str, list[list[Choice]]] = {}
    for row in s.scalars(query):
        found.setdefault(row.activity_id, []).append(offered(_protocol_asset(row)))
    return found


def _protocol_asset(row: m.Asset) -> Asset:
    """The stored row as the protocol's Asset (validated when the catalog was applied)."""
    kinds = {k.value for k in RenditionKind}
    renditions = [
        Rendition.model_construct(kind=RenditionKind(r.kind), media_type=r.media_type, size=r.size, sha256=r.sha256,
                                  url=r.url, duration_ms=r.duration_ms, width=r.width, height=r.height,
                                  bitrate=r.bitrate)
        for r in row.renditions if r.kind in kinds  # a kind a newer server invented: not offered here
    ]
    return Asset.model_construct(kind=AssetKind(row.kind), media_type=row.media_type, size=row.size,
                                 sha256=row.sha256, url=row.url, duration_ms=row.duration_ms, width=row.width,
                                 height=row.height, bitrate=row.bitrate, renditions=renditions)


def video_choice(db: Database, activity_id: str) -> VideoChoiceInfo:
    with db.read() as s:
        row = s.get(m.VideoChoice, activity_id)
        if row is None:
            return VideoChoiceInfo(None, None)
        return VideoChoiceInfo(_quality(row.quality), _quality(row.replaces))


def video_choices(db: Database) -> dict[str, VideoChoiceInfo]:
    with db.read() as s:
        return {r.activity_id: VideoChoiceInfo(_quality(r.quality), _quality(r.replaces))
                for r in s.scalars(select(m.VideoChoice))}


def set_video_choice(db: Database, activity_id: str, wanted: Quality, replaces: Quality | None = None) -> None:
    """Record the form wanted here (and the form a switch removes once it is verified)."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with db.write() as s:
        if s.get(m.Activity, activity_id) is None:
            return  # withdrawn meanwhile: nothing to remember
        row = s.get(m.VideoChoice, activity_id)
        if row is None:
            s.add(m.VideoChoice(activity_id=activity_id, quality=wanted.value,
                                replaces=replaces.value if replaces else None, updated_at=now))
        else:
            row.quality, row.replaces, row.updated_at = wanted.value, replaces.value if replaces else None, now


def form_here(forms: list[Choice], wanted: Quality | None, blobs: BlobStore) -> Choice | None:
    """The form whose file is here and stands for the video (video_in_use.form_in_use), or None."""
    found = form_standing_in(forms, wanted, lambda sha: blobs.path_for(sha).is_file())
    return found if found is not None and blobs.path_for(found.sha256).is_file() else None


def form_standing_in(forms: list[Choice], wanted: Quality | None, present: Callable[[str], bool]) -> Choice | None:
    """The form that stands for the video: the one here (video_in_use.form_in_use), else the
    wanted one (what a download fetches); None without forms."""
    found = form_in_use([StoredForm(f.quality.value, f.sha256, f.size) for f in forms],
                        wanted.value if wanted else None, present)
    return None if found is None else next(f for f in forms if f.quality.value == found.quality)


def blob_used_elsewhere(db: Database, sha256: str, activity_id: str) -> bool:
    """Whether another activity lists this blob (as an asset or as a form of its video)."""
    with db.read() as s:
        asset = s.scalars(select(m.Asset.id).where(m.Asset.sha256 == sha256, m.Asset.activity_id != activity_id)
                          .limit(1)).first()
        if asset is not None:
            return True
        other = (select(m.AssetRendition.id).join(m.Asset, m.Asset.id == m.AssetRendition.asset_id)
                 .where(m.AssetRendition.sha256 == sha256, m.Asset.activity_id != activity_id).limit(1))
        return s.scalars(other).first() is not None


def _quality(value: str | None) -> Quality | None:
    try:
        return Quality(value) if value else None
    except ValueError:
        return None  # written by a newer version: as if never chosen
