"""Idle sign-out for shared workstations (machine policy `idle_sign_out_minutes`).

An app-wide event filter restarts a single-shot timer on every user input event (keys,
mouse buttons and movement, wheel, touch); when the timer runs out, `timed_out` is
emitted and the main window signs everyone out. Signing out keeps downloaded content.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from desktop.views.tasks import run_task

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


class IdleSignOut(QObject):
    """The policy's idle sign-out: after `idle_sign_out_minutes` without input, sign everyone out.

    `about_to_sign_out` lets the window close dialogs and leave the activity (the player
    pauses) first; the sign-out itself runs on the task pool (it tells the server).
    Downloaded content stays.
    """

    about_to_sign_out = Signal()
    signed_out = Signal(int)  # how many learners were signed out
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

    def _timed_out(self) -> None:
        services = self.services
        if services is None or services.current_learner() is None:
            return
        log.info("idle sign-out after %s minutes without input", services.settings.idle_sign_out_minutes)
        self.about_to_sign_out.emit()
        run_task(self, services.sign_out_everyone, self.signed_out.emit, self._failed)

    def _failed(self, exc: BaseException) -> None:
        log.error("idle sign-out failed", exc_info=exc)
        self.failed.emit(exc)
