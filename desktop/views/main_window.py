"""The main window: navigation, the library and activity pages, sync, and the status bar.

Entry point: `run_gui(services, demo=False, demo_launcher=None) -> int`, or
`run_gui(open_services=factory, first_paint=snapshot)` to paint the cached library at once
and open the services (SQLAlchemy, migrations, settings) on a worker meanwhile: the window
starts as a shell (library only) and `attach_services` builds the rest.

Benchmark hook: with `CME_OFFLINE_BENCH_FIRST_PAINT=1` the window skips the start-up sync
and the first-run dialog, and after the library table's first paint that shows rows it
prints `first-paint-ms <ms>` to stdout and quits (exit code 0; 1 when the library is
empty). The time is measured from `CME_OFFLINE_T0` (seconds since the epoch, as from
`time.time()`) if set, else from the process start time the OS reports.
"""

from __future__ import annotations

import logging
import os
import sys
import time

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QSystemTrayIcon,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from typing import TYPE_CHECKING

from desktop.errors import SignInRequired, CmeError
from desktop.views.library_view import LibraryView
from desktop.views.tasks import run_task, wait_for_tasks, wait_for_writes
from desktop.views.text import error_text, human_bytes, relative_time, short_error

# The other pages (and the player, search, settings behind them) are imported when the
# services arrive: the first paint of the library needs none of them.
if TYPE_CHECKING:
    from desktop.views.sign_in_dialog import SignInDialog

log = logging.getLogger(__name__)

_IMPORTED_AT = time.time()
BENCH_ENV = "CME_OFFLINE_BENCH_FIRST_PAINT"
T0_ENV = "CME_OFFLINE_T0"

SECTIONS = ("Library", "Downloads", "My credits", "Settings")
LIBRARY, DOWNLOADS, CREDITS, SETTINGS, ACTIVITY = range(5)
STATUS_REFRESH_MS = 30_000
WRITES_AT_EXIT_MS = 10_000  # at most this long for pending writes (a locked database) before the cache closes


def bench_mode() -> bool:
    return os.environ.get(BENCH_ENV, "") not in ("", "0")


def process_start_time() -> float:
    """Seconds since the epoch when this process started (or the benchmark's T0)."""
    env = os.environ.get(T0_ENV)
    if env:
        try:
            return float(env)
        except ValueError:
            log.warning("%s=%r is not a number; using the process start", T0_ENV, env)
    try:  # Linux: start time in clock ticks after boot, and the boot time
        with open("/proc/self/stat", encoding="ascii") as fh:
            ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat", encoding="ascii") as fh:
            btime = next(int(line.split()[1]) for line in fh if line.startswith("btime"))
        return btime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration, AttributeError):
        return _IMPORTED_AT


