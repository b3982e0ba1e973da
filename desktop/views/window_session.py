"""The main window's life with its services: opening them after the first paint, swapping
to the demo's, signing in, the first-run welcome, the policy's idle lock, starting work
once shown, and stopping at close.

A mixin of `MainWindow` (main_window.py), which holds the window's shape (navigation,
pages, status bar) and what it shows; this half holds when things happen. It uses the
window's `services`, `events`, `sync`, `library`, pages and `download_runner`.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from desktop.views.startup import callgrind_mark, first_paint_ms, mark, phase_lines
from desktop.views.tasks import run_task, run_write
from desktop.views.window_pages import CREDITS, LIBRARY, SETTINGS

if TYPE_CHECKING:
    from desktop.views.sign_in_dialog import SignInDialog

log = logging.getLogger(__name__)


class WindowSession:
    """Mixin for MainWindow (a QMainWindow): the services' life in the window."""

    sign_in_dialog: SignInDialog | None

    def _sign_in_as(self, username: str, message: str) -> None:
        """Sign in another learner (or one whose sign-in ended); nobody is signed out."""
        self.activity_page.watch_tab.close_activity()  # keep the current learner's place first
        dialog = self.open_sign_in(message=message or None)
        dialog.username_edit.setText(username)
        dialog.password_edit.clear()
        (dialog.password_edit if username else dialog.username_edit).setFocus()

    # ------------------------------------------------------------------ sign-in

    def open_sign_in(self, message: str | None = None) -> SignInDialog:
        if self.sign_in_dialog is not None:
            self.sign_in_dialog.raise_()
            self.sign_in_dialog.activateWindow()
            return self.sign_in_dialog
        from desktop.views.sign_in_dialog import SignInDialog  # start-up: only when someone signs in

        dialog = SignInDialog(self.services, self, message=message)
        dialog.signed_in.connect(self._signed_in)
        dialog.finished.connect(self._sign_in_closed)
        self.sign_in_dialog = dialog
        dialog.open()
        return dialog

    def _sign_in_closed(self) -> None:
        if self.sign_in_dialog is not None:
            self.sign_in_dialog.deleteLater()
        self.sign_in_dialog = None

    def _signed_in(self, learner) -> None:
        self.sync.forget_error()
        self.events.learner_changed.emit(self.sign_in_dialog)
        self.sync.restart_timer()
        self.sync_now(user=False)
        self.download_runner.start_if_queued()  # downloads that stopped for a sign-in carry on

    # ------------------------------------------------------------------ services

    def attach_services(self, services) -> None:
        """The services are open: build the pages that use them and start working."""
        self.services = services
        self.learner = services.current_learner()
        self._build_pages()
        self.sync.set_services(services)
        self.reload_library()
        self.idle.setup(services)
        if self._start_pending:
            self._start_pending = False
            self._start_work()

    def open_services_in_background(self, open_services) -> None:
        """Run `open_services()` on a worker; attach what it returns (shell windows only).

        It starts after the library's first paint: importing SQLAlchemy on the worker
        holds the GIL in long stretches and would otherwise delay that paint.
        """
        started = []

        def start() -> None:
            if not started:
                started.append(True)
                run_task(self, open_services, self._services_opened, self._services_failed)

        if self.library.model.rowCount() > 0:
            self.library.first_rows_painted.connect(lambda: QTimer.singleShot(0, start))
            QTimer.singleShot(1000, start)  # in case the window is never painted (minimised)
        else:
            QTimer.singleShot(0, start)

    def _services_opened(self, services) -> None:
        self.owned_services.append(services)
        if not self._shutting_down:
            self.attach_services(services)

    def _services_failed(self, exc: BaseException) -> None:
        log.error("opening the local cache failed", exc_info=exc)
        self.status_label.setText("The local cache could not be opened")
        self.error_label.setText(f"⚠ {exc}")
        self.error_label.setToolTip(str(exc))

    def set_services(self, services, *, owned: bool = True) -> None:
        """Switch to another Services (the demo's); the old one stays open for its caller."""
        from desktop.views.download_runner import DownloadRunner  # start-up: loaded with the pages

        if owned:
            self.owned_services.append(services)
        self.services = services
        self.sync.set_services(services)
        built = [self.built_page(i) for i in (SETTINGS, CREDITS)]  # the others are built with these services
        for page in (*filter(None, built), self.learner_button, self.download_queue, self.search_panel):
            page.set_services(services)
        self.download_runner.stop()
        self.download_runner.deleteLater()
        self.download_runner = DownloadRunner(services, self)
        self._connect_runner()
        self.learner = services.current_learner()
        self.reload_library()
        self.sync.restart_timer()
        self.idle.setup(services)
        self.show_section(LIBRARY)
        self.services_changed.emit(services)

    # ------------------------------------------------------------------ idle lock (policy)

    def _idle_lock_starts(self) -> None:
        if self.sign_in_dialog is not None:
            self.sign_in_dialog.done(0)
        if self.learner_button.switch_dialog is not None:
            self.learner_button.switch_dialog.done(0)
        self.show_section(LIBRARY)  # leaves the activity page (the player pauses when hidden)

    def _idle_locked(self) -> None:
        if self._shutting_down:
            return
        self.events.learner_changed.emit(self.idle)  # every learner-scoped view empties itself
        self.status_label.setText("Locked: enter your password to continue. Downloaded activities stay.")
        self.idle_locked.emit()
        self.open_unlock()

    def open_unlock(self):
        """The locked screen: a learner's password makes them current again."""
        learners = self.services.learners()
        return self.learner_button.open_proof(learners[0].id if learners else None, locked=True)

    def _after_switch(self) -> None:
        self.sync.forget_error()
        self.sync_now(user=False)

    # ------------------------------------------------------------------ start and stop

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._started:
            self._started = True
            QTimer.singleShot(0, self._on_first_show)

    def _on_first_show(self) -> None:
        if self._bench:
            if self.library.model.rowCount() == 0:
                print("first-paint-ms: the library is empty; nothing to measure", file=sys.stderr, flush=True)
                QApplication.exit(1)
            return
        if self.services is None:
            self._start_pending = True  # attach_services starts the work
            return
        self._start_work()

    def _start_work(self) -> None:
        """Timers, start-up sync, resumed downloads, or the first-run welcome."""
        self.status_timer.start()
        self.sync.restart_timer()
        self.download_runner.start_if_queued()  # resume what a previous session left
        if self.services.server_url is None:
            self.open_welcome()
        elif self.services.current_learner() is not None and self.services.settings.idle_sign_out_minutes:
            self.idle.lock_now()  # a shared workstation: whoever opens the app proves who they are
        elif self.services.current_learner() is not None:
            self.sync_now(user=False)
        elif self.services.locked():
            self.open_unlock()

    def open_welcome(self):
        from desktop.views.welcome_dialog import WelcomeDialog  # start-up: only on the first run

        dialog = WelcomeDialog(self.services, self.demo_launcher, self)
        dialog.demo_ready.connect(self._demo_ready)
        dialog.accepted.connect(lambda: self._welcome_done(dialog))
        self.welcome_dialog = dialog
        dialog.open()
        return dialog

    def _demo_ready(self, services) -> None:
        self.demo = True
        self.setWindowTitle("CME Offline — demo")
        self.set_services(services)

    def _welcome_done(self, dialog) -> None:
        self.welcome_dialog = None
        if dialog.choice == "server":
            self.refresh_status()
            settings = self.built_page(SETTINGS)  # a page not built yet reads the settings when it is
            if settings is not None:
                settings.refresh()
            self.open_sign_in()
        dialog.deleteLater()

    def _bench_report(self) -> None:
        mark("first paint")
        callgrind_mark()
        print(*phase_lines(), sep="\n", flush=True)
        print(f"first-paint-ms {first_paint_ms():.1f}", flush=True)
        QTimer.singleShot(0, QApplication.quit)

    def shutdown(self) -> None:
        """Stop timers and queue the last writes; called on close and by end_session before it drains the writer."""
        self._shutting_down = True
        if self.sync is not None:
            self.sync.stop()
        self.status_timer.stop()
        if self.services is not None:
            self.idle.stop()
            self.activity_page.watch_tab.close_activity()  # the last place, queued after the pending writes
            if self.services.settings.idle_sign_out_minutes and self.services.current_learner() is not None:
                # A shared workstation: the CLI and the next start find nobody's session open.
                run_write(None, self.services.lock)
            self.download_runner.stop()  # jobs stay queued with their bytes; the next start resumes

    def closeEvent(self, event) -> None:
        if not self._shutting_down and not self.may_leave_page():  # unsaved Settings: the learner chose to stay
            event.ignore()
            return
        self.remember_place()
        self.shutdown()
        button = getattr(self, "learner_button", None)  # built with the pages
        for dialog in (self.sign_in_dialog, self.welcome_dialog, button.switch_dialog if button else None):
            if dialog is not None:
                dialog.done(0)
        super().closeEvent(event)
