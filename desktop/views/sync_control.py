"""Syncing with the credit server from the window: on a timer, on "Sync now", after sign-in.

One sync at a time, on the task pool (it talks to the network; its writes are its own
transactions). This session's last failure is kept for the status bar (the cache keeps
the last one across sessions). When a sync ends, what it may have changed is announced
on the app's events: the catalog (unless the server said nothing changed), and the
learner's records (claims may have been accepted or refused) — after a failure too,
since the claims are delivered even when the catalog fails.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.errors import CmeError, NoServerConfigured
from desktop.views.events import AppEvents
from desktop.views.learning_text import claims_notice
from desktop.views.tasks import run_task
from desktop.views.text import error_text

log = logging.getLogger(__name__)

NO_SERVER = "No credit server is set. Enter your provider's server address in Settings."


class SyncControl(QObject):
    started = Signal()
    finished = Signal(object)  # a SyncReport, or the exception that ended the sync
    needs_server = Signal()  # "Sync now" with no server set
    needs_sign_in = Signal()  # "Sync now" with no one signed in

    def __init__(self, events: AppEvents, parent: QObject | None = None):
        super().__init__(parent)
        self.events = events
        self.services = None
        self.syncing = False
        self.session_error: str | None = None  # this session's last sync failure, if any
        self.session_exc: BaseException | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(lambda: self.sync_now(user=False))

    def set_services(self, services) -> None:
        self.services = services
        self.forget_error()

    def forget_error(self) -> None:
        self.session_error, self.session_exc = None, None

    def restart_timer(self) -> None:
        self.timer.start(self.services.settings.sync_interval_minutes * 60_000)

    def stop(self) -> None:
        self.timer.stop()

    def sync_now(self, *, user: bool) -> bool:
        """Start a sync in the background; False if one is running or it cannot start.

        A user's sync sends waiting claims at once (the timer's keeps their backoff) and
        says what is missing (a server, a sign-in); the timer's just does not start.
        """
        s = self.services
        if self.syncing or s is None:
            return False
        if s.server_url is None:
            if user:
                self.session_error, self.session_exc = NO_SERVER, NoServerConfigured(NO_SERVER)
                self.needs_server.emit()
            return False
        if s.current_learner() is None:
            if user:
                self.needs_sign_in.emit()
            return False
        self.syncing = True
        self.started.emit()
        run_task(self, lambda: s.sync(retry_now=user), self._done, self._failed)
        return True

    @staticmethod
    def claims_notice(outcome) -> str | None:
        """What the server decided on claims in this sync's outcome, in words (None: nothing)."""
        return claims_notice(getattr(outcome, "completions", None))

    def _done(self, report) -> None:
        self.syncing = False
        self.forget_error()
        if not report.not_modified:
            self.events.catalog_changed.emit(self)
        self.events.learning_changed.emit(self)
        self.finished.emit(report)

    def _failed(self, exc: BaseException) -> None:
        self.syncing = False
        if not isinstance(exc, CmeError):
            log.error("sync failed unexpectedly", exc_info=exc)
        self.session_error = str(exc) if isinstance(exc, CmeError) else error_text(exc)
        self.session_exc = exc
        self.events.learning_changed.emit(self)
        self.finished.emit(exc)