class MainWindow(QMainWindow):
    sync_started = Signal()
    sync_finished = Signal(object)  # a SyncReport, or the exception that ended the sync
    services_changed = Signal(object)
    notified = Signal(str)  # a notification was shown (tray, or the status bar without one)
    idle_signed_out = Signal(int)  # policy idle sign-out happened: how many learners were signed out

    def __init__(self, services=None, *, demo: bool = False, demo_launcher=None, first_paint=None):
        super().__init__()
        self.demo = demo
        self.demo_launcher = demo_launcher
        self.owned_services: list = []  # Services this window created (the demo): closed by run_gui
        self.syncing = False
        self.sign_in_dialog: SignInDialog | None = None
        self.welcome_dialog = None
        self._session_error: str | None = None  # this session's last sync failure, if any
        self._session_exc: BaseException | None = None
        self._started = False
        self._bench = bench_mode()
        self.learner = None
        self.services = None
        self.tray: QSystemTrayIcon | None = None
        self.last_notification: str | None = None
        self._shutting_down = False
        self._start_pending = False  # shown before the services arrived
        self.idle_watcher = None  # machine policy idle_sign_out_minutes (views/idle.py)

        self.setWindowTitle("CME Offline — demo" if demo else "CME Offline")
        self.setAccessibleName("CME Offline")
        self.resize(1100, 700)

        self._build_top_bar()
        self._build_shell()
        self._build_status_bar()

        self.sync_timer = QTimer(self)
        self.sync_timer.timeout.connect(lambda: self.sync_now(user=False))
        self.status_timer = QTimer(self)
        self.status_timer.setInterval(STATUS_REFRESH_MS)
        self.status_timer.timeout.connect(self.refresh_status)

        if self._bench:
            self.library.first_rows_painted.connect(self._bench_report)
        if services is not None:
            self.attach_services(services)
        elif first_paint is not None:
            self.library.set_rows(first_paint.rows, first_paint.profession)
            self.status_label.setText("Opening the local cache…")

    # ------------------------------------------------------------------ build

    def _build_top_bar(self) -> None:
        bar = QToolBar("Main", self)
        bar.setObjectName("main-toolbar")
        bar.setMovable(False)
        bar.setFloatable(False)
        bar.setAccessibleName("Main toolbar")
        bar.setToolTip("Search and sync")
        self.addToolBar(bar)
        title = QLabel(" CME Offline ", bar)
        title.setAccessibleName("CME Offline")
        title.setToolTip("CME Offline: accredited activities, available without a network")
        bar.addWidget(title)
        spacer = QWidget(bar)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.search_edit = QLineEdit(bar)
        self.search_edit.setPlaceholderText("Search transcripts, summaries, titles…")
        self.search_edit.setEnabled(False)
        self.search_edit.setAccessibleName("Search")
        self.search_edit.setToolTip("Search arrives with offline media")
        self.search_edit.setMinimumWidth(320)
        bar.addWidget(spacer)
        bar.addWidget(self.search_edit)
        self.sync_button = QPushButton("⟳ Sync now", bar)
        self.sync_button.setAccessibleName("Sync now")
        self.sync_button.setToolTip("Sync with the credit server now (Ctrl+R)")
        self.sync_button.clicked.connect(lambda: self.sync_now(user=True))
        bar.addWidget(self.sync_button)
        self.sync_action = QAction("Sync now", self)
        self.sync_action.setShortcut(QKeySequence("Ctrl+R"))
        self.sync_action.setToolTip("Sync with the credit server now")
        self.sync_action.triggered.connect(lambda: self.sync_now(user=True))
        self.addAction(self.sync_action)
        self.search_action = QAction("Search", self)
        self.search_action.setShortcuts([QKeySequence("Ctrl+K"), QKeySequence("Ctrl+F")])
        self.search_action.setToolTip("Search titles, summaries and transcripts")
        self.search_action.triggered.connect(self.focus_search)
        self.addAction(self.search_action)

    def _build_shell(self) -> None:
        """Navigation and the library: all the first paint needs."""
        self.nav = QListWidget(self)
        self.nav.setAccessibleName("Sections")
        self.nav.setToolTip("Switch sections (Ctrl+1 to Ctrl+4)")
        for i, name in enumerate(SECTIONS):
            item = QListWidgetItem(name)
            item.setToolTip(f"{name} (Ctrl+{i + 1})")
            self.nav.addItem(item)
        self.nav.setMaximumWidth(180)
        self.nav.currentRowChanged.connect(self.show_section)

        self.library = LibraryView(self)
        self.library.open_activity.connect(self.open_activity)
        self.stack = QStackedWidget(self)
        self.stack.setAccessibleName("Section content")
        self.stack.addWidget(self.library)

        splitter = QSplitter(self)
        splitter.addWidget(self.nav)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([160, 940])
        self.setCentralWidget(splitter)
        self.nav.setCurrentRow(LIBRARY)

        for i in range(len(SECTIONS)):
            action = QAction(f"Show {SECTIONS[i]}", self)
            action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            action.triggered.connect(lambda _=False, i=i: self.show_section(i))
            self.addAction(action)

    def _build_pages(self) -> None:
        """The pages that work on the services; built once they are open."""
        from desktop.views.activity.page import ActivityPage
        from desktop.views.download_runner import DownloadRunner
        from desktop.views.downloads_page import DownloadsPage
        from desktop.views.credits_page import CreditsPage
        from desktop.views.learner_menu import LearnerButton
        from desktop.views.pages import SettingsPage
        from desktop.views.search_panel import SearchPanel

        self.activity_page = ActivityPage(self)
        self.activity_page.back_requested.connect(lambda: self.show_section(LIBRARY))
        self.downloads_page = DownloadsPage(self.services, self)
        self.download_runner = DownloadRunner(self.services, self)
        self._connect_downloads()
        self.library.download_requested.connect(self.download_activities)
        self.activity_page.download_requested.connect(self.download_activities)
        self.activity_page.remove_video_requested.connect(lambda a: self.downloads_page.remove_videos([a]))
        self.search_panel = SearchPanel(self.services, self.search_edit, self)
        self.search_panel.open_hit.connect(self.open_search_hit)
        self.settings_page = SettingsPage(self.services, self)
        self.settings_page.sign_in_requested.connect(lambda: self.open_sign_in())
        self.settings_page.settings_changed.connect(self._settings_changed)
        self.settings_page.signed_out.connect(self._learner_changed)
        self.credits_page = CreditsPage(self.services, self)
        self.activity_page.learning_changed.connect(self._learning_changed)
        self.sync_finished.connect(self._learning_synced)
        self.learner_button = LearnerButton(self.services, self)
        self.learner_button.about_to_switch.connect(self.activity_page.watch_tab.close_activity)
        self.learner_button.switched.connect(lambda _learner: self._learner_changed())
        self.learner_button.sign_in_requested.connect(self._sign_in_as)
        self.statusBar().addPermanentWidget(self.learner_button)
        for page in (self.downloads_page, self.credits_page, self.settings_page, self.activity_page):
            self.stack.addWidget(page)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setAccessibleName("Status")
        bar.setSizeGripEnabled(True)

        def label(name: str, tip: str) -> QLabel:
            lab = QLabel(bar)
            lab.setAccessibleName(name)
            lab.setToolTip(tip)
            return lab

        self.status_label = label("Status", "Connection · last sync · who is signed in · storage used")
        self.error_label = label("Sync problem", "The last sync problem")
        self.error_label.setStyleSheet("color: #c62828; font-weight: bold;")
        # Permanent widgets stay visible while a passing message (e.g. "Downloaded: …") shows.
        bar.addPermanentWidget(self.error_label, 1)
        bar.addPermanentWidget(self.status_label)

    # ------------------------------------------------------------------ navigation

    def show_section(self, index: int) -> None:
        if index < 0 or index >= self.stack.count():  # pages not built yet: stay on the library
            return
        if self.nav.currentRow() != index and index < len(SECTIONS):
            self.nav.blockSignals(True)
            self.nav.setCurrentRow(index)
            self.nav.blockSignals(False)
        self.stack.setCurrentIndex(index)
        if index == LIBRARY:
            self.library.focus_table()
        elif index == DOWNLOADS:
            self.downloads_page.refresh()
        elif index == SETTINGS:
            self.settings_page.refresh()
        elif index == CREDITS:
            self.credits_page.refresh()

    def open_activity(self, activity_id: str) -> None:
        detail = self.services.activity_detail(activity_id)
        if detail is None:  # withdrawn by a sync in between
            self.reload_library()
            return
        self.activity_page.show_activity(detail, self.profession)
        self.stack.setCurrentIndex(ACTIVITY)
        self.activity_page.back_button.setFocus()

    def open_search_hit(self, activity_id: str, time_ms) -> None:
        """A search result chosen: open its activity, at that moment for a transcript hit."""
        self.open_activity(activity_id)
        if self.stack.currentIndex() != ACTIVITY or time_ms is None:
            return
        open_at = getattr(self.activity_page, "open_at", None)  # the Watch tab's, when present
        if callable(open_at):
            open_at(int(time_ms))

    def focus_search(self) -> None:
        if self.services is not None:
            self.search_panel.focus()

    @property
    def profession(self) -> str | None:
        return self.learner.profession if self.learner else None

    # ------------------------------------------------------------------ data

    def reload_library(self) -> None:
        self.library.set_rows(self.services.library_rows(), self.profession)

    def refresh_status(self) -> None:
        if self.services is None:
            return
        try:
            st = self.services.status()
        except Exception:  # a closed or broken cache must not take the window down
            log.exception("reading the status failed")
            return
        self.learner = st.learner
        parts = []
        if st.online is True:
            parts.append("● Online")
        elif st.online is False:
            parts.append("○ Offline")
        if self.syncing:
            parts.append("Syncing…")
        elif st.last_sync_at is None:
            parts.append("Not yet synced")
        else:
            parts.append(f"last synced {relative_time(st.last_sync_at)}")
        if st.server_url is None:
            parts.append("No server set")
        elif st.learner:
            parts.append(st.learner.display_name or st.learner.username)
        else:
            parts.append("Not signed in")
        pending = self.downloads_page.model.active_count()
        if pending:
            parts.append(f"{pending} download{'s' * (pending != 1)} pending")
        if st.pending_completions:
            n = st.pending_completions
            parts.append(f"{n} completion{'s' * (n != 1)} waiting to sync")
        parts.append(f"{human_bytes(st.storage_bytes)} used")
        self.status_label.setText(" · ".join(parts))
        synced = f"Last synced {st.last_sync_at:%Y-%m-%d %H:%M} UTC" if st.last_sync_at else "Never synced"
        self.status_label.setToolTip(f"{synced}. Server: {st.server_url or 'none set'}.")
        error = self._session_error or st.last_error
        exc = self._session_exc if self._session_error else None
        self.error_label.setText(f"⚠ {short_error(error, exc)}" if error else "")
        self.error_label.setToolTip(error or "No sync problem")
        self.error_label.setAccessibleDescription(error or "")

    def status_text(self) -> str:
        """The status bar as one line, as a user reads it."""
        error = self.error_label.text()
        return self.status_label.text() + (f" · {error}" if error else "")

    # ------------------------------------------------------------------ downloads

    def _connect_downloads(self) -> None:
        page = self.downloads_page
        self._connect_runner()
        page.start_requested.connect(lambda: self.download_runner.start())
        page.jobs_changed.connect(self._downloads_changed)
        page.media_changed.connect(self._media_removed)
        page.open_activity.connect(self.open_activity)

    def _connect_runner(self) -> None:
        self.download_runner.event.connect(self._download_event)
        self.download_runner.run_finished.connect(self._downloads_run_finished)

    def download_activities(self, activity_ids: list) -> None:
        self.downloads_page.download_activities(list(activity_ids))

    def _download_event(self, event) -> None:
        page = self.downloads_page
        page.apply_event(event)
        self.library.set_download_progress(page.model.progress_by_activity())
        if event.state == "done" and page.model.unfinished_for(event.activity_id) == 0:
            title = page._titles.get(event.activity_id) or event.activity_id
            self.notify("Download finished", f"Downloaded: {title}")

    def _downloads_changed(self) -> None:
        """The job list was reloaded: badge, library media column, status bar."""
        active = self.downloads_page.model.active_count()
        item = self.nav.item(DOWNLOADS)
        item.setText(f"Downloads {active}" if active else "Downloads")
        item.setToolTip(f"Downloads: {active} active (Ctrl+2)" if active else "Downloads (Ctrl+2)")
        self.reload_library()
        self.library.set_download_progress(self.downloads_page.model.progress_by_activity())
        self.refresh_status()

    def _media_removed(self) -> None:
        detail = self.activity_page.detail
        if self.stack.currentIndex() == ACTIVITY and detail is not None:
            self.open_activity(detail.id)  # the Files list and buttons show the change

    def _downloads_run_finished(self, outcome) -> None:
        if self._shutting_down:
            return
        if isinstance(outcome, BaseException):
            text = str(outcome) if isinstance(outcome, CmeError) else error_text(outcome)
            self.downloads_page._note(f"Downloads stopped: {text}")
            if isinstance(outcome, SignInRequired):
                self.open_sign_in(message=str(outcome))
        self.downloads_page.schedule_refresh()

    def notify(self, title: str, text: str) -> None:
        """A tray message when the system has a tray, else a status-bar message."""
        self.last_notification = text
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self.tray is None:
                icon = self.windowIcon()
                if icon.isNull():
                    icon = self.style().standardIcon(QStyle.StandardPixmap.SP_ArrowDown)
                self.tray = QSystemTrayIcon(icon, self)
                self.tray.setToolTip("CME Offline")
                self.tray.show()
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 8000)
        else:
            self.statusBar().showMessage(text, 10_000)
        self.notified.emit(text)

    # ------------------------------------------------------------------ sync

    def sync_now(self, *, user: bool = True) -> bool:
        """Start a sync in the background; False if one is running or it cannot start."""
        if self.syncing or self.services is None:
            return False
        s = self.services
        if s.server_url is None:
            if user:
                self._session_error = "No credit server is set. Enter your provider's server address in Settings."
                self._session_exc = None
                self.refresh_status()
                self.show_section(SETTINGS)
            return False
        if s.current_learner() is None:
            if user:
                self.open_sign_in()
            return False
        self.syncing = True
        self.sync_button.setEnabled(False)
        self.sync_button.setText("Syncing…")
        self.refresh_status()
        self.sync_started.emit()
        run_task(self, lambda: s.sync(retry_now=user), self._sync_done, self._sync_failed)
        return True

    def _sync_ended(self) -> None:
        self.syncing = False
        self.sync_button.setEnabled(True)
        self.sync_button.setText("⟳ Sync now")

    def _sync_done(self, report) -> None:
        self._sync_ended()
        self._session_error = None
        if not report.not_modified or self.library.model.rowCount() == 0:
            self.reload_library()
        self.refresh_status()
        self.sync_finished.emit(report)

    def _sync_failed(self, exc: BaseException) -> None:
        self._sync_ended()
        if not isinstance(exc, CmeError):
            log.error("sync failed unexpectedly", exc_info=exc)
        self._session_error = str(exc) if isinstance(exc, CmeError) else error_text(exc)
        self._session_exc = exc
        self.refresh_status()
        self.sync_finished.emit(exc)
        if isinstance(exc, SignInRequired):
            self.open_sign_in(message=str(exc))

    def _settings_changed(self) -> None:
        self._restart_sync_timer()
        self._learner_changed()

    def _restart_sync_timer(self) -> None:
        self.sync_timer.start(self.services.settings.sync_interval_minutes * 60_000)

    def _learner_changed(self) -> None:
        self.refresh_status()
        self.library.set_profession(self.profession)
        self.settings_page.refresh()
        # Learner-scoped views: My credits, the learner button, and the open activity's state.
        self.credits_page.refresh()
        self.learner_button.refresh()
        if self.activity_page.detail is not None:
            self.activity_page.reload()

    def _learning_changed(self) -> None:
        """An acknowledgement, attempt, evaluation or claim was recorded."""
        self.refresh_status()
        self.credits_page.refresh()

    def _learning_synced(self, outcome) -> None:
        """After every sync: claims may have been accepted or refused."""
        report = getattr(outcome, "completions", None)
        self.credits_page.refresh()
        if self.activity_page.detail is not None:
            self.activity_page.refresh_learning()
        if report is not None and (report.accepted or report.rejected):
            parts = []
            if report.accepted:
                parts.append(f"{report.accepted} claim{'s' * (report.accepted != 1)} accepted; the certificate is in "
                             "My credits")
            if report.rejected:
                parts.append(f"{report.rejected} refused by the server (see My credits for why)")
            self.notify("Credit", ". ".join(parts) + ".")

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
        from desktop.views.sign_in_dialog import SignInDialog

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
        self._session_error = None
        self._learner_changed()
        self._restart_sync_timer()
        self.sync_now(user=False)
        self.download_runner.start_if_queued()  # downloads that stopped for a sign-in carry on

    # ------------------------------------------------------------------ services

    def attach_services(self, services) -> None:
        """The services are open: build the pages that use them and start working."""
        self.services = services
        self.learner = services.current_learner()
        self._build_pages()
        self.reload_library()
        self.refresh_status()
        self._setup_idle()
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
        from desktop.views.download_runner import DownloadRunner

        if owned:
            self.owned_services.append(services)
        self.services = services
        self._session_error = None
        self.settings_page.set_services(services)
        self.credits_page.set_services(services)
        self.learner_button.set_services(services)
        self.download_runner.stop()
        self.download_runner.deleteLater()
        self.download_runner = DownloadRunner(services, self)
        self._connect_runner()
        self.downloads_page.set_services(services)
        self.search_panel.set_services(services)
        self.learner = services.current_learner()
        self.reload_library()
        self.refresh_status()
        self._restart_sync_timer()
        self._setup_idle()
        self.show_section(LIBRARY)
        self.services_changed.emit(services)

    # ------------------------------------------------------------------ idle sign-out (policy)

    def _setup_idle(self) -> None:
        from desktop.views.idle import IdleWatcher

        if self.idle_watcher is not None:
            self.idle_watcher.stop()
            self.idle_watcher.deleteLater()
            self.idle_watcher = None
        minutes = getattr(self.services.settings, "idle_sign_out_minutes", None)
        if minutes:
            self.idle_watcher = IdleWatcher(float(minutes), self)
            self.idle_watcher.timed_out.connect(self._idle_timeout)

    def _idle_timeout(self) -> None:
        """Nobody touched the app for the policy's idle time: sign everyone out, keep the content."""
        if self._shutting_down or self.services is None or self.services.current_learner() is None:
            return
        log.info("idle sign-out after %s minutes without input", self.services.settings.idle_sign_out_minutes)
        if self.sign_in_dialog is not None:
            self.sign_in_dialog.done(0)
        self.show_section(LIBRARY)  # leaves the activity page (the player pauses when hidden)
        services = self.services
        run_task(self, services.sign_out_everyone, self._idle_signed_out, self._idle_sign_out_failed)

    def _idle_signed_out(self, count: int) -> None:
        self._session_error = None
        self._learner_changed()
        self.status_label.setText("Signed out after a period without use. Downloaded activities stay on this computer.")
        self.idle_signed_out.emit(count)

    def _idle_sign_out_failed(self, exc: BaseException) -> None:
        log.error("idle sign-out failed", exc_info=exc)
        self.refresh_status()

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
        self._restart_sync_timer()
        self.download_runner.start_if_queued()  # resume what a previous session left
        if self.services.server_url is None:
            self.open_welcome()
        elif self.services.current_learner() is not None:
            self.sync_now(user=False)

    def open_welcome(self):
        from desktop.views.welcome_dialog import WelcomeDialog

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
            self.settings_page.refresh()
            self.open_sign_in()
        dialog.deleteLater()

    def _bench_report(self) -> None:
        ms = (time.time() - process_start_time()) * 1000.0
        print(f"first-paint-ms {ms:.1f}", flush=True)
        QTimer.singleShot(0, QApplication.quit)

    def shutdown(self) -> None:
        """Stop timers and queue the last writes; called on close and by run_gui before it drains the writer."""
        self._shutting_down = True
        self.sync_timer.stop()
        self.status_timer.stop()
        if self.idle_watcher is not None:
            self.idle_watcher.stop()
        if self.services is not None:
            self.activity_page.watch_tab.close_activity()  # the last place, queued after the pending writes
            self.download_runner.stop()  # jobs stay queued with their bytes; the next start resumes

    def closeEvent(self, event) -> None:
        self.shutdown()
        for dialog in (self.sign_in_dialog, self.welcome_dialog):
            if dialog is not None:
                dialog.done(0)
        super().closeEvent(event)


