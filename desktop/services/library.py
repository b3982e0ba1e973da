"""The library, offline: the list of activities with what is downloaded, one activity's
details, and search over titles, summaries and transcript cues.

Search obeys the disclosure gate (rule 1) as every read of the content does: the index
holds every learner's downloads, but a transcript or summary is shown only to a learner who
has acknowledged that activity's disclosures (ContentService.is_open, the one gate). For
anyone else such matches become one `locked` hit per activity with none of their text, so the
learner learns where to look, not what it says; titles and descriptions are the catalog's
and are always shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime

from cmecore.rules.availability import availability, corrected_now
from desktop.cache.blobstore import BlobStore
from desktop.cache.db import Database
from desktop.cache.library import (ActivityDetail, AssetInfo, LibraryRow, activity_detail, activity_titles,
                                   assets_by_activity, library_rows)
from desktop.cache.search import KIND_SUMMARY, KIND_TRANSCRIPT, SearchHit, search
from desktop.cache.server_state import clock_offset_ms
from desktop.errors import ContentLocked
from desktop.services.connection import Connection

# A match in a transcript or summary the learner may not read yet (rule 1): no time, and in
# place of the matched text this sentence (the GUI and the CLI show it as it is).
KIND_LOCKED = ContentLocked.code
LOCKED_SNIPPET = ("Found in its transcript or summaries, which open after you read and acknowledge "
                  "the disclosures on the Overview tab.")
CONTENT_KINDS = (KIND_SUMMARY, KIND_TRANSCRIPT)


class LibraryService:
    def __init__(self, db: Database, blobs: BlobStore, connection: Connection,
                 content_open: Callable[[str], bool]):
        self.db = db
        self.blobs = blobs
        self.connection = connection  # whose clock corrects ours (rule 3 is judged on it)
        self.content_open = content_open  # the disclosure gate: ContentService.is_open

    def library_rows(self) -> list[LibraryRow]:
        """Every cached activity; those over (rule 3, server-corrected clock) say why in `ended`."""
        now = corrected_now(clock_offset_ms(self.db, self.connection.server_url))
        return [_judged(row, now) for row in library_rows(self.db, self.blobs)]

    def activity_detail(self, activity_id: str) -> ActivityDetail | None:
        return activity_detail(self.db, self.blobs, activity_id)

    def titles(self, activity_ids: list[str]) -> dict[str, str]:
        """id -> title of these activities, in one quick local read."""
        return activity_titles(self.db, activity_ids)

    def assets(self) -> dict[str, list[AssetInfo]]:
        """Every cached asset with what is on disk, by activity id."""
        return assets_by_activity(self.db, self.blobs)

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Titles, summaries and transcript cues matching what the user typed, behind the
        disclosure gate of the learner signed in now (see the module docstring)."""
        return behind_gate(search(self.db, query, limit=limit), self.content_open)


def behind_gate(hits: Iterable[SearchHit], content_open: Callable[[str], bool]) -> list[SearchHit]:
    """The hits in their order, but a transcript or summary hit of an activity whose content is
    not open becomes one KIND_LOCKED hit for that activity, where its first such hit was,
    with LOCKED_SNIPPET for its text and no label or time. The gate is asked once per activity."""
    opened: dict[str, bool] = {}
    out: list[SearchHit] = []
    for hit in hits:
        if hit.kind not in CONTENT_KINDS:
            out.append(hit)
            continue
        if hit.activity_id not in opened:
            opened[hit.activity_id] = content_open(hit.activity_id)
            if not opened[hit.activity_id]:
                out.append(replace(hit, kind=KIND_LOCKED, time_ms=None, snippet=LOCKED_SNIPPET, label=None))
        if opened[hit.activity_id]:
            out.append(hit)
    return out


def _judged(row: LibraryRow, now_corrected: datetime) -> LibraryRow:
    """The row with `ended` set when the activity is over (terminated or past the 3-year limit)."""
    avail = availability(row.release_date, row.review_date, row.termination_date, now_corrected)
    return replace(row, ended=avail.reason) if avail.over else row
