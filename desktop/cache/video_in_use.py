"""Which form of an activity's video stands for it on this machine, with the standard library
alone (the library's first paint reads it before SQLAlchemy or pydantic are imported).

The form in use is the wanted one (`video_choices`) when its file is here; else any other
form whose file is here (one a pack or the shared folder brought, or the old form while a
switch is under way), largest first; else, with nothing here, the wanted form (what a
download fetches). Which form to *fetch* is cmecore.renditions.choose; this only says which
of the files present is played and counted.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

# cmecore.renditions' names, as plain strings (importing it brings pydantic): a test checks
# they agree with Quality, RANK and QUALITY_OF.
QUALITIES_LARGEST_FIRST = ("best", "small", "audio")
QUALITY_OF_KIND = {"original": "best", "small": "small", "audio": "audio"}


@dataclass(frozen=True)
class StoredForm:
    quality: str  # cmecore.renditions.Quality's value
    sha256: str
    size: int


def form_in_use(forms: list[StoredForm], wanted: str | None, present: Callable[[str], bool]) -> StoredForm | None:
    """The form that stands for the video: the wanted one if here, else any form here (largest
    first), else the wanted one (None wanted: the original). None only with no forms at all."""
    by_quality = {f.quality: f for f in forms}
    order = [q for q in QUALITIES_LARGEST_FIRST if q in by_quality]
    if wanted in by_quality:
        order.remove(wanted)
        order.insert(0, wanted)
    for quality in order:
        if present(by_quality[quality].sha256):
            return by_quality[quality]
    if wanted in by_quality:
        return by_quality[wanted]
    return by_quality.get("best") or (by_quality[order[0]] if order else None)


def stored_forms(conn: sqlite3.Connection) -> tuple[dict[str, list[list[StoredForm]]], dict[str, str]]:
    """Every activity's videos in catalog order (the first is the one played), each as its
    forms, the original first; and the quality wanted per activity (it applies to each of its
    videos); in three narrow selects."""
    videos: dict[str, list[list[StoredForm]]] = {}
    by_asset: dict[int, list[StoredForm]] = {}  # asset id -> that video's forms
    for asset_id, activity_id, sha, size in conn.execute(
        "SELECT id, activity_id, sha256, size FROM assets WHERE kind = 'video' ORDER BY activity_id, position"
    ):
        by_asset[asset_id] = [StoredForm("best", sha, size)]
        videos.setdefault(activity_id, []).append(by_asset[asset_id])
    for asset_id, kind, sha, size in conn.execute(
        "SELECT asset_id, kind, sha256, size FROM asset_renditions ORDER BY asset_id, position"
    ):
        forms, quality = by_asset.get(asset_id), QUALITY_OF_KIND.get(kind)
        if forms is None or quality is None or any(f.quality == quality for f in forms):
            continue  # not a video's form, a kind this version does not know, or a second of one kind
        forms.append(StoredForm(quality, sha, size))
    wanted = dict(conn.execute("SELECT activity_id, quality FROM video_choices"))
    return videos, wanted
