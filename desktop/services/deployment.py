"""For IT: filling a shared content folder (prefetch), content packs for machines with no
network, and the shared content folder this computer reads from.

Thin wiring: the work is in `desktop/sync/prefetch.py` and `desktop/sync/packs.py`, which
get exactly the collaborators they use.
"""

from __future__ import annotations

from pathlib import Path

from cmecore.renditions import Quality
from desktop.cache.blobstore import BlobStore
from desktop.cache.db import Database
from desktop.services.config import ConfigService
from desktop.services.connection import Connection
from desktop.services.downloads import DownloadsService
from desktop.services.syncing import SyncService
from desktop.sync.carry import CarriedFile, qualities_to_carry
from desktop.sync.downloads import DownloadPolicy
from desktop.sync.packs import ExportReport, ImportReport, export_pack, import_pack
from desktop.sync.prefetch import PrefetchReport, fetch_files, prefetch


class DeploymentService:
    def __init__(self, db: Database, blobs: BlobStore, connection: Connection, config: ConfigService,
                 syncing: SyncService, downloads: DownloadsService):
        self.db = db
        self.blobs = blobs
        self.connection = connection
        self.config = config
        self.syncing = syncing  # packs and prefetch start from the catalog as the server has it now
        self.downloads = downloads  # a pack's transcripts and summaries are indexed for search

    def prefetch(self, folder, activity_ids: list[str] | None = None, *, qualities: list[Quality] = (),
                 sync_first: bool = True) -> PrefetchReport:
        """Fill `folder` (a shared content folder, ab/<sha256>) with these activities' files
        (None: all), each video in the forms for `qualities` (none: the policy's default,
        desktop/sync/carry.py). Resumable (.part files in `folder`), verified."""
        default, maximum = self._quality_policy()
        chosen = qualities_to_carry(qualities, default=default, maximum=maximum)  # refused before any sync
        if sync_first:
            self.syncing.sync()
        return prefetch(
            self.db, Path(folder), activity_ids, qualities=chosen, maximum=maximum,
            server_url=self.connection.require_server(), account=self.connection.account(),
            new_client=self.connection.new_client, policy=DownloadPolicy.from_settings(self.config.settings),
        )

    def export_pack(self, activity_ids: list[str], out, *, qualities: list[Quality] = ()) -> ExportReport:
        """Write a content pack (server-signed metadata + media) for these activities, each video
        in the forms for `qualities` (as for prefetch); needs the server."""
        default, maximum = self._quality_policy()
        chosen = qualities_to_carry(qualities, default=default, maximum=maximum)
        connection = self.connection
        return export_pack(
            list(activity_ids), Path(out), db=self.db, store=self.blobs, api=connection.api(),
            account=connection.account(), server_url=connection.require_server(), policy_key=self._policy_key(),
            sync=self.syncing.sync, qualities=chosen, maximum=maximum, fetch=self._fetch_into,
        )

    def import_pack(self, path) -> ImportReport:
        """Verify a content pack whole (hashes, the server's signature) and add it; works offline.
        A video's forms above the policy's maximum are not imported (the report says which)."""
        return import_pack(
            Path(path), db=self.db, store=self.blobs, server_url=self.connection.server_url,
            policy_key=self._policy_key(), maximum=self.config.quality_maximum(),
            on_blob_added=self.downloads.asset_arrived,
        )

    def _fetch_into(self, store: BlobStore, files: list[CarriedFile]) -> PrefetchReport:
        """Fetch files from the server into `store` now, whatever the download hours say."""
        connection = self.connection
        return fetch_files(store, files, server_url=connection.require_server(), account=connection.account(),
                           new_client=connection.new_client,
                           policy=DownloadPolicy.from_settings(self.config.settings, download_window=None))

    def _quality_policy(self) -> tuple[Quality | None, Quality | None]:
        """The machine policy's default download quality and its maximum (None: not set): what
        IT carries when it names no quality, and the largest it may carry. Not the settings of
        whoever runs the command: the machines served are the policy's."""
        default = self.config.policy.get("default_download_quality")
        return (Quality(default) if default else None), self.config.quality_maximum()

    def _policy_key(self) -> str | None:
        return self.config.policy.get("server_public_key")
