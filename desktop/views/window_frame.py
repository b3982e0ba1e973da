"""The main window as a thing on the screen: where it opens (the last place, clamped to
the screen it lands on), coming forward when a second launch asks, whether it may leave
the page it shows (Settings with unsaved edits asks first), and the launch benchmark's
probe.

A mixin of `MainWindow` (main_window.py); it uses the window's `prefs` (WindowPrefs),
`services`, `stack`, `nav` and `built_page` (Settings, once the learner has been there).
"""

from __future__ import annotations

import logging
import os
import time

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from desktop.views.startup import first_paint_ms
from desktop.views.window_pages import SETTINGS
from desktop.views.window_prefs import WindowPrefs, fit_rect

log = logging.getLogger(__name__)

LAUNCH_BENCH_ENV = "CME_OFFLINE_BENCH_LAUNCH"


class WindowFrame:
    """Mixin for MainWindow (a QMainWindow): its place on the screen and coming forward."""

    prefs: WindowPrefs

    def place_on_screen(self) -> None:
        """Size and place the window as last closed, inside the screen it opens on."""
        saved, maximized = self.prefs.window_rect()
        screen = (QGuiApplication.screenAt(saved.center()) if saved is not None else None) or \
            QGuiApplication.primaryScreen()
        if screen is None:  # no screen at all (some offscreen set-ups): keep Qt's choice
            return
        self.setGeometry(fit_rect(saved, screen.availableGeometry()))
        if maximized:
            self.setWindowState(self.windowState() | Qt.WindowState.WindowMaximized)

    def remember_place(self) -> None:
        try:
            self.prefs.save_window_rect(self.normalGeometry(), self.isMaximized())
        except Exception:  # a read-only data dir must not stop the window closing
            log.exception("saving the window's place failed")

    def may_leave_page(self) -> bool:
        """False while Settings holds unsaved edits the learner chose to stay with (the
        navigation then stays on Settings)."""
        settings = self.built_page(SETTINGS)  # never built: nothing typed in it
        if settings is None or self.stack.currentWidget() is not settings:
            return True
        if settings.may_leave():
            return True
        self.nav.blockSignals(True)
        self.nav.setCurrentRow(SETTINGS)
        self.nav.blockSignals(False)
        return False

    def bring_forward(self) -> None:
        """Another launch on this data dir asked for this window: show it on top, focused."""
        if self.isMinimized():
            self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.show()
        self.raise_()
        self.activateWindow()
        log.info("window brought forward for another launch")


class LaunchProbe(QObject):
    """`make bench`'s launch figures (with CME_OFFLINE_BENCH_LAUNCH=1): prints
    `window-shown-ms` at the window's first paint, `ready-ms` when the first sync has
    finished, then `close-at <epoch seconds>` and closes the window; the bench times the
    process's exit from that moment."""

    def __init__(self, window: QWidget, painted: QWidget):
        super().__init__(window)
        self.window = window
        self._painted = painted
        painted.installEventFilter(self)
        window.sync_finished.connect(self._sync_finished)

    @staticmethod
    def wanted() -> bool:
        return os.environ.get(LAUNCH_BENCH_ENV, "") not in ("", "0")

    def eventFilter(self, obj, event) -> bool:
        if obj is self._painted and event.type() == QEvent.Type.Paint:
            self._painted.removeEventFilter(self)
            print(f"window-shown-ms {first_paint_ms():.1f}", flush=True)
        return False

    def _sync_finished(self, _outcome) -> None:
        self.window.sync_finished.disconnect(self._sync_finished)
        print(f"ready-ms {first_paint_ms():.1f}", flush=True)
        QTimer.singleShot(0, self._close)

    def _close(self) -> None:
        print(f"close-at {time.time()!r}", flush=True)
        self.window.close()
