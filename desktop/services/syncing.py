"""Syncing with the credit server: the catalog, then the completions waiting in the outbox
(and their certificates); and the status line that says how that went.

Besides the syncs someone asks for, a courier (sync/courier.py), once started, sends claims
without being asked: a new one at once (`deliver_soon`), and every waiting one as soon as
the server can be reached again, probing it (`GET /info`) while it cannot. A certificate
the server is still preparing (a deadline rush, 503 with Retry-After) is asked for again
by the courier after Retry-After (`Courier.fetch_later`), whichever sync found it so. What
it sent or fetched is told to `on_delivered` listeners.

Named `services.syncing` on `Services`, because `services.sync()` is the verb the views call
today ("Sync now").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from desktop.cache.blobstore import BlobStore
from desktop.cache.db import Database
from desktop.cache.learners import LearnerInfo
from desktop.cache.library import sync_state
from desktop.cache.outbox_store import count_pending, due_outbox
from desktop.errors import CmeError, ServerUnreachable
from desktop.learning.records import OutboxReport
from desktop.services.account import AccountService
from desktop.services.connection import Connection
from desktop.services.transcripts import refresh_transcript_index
from desktop.sync.account import utcnow
from desktop.sync.catalog_sync import sync_catalog
from desktop.sync.courier import Courier
from desktop.sync.outbox import deliver

log = logging.getLogger(__name__)


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

    @classmethod
    def of_delivery(cls, completions: OutboxReport) -> SyncReport:
        """A run that only sent claims (the courier's): the catalog was not asked for
        (`not_modified`), `synced_at` is when the claims were sent."""
        return cls(not_modified=True, changed=0, synced_at=utcnow(), completions=completions)


class SyncService:
    def __init__(self, db: Database, blobs: BlobStore, connection: Connection, account: AccountService):
        self.db = db
        self.blobs = blobs
        self.connection = connection
        self.account = account
        self.courier: Courier | None = None
        self._stopping: list[Courier] = []  # told to stop, a step still under way
        # Told a SyncReport (`of_delivery`) when the courier sent claims or fetched
        # certificates; called on the courier's thread.
        self.on_delivered: list[Callable[[SyncReport], None]] = []
        connection.on_online_change.append(self._online_changed)

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
        if result is not None:
            self._retime_transcripts()
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

    def _retime_transcripts(self) -> None:
        """The catalog may now give a video's length an untimed transcript was not spread
        over (or a transcript was indexed before timings were recorded): rebuild those."""
        try:
            refresh_transcript_index(self.db, self.blobs)
        except Exception:  # the search index is not worth a failed sync; the next one retries
            log.exception("re-timing transcripts after the catalog sync failed")

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
            connection.reached(False)  # whichever step found it (the requests themselves told already)
        courier = self.courier  # read once: stop_courier may clear it from another thread
        if report.certificates_preparing and courier is not None:
            courier.fetch_later(report.retry_after_s)
        return report

    # ------------------------------------------------------------ sending claims unasked

    def start_courier(self, *, first_probe_s: float | None = None, last_probe_s: float | None = None,
                      longest_wait_s: float | None = None) -> None:
        """Send new claims at once and waiting ones when the server is back (module docstring);
        probes while offline wait `first_probe_s`, doubling to `last_probe_s`; a certificate
        being prepared is asked for again after the server's Retry-After, at most
        `longest_wait_s` (defaults: sync/courier.py). Runs until `stop_courier()`."""
        if self.courier is None:
            self.courier = Courier(is_online=lambda: self.connection.online, probe=self.probe,
                                   deliver_due=self._deliver_due, catch_up=self._catch_up,
                                   first_probe_s=first_probe_s, last_probe_s=last_probe_s,
                                   fetch_waiting=self._fetch_waiting, longest_wait_s=longest_wait_s)
            self.courier.start()

    def stop_courier(self, timeout_s: float = 1.0) -> None:
        """Stop the courier, waiting at most `timeout_s` for a step under way (its own, or
        that of one stopped earlier without waiting: closing waits for both)."""
        if self.courier is not None:
            self._stopping.append(self.courier)
            self.courier = None
        deadline = time.monotonic() + timeout_s
        for courier in self._stopping:
            courier.stop(max(0.0, deadline - time.monotonic()))
        self._stopping = [c for c in self._stopping if c.running]

    def deliver_soon(self) -> None:
        """A claim was written: have the courier send it now (if the courier runs)."""
        if self.courier is not None:
            self.courier.deliver_soon()

    def probe(self) -> None:
        """One cheap request (no token): whether the server can be reached shows in `online`."""
        self.connection.api().info()

    def _deliver_due(self) -> None:
        server = self.connection.server_url
        if server and due_outbox(self.db, server, utcnow()):
            self._tell(self.deliver_completions())

    def _fetch_waiting(self) -> None:
        if self.connection.server_url:
            self._tell(self.deliver_completions())

    def _catch_up(self) -> None:
        if self.connection.server_url:
            self._tell(self.deliver_completions(retry_now=True))

    def _tell(self, report: OutboxReport) -> None:
        if report.delivered or report.certificates:  # the server decided on claims, or certificates came
            outcome = SyncReport.of_delivery(report)
            for listener in list(self.on_delivered):
                listener(outcome)

    def _online_changed(self, online: bool) -> None:
        courier = self.courier  # read once: stop_courier may clear it from another thread
        if courier is not None:
            courier.online_changed(online)

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
