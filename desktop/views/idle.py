"""The idle lock for shared workstations (machine policy `idle_sign_out_minutes`).

An app-wide event filter restarts a single-shot timer on every user input event (keys,
mouse buttons and movement, wheel, touch); when the timer runs out, `timed_out` is
emitted and the app locks: nobody is the current learner until someone gives their
password (the switch dialog, in its locked form). Nobody is signed out, so claims already
written still go to the server, and a learner can continue offline (the offline check).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from desktop.views.tasks import run_write

log = logging.getLogger(__name__)

INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease,
    QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseMove, QEvent.Type.Wheel, QEvent.Type.TouchBegin,
    QEvent.Type.TouchUpdate, QEvent.Type.TabletPress, QEvent.Type.TabletMove, QEvent.Type.Shortcut,
})


class IdleWatcher(QObject):
    timed_out = Signal()

    def __init__(self, minutes: float, parent=None):
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(max(1, int(minutes * 60_000)))
        self.timer.timeout.connect(self.timed_out)
        self._app = QApplication.instance()
        self._app.installEventFilter(self)
        self.timer.start()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() in INPUT_EVENTS:
            self.timer.start()  # restart: the user is here
        return False

    def restart(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        if self._app is not None:
            self._app.removeEventFilter(self)
            self._app = None


class IdleLock(QObject):
    """The policy's idle lock: after `idle_sign_out_minutes` without input, lock the session.

    `about_to_lock` lets the window close dialogs and leave the activity (the player pauses
    and saves the learner's place) first; the lock itself is a store write, so it runs on
    the writer. `locked` follows; the window then asks for a password.
    """

    about_to_lock = Signal()
    locked = Signal()
    failed = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.services = None
        self.watcher: IdleWatcher | None = None

    def setup(self, services) -> None:
        """Watch for the policy's idle time with these services (none set: no watching)."""
        self.stop()
        self.services = services
        minutes = getattr(services.settings, "idle_sign_out_minutes", None)
        if minutes:
            self.watcher = IdleWatcher(float(minutes), self)
            self.watcher.timed_out.connect(self._timed_out)

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher.deleteLater()
            self.watcher = None

    def lock_now(self) -> None:
        """Lock at once (the idle time ran out, or the app starts on a shared workstation)."""
        services = self.services
        if services is None or services.current_learner() is None:
            return
        log.info("locking: nobody is current until a password is given")
        self.about_to_lock.emit()
        run_write(self, services.lock, lambda _none: self.locked.emit(), self._failed)

    def _timed_out(self) -> None:
        if self.services is not None:
            log.info("idle lock after %s minutes without input", self.services.settings.idle_sign_out_minutes)
        self.lock_now()

    def _failed(self, exc: BaseException) -> None:
        log.error("idle lock failed", exc_info=exc)
        self.failed.emit(exc)
