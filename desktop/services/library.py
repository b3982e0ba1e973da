"""The library, offline: the list of activities with what is downloaded, one activity's
details, and search over titles, summaries and transcript cues."""

from __future__ import annotations

from desktop.cache.blobstore import BlobStore
from desktop.cache.db import Database
from desktop.cache.library import ActivityDetail, AssetInfo, LibraryRow, activity_detail, assets_by_activity, library_rows
from desktop.cache.search import SearchHit, search


class LibraryService:
    def __init__(self, db: Database, blobs: BlobStore):
        self.db = db
        self.blobs = blobs

    def library_rows(self) -> list[LibraryRow]:
        return library_rows(self.db, self.blobs)

    def activity_detail(self, activity_id: str) -> ActivityDetail | None:
        return activity_detail(self.db, self.blobs, activity_id)

    def assets(self) -> dict[str, list[AssetInfo]]:
        """Every cached asset with what is on disk, by activity id."""
        return assets_by_activity(self.db, self.blobs)

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Titles, summaries and transcript cues matching what the user typed."""
        return search(self.db, query, limit=limit)