def ensure_app() -> QApplication:
    app = QApplication.instance()
    if app is None:
        QApplication.setApplicationName("CME Offline")
        QApplication.setOrganizationName("CME Offline")
        app = QApplication(sys.argv[:1])
        app.setStyle("Fusion")
    return app


def run_gui(
    services=None, *, demo: bool = False, demo_launcher=None, open_services=None, first_paint=None
) -> int:
    """Show the main window until it is closed; returns the exit code.

    Give either `services` (left open for the caller to close) or `open_services`, a
    function run on a worker whose result the window owns, with `first_paint` (the cached
    library rows) to show meanwhile. Services created here are closed before returning.
    """
    app = ensure_app()
    window = MainWindow(services, demo=demo, demo_launcher=demo_launcher, first_paint=first_paint)
    window.show()
    if services is None:
        window.open_services_in_background(open_services)
    try:
        code = app.exec()
    finally:
        end_session(window)
        window.deleteLater()
    return code


def end_session(window: MainWindow) -> None:
    """After the window closed: last writes first, then the cache.

    The window queues its last writes (the Watch tab's place) behind those pending; the
    writer is drained (at most WRITES_AT_EXIT_MS), the task pool is waited for, and only
    then are the Services this window owns closed.
    """
    window.shutdown()
    if not wait_for_writes(WRITES_AT_EXIT_MS):
        log.warning("writes to the local cache still running after %d ms at exit", WRITES_AT_EXIT_MS)
    wait_for_tasks(writes=False)
    QApplication.processEvents()
    for owned in window.owned_services:
        try:
            owned.close()
        except Exception:  # closing must not hide the real exit code
            log.exception("closing the demo services failed")
