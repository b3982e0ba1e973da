"""Syncing with the credit server from the window: on a timer, on "Sync now", after sign-in;
and the claims the services' courier sends unasked (services/syncing.py).

One sync at a time, on the task pool (it talks to the network; its writes are its own
transactions). This session's last failure is kept for the status bar (the cache keeps
the last one across sessions). When a sync ends, what it may have changed is announced
on the app's events: the catalog (unless the server said nothing changed), and the
learner's records (claims may have been accepted or refused) — after a failure too,
since the claims are delivered even when the catalog fails.

The courier runs while the window has the services:
- a change to the learner's records (a claim was just written) asks it to send what is
  due at once, when the GUI is next idle, off the GUI thread;
- whether the server can be reached, as the last request showed, is announced as
  `connection_changed` the moment it flips; when the server is back, this session's
  "not reachable" is forgotten and a sync (if someone is signed in) brings the catalog
  and the stored sync state up to date while the courier sends the waiting claims;
- what the courier sent ends like a sync (`finished` with a SyncReport of the delivery),
  so the window redraws and says what the server decided and which certificates arrived.
  One that lands while a sync runs is told after that sync's end.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.errors import CmeError, NoServerConfigured, ServerUnreachable
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
    # From the thread whose request flipped it / the courier's thread, to the GUI thread.
    _online_told = Signal(bool)
    _delivery_told = Signal(object)

    def __init__(self, events: AppEvents, parent: QObject | None = None):
        super().__init__(parent)
        self.events = events
        self.services = None
        self.syncing = False
        self.session_error: str | None = None  # this session's last sync failure, if any
        self.session_exc: BaseException | None = None
        self.held: list = []  # what the courier sent while a sync ran: told when it ends
        self.offline_seen = False  # the server could not be reached since the last time it could
        self._delivery_asked = False
        self.timer = QTimer(self)
        self.timer.timeout.connect(lambda: self.sync_now(user=False))
        self._online_told.connect(self._online_changed)
        self._delivery_told.connect(self._delivered)
        events.learning_changed.connect(self._learning_changed)

    def set_services(self, services) -> None:
        self._let_go()
        self.services = services
        self.forget_error()
        self.offline_seen = services.connection.online is False
        services.connection.on_online_change.append(self._tell_online)
        services.syncing.on_delivered.append(self._tell_delivery)
        services.syncing.start_courier()

    def forget_error(self) -> None:
        self.session_error, self.session_exc = None, None

    def restart_timer(self) -> None:
        self.timer.start(self.services.settings.sync_interval_minutes * 60_000)

    def stop(self) -> None:
        self.timer.stop()
        self._let_go()

    def _let_go(self) -> None:
        """Stop hearing from the current services and stop their courier (not waiting for it)."""
        s = self.services
        if s is None:
            return
        for listeners, listener in ((s.connection.on_online_change, self._tell_online),
                                    (s.syncing.on_delivered, self._tell_delivery)):
            if listener in listeners:
                listeners.remove(listener)
        s.syncing.stop_courier(timeout_s=0)

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
        """What the server decided on claims in this sync's outcome, and which certificates
        arrived, in words (None: nothing)."""
        return claims_notice(getattr(outcome, "completions", None))

    def _done(self, report) -> None:
        self.syncing = False
        self.forget_error()
        if not report.not_modified:
            self.events.catalog_changed.emit(self)
        self.events.learning_changed.emit(self)
        self.finished.emit(report)
        self._tell_held()

    def _failed(self, exc: BaseException) -> None:
        self.syncing = False
        if not isinstance(exc, CmeError):
            log.error("sync failed unexpectedly", exc_info=exc)
        self.session_error = str(exc) if isinstance(exc, CmeError) else error_text(exc)
        self.session_exc = exc
        self.events.learning_changed.emit(self)
        self.finished.emit(exc)
        self._tell_held()

    # ------------------------------------------------------------ the courier and the connection

    def _learning_changed(self, source) -> None:
        """Records changed (a claim?): ask the courier to send what is due, once the GUI is idle."""
        if source is self or self._delivery_asked or self.services is None:
            return
        self._delivery_asked = True
        QTimer.singleShot(0, self, self._ask_delivery)

    def _ask_delivery(self) -> None:
        self._delivery_asked = False
        if self.services is not None:
            self.services.syncing.deliver_soon()

    def _tell_online(self, online: bool) -> None:
        """On the thread whose request flipped the connection."""
        try:
            self._online_told.emit(online)
        except RuntimeError:  # the window is gone; nobody to tell
            pass

    def _tell_delivery(self, report) -> None:
        """On the courier's thread."""
        try:
            self._delivery_told.emit(report)
        except RuntimeError:  # the window is gone; nobody to tell
            pass

    def _online_changed(self, online: bool) -> None:
        back, self.offline_seen = online and self.offline_seen, not online
        if online and isinstance(self.session_exc, ServerUnreachable):
            self.forget_error()  # a request got through since
        self.events.connection_changed.emit(online)
        if back:
            self.sync_now(user=False)  # the catalog and the sync state, now that the server is back

    def _delivered(self, report) -> None:
        if self.syncing:
            self.held.append(report)
            return
        self.events.learning_changed.emit(self)
        self.finished.emit(report)

    def _tell_held(self) -> None:
        held, self.held = self.held, []
        for report in held:
            self._delivered(report)
