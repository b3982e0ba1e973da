"""For IT: filling a shared content folder (prefetch), content packs for machines with no
network, and the shared content folder this computer reads from.

Thin wiring: the work is in `desktop/sync/prefetch.py` and `desktop/sync/packs.py`, which
get exactly the collaborators they use.
"""

from __future__ import annotations

from pathlib import Path

from desktop.cache.blobstore import BlobStore
from desktop.cache.db import Database
from desktop.services.config import ConfigService
from desktop.services.connection import Connection
from desktop.services.downloads import DownloadsService
from desktop.services.syncing import SyncService
from desktop.sync.downloads import DownloadPolicy, DownloadSummary
from desktop.sync.packs import ExportReport, ImportReport, export_pack, import_pack
from desktop.sync.prefetch import PrefetchReport, prefetch


class DeploymentService:
    def __init__(self, db: Database, blobs: BlobStore, connection: Connection, config: ConfigService,
                 syncing: SyncService, downloads: DownloadsService):
        self.db = db
        self.blobs = blobs
        self.connection = connection
        self.config = config
        self.syncing = syncing  # packs and prefetch start from the catalog as the server has it now
        self.downloads = downloads  # a pack's media are downloaded first if missing

    def prefetch(self, folder, activity_ids: list[str] | None = None, *, sync_first: bool = True) -> PrefetchReport:
        """Fill `folder` (a shared content folder, ab/<sha256>) with these activities' files
        (None: all). Resumable (.part files in `folder`), verified."""
        if sync_first:
            self.syncing.sync()
        return prefetch(
            self.db, Path(folder), activity_ids, server_url=self.connection.require_server(),
            account=self.connection.account(), new_client=self.connection.new_client,
            policy=DownloadPolicy.from_settings(self.config.settings),
        )

    def export_pack(self, activity_ids: list[str], out) -> ExportReport:
        """Write a content pack (server-signed metadata + media) for these activities; needs the server."""
        connection = self.connection
        return export_pack(
            list(activity_ids), Path(out), db=self.db, store=self.blobs, api=connection.api(),
            account=connection.account(), server_url=connection.require_server(), policy_key=self._policy_key(),
            sync=self.syncing.sync, download=self._download_now,
        )

    def import_pack(self, path) -> ImportReport:
        """Verify a content pack whole (hashes, the server's signature) and add it; works offline."""
        return import_pack(
            Path(path), db=self.db, store=self.blobs, server_url=self.connection.server_url,
            policy_key=self._policy_key(), on_blob_added=self.downloads.asset_arrived,
        )

    def _download_now(self, activity_ids: list[str]) -> DownloadSummary:
        """Download these activities' missing files now, whatever the download hours say."""
        self.downloads.enqueue(activity_ids)
        return self.downloads.run(policy=DownloadPolicy.from_settings(self.config.settings, download_window=None))

    def _policy_key(self) -> str | None:
        return self.config.policy.get("server_public_key")
