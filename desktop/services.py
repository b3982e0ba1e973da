"""The services the GUI and the CLI share: one object per data dir and server.

Views and CLI commands call these methods and nothing below them. Methods that touch the
network may take seconds: the GUI runs them off its thread (views/tasks.py). httpx is
imported only when the network is first used, so start-up stays fast.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from desktop.cache.blobstore import BlobStore
from desktop.cache.db import Database, open_database
from desktop.cache.learners import LearnerInfo
from desktop.cache.library import ActivityDetail, LibraryRow, activity_detail, library_rows, sync_state
from desktop.cache.search import SearchHit
from desktop.cache.search import search as search_cache
from desktop.config import Paths, Settings, load_settings, normalise_server_url, save_settings
from desktop.sync.errors import (
    InvalidResponse,
    NoServerConfigured,
    ServerFailed,
    ServerUnreachable,
    SignInRequired,
    WrongCredentials,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Status:
    server_url: str | None
    online: bool | None  # None: not tried since start
    learner: LearnerInfo | None
    last_sync_at: datetime | None  # naive UTC
    last_error: str | None
    clock_offset_ms: int | None
    storage_bytes: int
    notice: str | None = None  # something the user should know once, e.g. a rebuilt cache


@dataclass(frozen=True)
class SyncReport:
    not_modified: bool
    changed: int
    synced_at: datetime


@dataclass(frozen=True)
class CompletedAsset:
    """An asset whose file just arrived, verified, in the blob store (for `on_asset_complete`)."""

    activity_id: str
    kind: str  # video | transcript | summary
    media_type: str
    language: str
    timed: bool
    sha256: str
    path: Path


@dataclass(frozen=True)
class StorageUse:
    total_bytes: int  # everything in the blob store, partial downloads included
    by_activity: dict[str, int] = field(default_factory=dict)  # complete files each activity uses


class Services:
    def __init__(self, paths: Paths, *, server_url: str | None = None, settings: Settings | None = None):
        self.paths = paths
        self.settings = settings or load_settings(paths.settings)
        url = server_url or self.settings.server_url
        self.server_url = normalise_server_url(url) if url else None
        self.db: Database = open_database(paths.database)
        self.blobs = BlobStore(paths.blobs)
        self.online: bool | None = None
        self._net_lock = threading.Lock()
        self._http = None
        self._api = None
        self._account = None
        self._downloads = None
        # Called (on a download worker thread) for each asset whose file just arrived,
        # e.g. to index a transcript or summary for search. A hook that raises is logged
        # and does not affect the download.
        self.on_asset_complete: list[Callable[[CompletedAsset], None]] = [self._index_for_search]

    # ------------------------------------------------------------ offline reads

    def library_rows(self) -> list[LibraryRow]:
        return library_rows(self.db, self.blobs)

    def activity_detail(self, activity_id: str) -> ActivityDetail | None:
        return activity_detail(self.db, self.blobs, activity_id)

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Titles, summaries and transcript cues matching what the user typed (offline)."""
        return search_cache(self.db, query, limit=limit)

    def current_learner(self) -> LearnerInfo | None:
        if self.server_url is None:
            return None
        from desktop.cache.learners import current_learner

        return current_learner(self.db, self.server_url)

    # ------------------------------------------------------------ media and watch progress

    def media_file(self, activity_id: str, kind: str = "video") -> Path | None:
        """The downloaded file of this activity's first asset of `kind`, or None if absent."""
        from desktop.cache.progress_store import activity_assets

        for asset in activity_assets(self.db, activity_id, kind):
            path = self.blobs.path_for(asset.sha256)
            if path.is_file():
                return path
        return None

    def transcript(self, activity_id: str, duration_ms: int | None = None):
        """The downloaded transcript (desktop.media.transcript.Transcript), or None.

        A plain-text transcript has no timings: they are spread over `duration_ms` (the
        video's length once the player knows it), else over the length last recorded for
        this learner, else estimated from the words. Raises TranscriptError for a file
        that cannot be read.
        """
        from desktop.cache.progress_store import activity_assets
        from desktop.media.transcript import parse_transcript

        for asset in activity_assets(self.db, activity_id, "transcript"):
            path = self.blobs.path_for(asset.sha256)
            if not path.is_file():
                continue
            if not duration_ms:
                saved = self.watch_progress(activity_id)
                duration_ms = saved.duration_ms if saved and saved.duration_ms else None
            return parse_transcript(path.read_bytes(), asset.media_type, duration_ms)
        return None

    def summaries(self, activity_id: str) -> list[tuple[str, str]]:
        """(title, safe HTML fragment) for each downloaded key clinical summary, in catalog order."""
        import html

        from desktop.cache.progress_store import activity_assets
        from desktop.media.summary import SummaryError, render_summary

        out = []
        for asset in activity_assets(self.db, activity_id, "summary"):
            path = self.blobs.path_for(asset.sha256)
            if not path.is_file():
                continue
            title = asset.title or "Key clinical summary"
            try:
                out.append((title, render_summary(path.read_bytes(), asset.media_type)))
            except SummaryError as exc:
                out.append((title, f"<p>{html.escape(str(exc))}</p>"))
        return out

    def watch_progress(self, activity_id: str):
        """The signed-in learner's WatchProgressInfo for this activity (None: nothing yet, or no one signed in)."""
        from desktop.cache.progress_store import load_watch_progress

        learner = self.current_learner()
        if learner is None:
            return None
        return load_watch_progress(self.db, learner.id, activity_id)

    def save_watch_progress(self, activity_id: str, position_ms: int, duration_ms: int, watched_intervals):
        """Record the signed-in learner's position and watched ranges (merged with what is stored).

        `watched_intervals`: a WatchedIntervals or [(start_ms, end_ms), …]. Returns the
        stored WatchProgressInfo, or None when no one is signed in (nothing is saved).
        """
        from datetime import timezone

        from desktop.cache.progress_store import save_watch_progress
        from desktop.learning.progress import WatchedIntervals

        learner = self.current_learner()
        if learner is None:
            return None
        if not isinstance(watched_intervals, WatchedIntervals):
            watched_intervals = WatchedIntervals(watched_intervals)
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        return save_watch_progress(
            self.db, learner.id, activity_id, position_ms, duration_ms, watched_intervals, now
        )

    def status(self) -> Status:
        state = sync_state(self.db, self.server_url) if self.server_url else None
        return Status(
            server_url=self.server_url,
            online=self.online,
            learner=self.current_learner(),
            last_sync_at=state.last_sync_at if state else None,
            last_error=state.last_error if state else None,
            clock_offset_ms=state.clock_offset_ms if state else None,
            storage_bytes=self.blobs.bytes_used(),
            notice=self._notice(),
        )

    def _notice(self) -> str | None:
        if self.db.damaged_copy is None:
            return None
        return (
            "The local cache file was damaged, so a fresh one was started; the catalog comes "
            f"back at the next sync. The damaged file is kept at {self.db.damaged_copy}."
        )

    # ------------------------------------------------------------ network

    def sign_in(self, username: str, password: str) -> LearnerInfo:
        return self._networked(lambda: self.account().sign_in(username, password))

    def sign_out(self) -> LearnerInfo | None:
        return self._networked(lambda: self.account().sign_out())

    def sync(self) -> SyncReport:
        from desktop.sync.catalog_sync import sync_catalog

        result = self._networked(
            lambda: sync_catalog(self.db, self.api(), self.account(), self._require_server())
        )
        return SyncReport(result.not_modified, result.changed, result.synced_at)

    def set_server_url(self, url: str) -> None:
        self.server_url = normalise_server_url(url)
        self.settings = self.settings.model_copy(update={"server_url": self.server_url})
        save_settings(self.paths.settings, self.settings)
        self._close_http()

    def update_settings(self, **changes) -> Settings:
        """Validate, apply and save other settings (the server: `set_server_url`).

        Raises ValueError (pydantic's ValidationError) for an out-of-range value; the HTTP
        client is rebuilt on next use so a new CA bundle takes effect.
        """
        changes.pop("server_url", None)
        self.settings = Settings.model_validate({**self.settings.model_dump(), **changes})
        save_settings(self.paths.settings, self.settings)
        self._close_http()
        if self._downloads is not None and "bandwidth_cap_kbps" in changes:
            from desktop.sync.downloads_ratelimit import kbps_to_bytes_per_s

            self._downloads.set_bandwidth(kbps_to_bytes_per_s(self.settings.bandwidth_cap_kbps))
        return self.settings

    def account(self):
        from desktop.sync.account import Account
        from desktop.sync.credentials import TokenVault

        if self._account is None:
            server = self._require_server()
            self._account = Account(self.db, self.api(), TokenVault(server), server, _device_name())
        return self._account

    def api(self):
        from desktop.sync.api import CreditServerApi
        from desktop.sync.http import build_client

        if self._api is None:
            self._http = build_client(
                self._require_server(), extra_ca_bundle=self.settings.extra_ca_bundle
            )
            self._api = CreditServerApi(
                self._http, max_catalog_bytes=self.settings.max_catalog_mb * 1024 * 1024
            )
        return self._api

    # ------------------------------------------------------------ downloads

    def downloads(self):
        """The persisted download queue (desktop.sync.downloads.DownloadQueue)."""
        from desktop.sync.downloads import DownloadQueue

        if self._downloads is None:
            self._downloads = DownloadQueue(self.db, self.blobs)
        return self._downloads

    def enqueue_downloads(self, activity_ids: list[str] | None = None):
        """Queue the missing assets of these activities (None: every activity); list[JobInfo]."""
        return self.downloads().enqueue(activity_ids)

    def pause_download(self, job_id: int | None = None) -> int:
        """Pause one job (None: all); what was received is kept. Returns how many changed."""
        return self.downloads().pause(job_id)

    def resume_download(self, job_id: int | None = None) -> int:
        """Queue a paused, failed or cancelled job again (None: all); `run_downloads` fetches it."""
        return self.downloads().resume(job_id)

    def cancel_download(self, job_id: int | None = None) -> int:
        """Cancel one job (None: all unfinished) and delete its partial file."""
        return self.downloads().cancel(job_id)

    def download_jobs(self):
        """Every download job, most urgent first (list[JobInfo], plain dataclasses)."""
        return self.downloads().jobs()

    def run_downloads(self, listener=None, stop_event: threading.Event | None = None, *, policy=None):
        """Fetch every queued job; blocks until the queue is empty or `stop_event` is set.

        `listener(DownloadEvent)` is called from worker threads. Returns a DownloadSummary.
        Raises SignInRequired/NotSignedIn if the server wants a sign-in (jobs stay queued).
        """
        import httpx

        from desktop.sync.downloads import DownloadPolicy
        from desktop.sync.downloads_transfer import BlobFetcher
        from desktop.sync.http import build_client

        policy = policy or DownloadPolicy.from_settings(self.settings)
        server = self._require_server()
        self.account()  # NoServerConfigured now rather than in a worker
        client = build_client(
            server, extra_ca_bundle=self.settings.extra_ca_bundle,
            timeout=httpx.Timeout(policy.connect_timeout_s, read=policy.read_timeout_s),
        )

        def make_fetcher(limiter):
            return BlobFetcher(
                # Looked up on each use: changing settings mid-run rebuilds the account.
                client, self.blobs, server_url=server, access_token=lambda: self.account().access_token(),
                forget_token=lambda: self.account().forget_access_token(), limiter=limiter,
                chunk_size=policy.chunk_size,
                disk_margin_bytes=policy.disk_margin_bytes,
            )

        try:
            summary = self.downloads().run(
                make_fetcher, policy=policy, listener=listener, stop_event=stop_event,
                on_complete=self._asset_downloaded,
            )
        finally:
            client.close()
        if summary.bytes_fetched:
            self.online = True
        return summary

    def remove_downloaded_video(self, activity_id: str) -> int:
        """Delete this activity's video file unless another activity uses the same file.

        Transcript, summaries and the learner's progress stay. Returns the bytes freed.
        """
        from sqlalchemy import select

        from desktop.cache import models as m

        with self.db.read() as s:
            videos = set(s.scalars(
                select(m.Asset.sha256).where(m.Asset.activity_id == activity_id, m.Asset.kind == "video")
            ))
            shared = set(s.scalars(
                select(m.Asset.sha256).where(m.Asset.sha256.in_(videos), m.Asset.activity_id != activity_id)
            ))
        freed = 0
        for sha in sorted(videos - shared):
            self.downloads().forget(sha)
            freed += self.blobs.remove(sha)
        return freed

    def storage_used(self) -> StorageUse:
        """Bytes in the blob store in total, and the complete files each activity uses."""
        return StorageUse(
            total_bytes=self.blobs.bytes_used(),
            by_activity={row.id: row.media_bytes for row in self.library_rows()},
        )

    def _asset_downloaded(self, job) -> None:
        if not self.on_asset_complete:
            return
        from sqlalchemy import select

        from desktop.cache import models as m

        with self.db.read() as s:
            assets = list(s.scalars(select(m.Asset).where(m.Asset.sha256 == job.sha256)))
        for asset in assets:
            done = CompletedAsset(
                asset.activity_id, asset.kind, asset.media_type, asset.language, asset.timed,
                asset.sha256, self.blobs.path_for(asset.sha256),
            )
            for hook in list(self.on_asset_complete):
                try:
                    hook(done)
                except Exception:
                    log.exception("on_asset_complete hook failed for %s", asset.activity_id)

    def _index_for_search(self, done: CompletedAsset) -> None:
        """A transcript or summary that just arrived becomes searchable (default hook)."""
        if done.kind not in ("transcript", "summary"):
            return
        from sqlalchemy import select

        from desktop.cache import models as m
        from desktop.cache.search import index_summary, index_transcript

        if done.kind == "transcript":
            from desktop.media.transcript import parse_transcript

            cues = parse_transcript(done.path.read_bytes(), done.media_type).cues
            index_transcript(self.db, done.activity_id, cues)
            return
        from desktop.media.summary import render_summary

        with self.db.read() as s:  # every summary of the activity present so far, in order
            summaries = [
                (a.sha256, a.media_type) for a in s.scalars(
                    select(m.Asset).where(m.Asset.activity_id == done.activity_id, m.Asset.kind == "summary")
                    .order_by(m.Asset.position)
                )
            ]
        texts = []
        for sha, media_type in summaries:
            path = self.blobs.path_for(sha)
            if path.is_file():
                texts.append(render_summary(path.read_bytes(), media_type))
        index_summary(self.db, done.activity_id, "\n".join(texts))

    def close(self) -> None:
        self._close_http()
        self.db.close()

    def _close_http(self) -> None:
        if self._http is not None:
            self._http.close()
        self._http = self._api = self._account = None

    def _require_server(self) -> str:
        if not self.server_url:
            raise NoServerConfigured()
        return self.server_url

    def _networked(self, call):
        """Run one network operation, keeping `online` true to what just happened."""
        with self._net_lock:
            try:
                result = call()
            except ServerUnreachable:
                self.online = False
                raise
            except (ServerFailed, InvalidResponse, WrongCredentials, SignInRequired):
                self.online = True  # the server answered, even if to say no
                raise
            self.online = True
            return result


def _device_name() -> str:
    return f"CME Offline on {socket.gethostname()}"[:200]
