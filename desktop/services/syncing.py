"""Syncing with the credit server: the catalog, then the completions waiting in the outbox
(and their certificates); and the status line that says how that went.

Named `services.syncing` on `Services`, because `services.sync()` is the verb the views call
today ("Sync now").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from desktop.cache.blobstore import BlobStore
from desktop.cache.db import Database
from desktop.cache.learners import LearnerInfo
from desktop.cache.library import sync_state
from desktop.cache.outbox_store import count_pending
from desktop.errors import CmeError, ServerUnreachable
from desktop.learning.records import OutboxReport
from desktop.services.account import AccountService
from desktop.services.connection import Connection
from desktop.sync.catalog_sync import sync_catalog
from desktop.sync.outbox import deliver


@dataclass(frozen=True)
class Status:
    server_url: str | None
    online: bool | None  # None: not tried since start
    learner: LearnerInfo | None
    last_sync_at: datetime | None  # naive UTC
    last_error: str | None
    last_error_code: str | None  # the last failure's CmeError code (None: none, or stored before codes were)
    clock_offset_ms: int | None
    storage_bytes: int
    notice: str | None = None  # something the user should know once, e.g. a rebuilt cache
    pending_completions: int = 0  # claims on this computer waiting to be sent (every learner's)


@dataclass(frozen=True)
class SyncReport:
    not_modified: bool
    changed: int
    synced_at: datetime
    # Completions delivered after the catalog (None: not tried); a failure of one part does
    # not hide the other's outcome.
    completions: OutboxReport | None = None
    completions_error: str | None = None  # delivery could not run at all (e.g. no server key/learner)


class SyncService:
    def __init__(self, db: Database, blobs: BlobStore, connection: Connection, account: AccountService):
        self.db = db
        self.blobs = blobs
        self.connection = connection
        self.account = account

    def sync(self, *, retry_now: bool = True) -> SyncReport:
        """Refresh the catalog, then deliver waiting completions (and fetch certificates).

        An explicit sync (the default: "Sync now", `cme-offline sync`) sends waiting claims
        at once, even those backing off after a failed try; the GUI's timer passes
        `retry_now=False` so a struggling server is not hammered.

        A catalog failure is raised as before, after the completions were tried (unless
        the server is unreachable); the delivery outcome is then on the exception as
        `completions` and, as always, in the cache (`pending_completions_count`,
        `learning_state`). A delivery problem never hides a good catalog sync: it is in
        the report (`completions.errors`, `completions_error`).
        """
        connection = self.connection
        server = connection.require_server()
        failure: CmeError | None = None
        result = None
        try:
            result = connection.networked(lambda: sync_catalog(self.db, connection.api(), connection.account(), server))
        except CmeError as exc:
            failure = exc
        completions, completions_error = None, None
        if not isinstance(failure, ServerUnreachable):
            try:
                completions = self.deliver_completions(retry_now=retry_now)
            except CmeError as exc:
                completions_error = str(exc)
        if failure is not None:
            failure.completions = completions
            raise failure
        return SyncReport(result.not_modified, result.changed, result.synced_at, completions, completions_error)

    def deliver_completions(self, retry_now: bool = False) -> OutboxReport:
        """Send every learner's waiting completions (each with their own token), then fetch
        and verify new certificates. Never raises for a failed delivery: the items stay
        (with their error and a backoff that `retry_now` skips) and the report says so.
        """
        connection = self.connection
        server = connection.require_server()
        with connection.lock:
            report = deliver(self.db, connection.api(), connection.account(), server, retry_now=retry_now)
        if report.unreachable:
            connection.online = False
        elif report.requests:
            connection.online = True
        return report

    def pending_completions_count(self, learner_only: bool = False) -> int:
        """Completions waiting to be sent from this computer: every learner's (default), or
        only the current learner's (`learner_only=True`; 0 when no one is signed in)."""
        if learner_only:
            learner = self.account.current_learner()
            return count_pending(self.db, learner_id=learner.id) if learner else 0
        return count_pending(self.db)

    def status(self) -> Status:
        server = self.connection.server_url
        state = sync_state(self.db, server) if server else None
        return Status(
            server_url=server,
            online=self.connection.online,
            learner=self.account.current_learner(),
            last_sync_at=state.last_sync_at if state else None,
            last_error=state.last_error if state else None,
            last_error_code=state.last_error_code if state else None,
            clock_offset_ms=state.clock_offset_ms if state else None,
            storage_bytes=self.blobs.bytes_used(),
            notice=self.notice(),
            pending_completions=self.pending_completions_count(),
        )

    def notice(self) -> str | None:
        """Something the user should be told once: the cache was damaged and started afresh."""
        if self.db.damaged_copy is None:
            return None
        return (
            "The local cache file was damaged, so a fresh one was started; the catalog comes "
            f"back at the next sync. The damaged file is kept at {self.db.damaged_copy}."
        )
