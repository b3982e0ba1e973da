"""The main window: navigation, the library and activity pages, sync, and the status bar.

Entry point: `run_gui(services, demo=False, demo_launcher=None) -> int`, or
`run_gui(open_services=factory, first_paint=snapshot)` to paint the cached library at once
and open the services (SQLAlchemy, migrations, settings) on a worker meanwhile: the window
starts as a shell (library only) and `attach_services` builds the rest. With `demo=True`
and no services the demo launcher runs on that worker, its stages (server, sign-in) shown
in the status bar as they begin; the first sync follows as any sync does. Benchmark hooks:
views/startup.py (`CME_OFFLINE_BENCH_FIRST_PAINT`), views/window_frame.py
(`CME_OFFLINE_BENCH_LAUNCH`).

The window composes; it does not fan changes out. Whatever records a change announces it
on `self.events` (views/events.py) and every page subscribes for itself. Writes go to the
app's one writer (views/tasks.py); at exit `end_session` drains it before the cache closes.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QListWidgetItem,
    QMainWindow,
    QSplitter,
    QStackedWidget,
)

from desktop.errors import SignInRequired
from desktop.views import accessibility
from desktop.views.accessibility import FOCUS_RING
from desktop.views.events import AppEvents
from desktop.views.library_view import LibraryView
from desktop.views.section_list import SectionList
from desktop.views.startup import bench_mode, mark, resume_collector
from desktop.views.status_line import StatusLine
from desktop.views.tasks import wait_for_tasks, wait_for_writes
from desktop.views.theme import app_theme
from desktop.views.top_bar import TopBar
from desktop.views.window_frame import LaunchProbe, WindowFrame
from desktop.views.window_pages import ACTIVITY, CREDITS, DOWNLOADS, LIBRARY, SECTIONS, SETTINGS, WindowPages
from desktop.views.window_prefs import WindowPrefs
from desktop.views.window_session import WindowSession
from desktop.views import qt_source_reads  # noqa: F401 - Qt's import hook without its source cache

# The other pages (and the player, search, settings behind them) are imported when the
# services arrive (views/later_pages.py): the first paint of the library needs none of them.
if TYPE_CHECKING:
    from desktop.views.sign_in_dialog import SignInDialog

log = logging.getLogger(__name__)

STATUS_REFRESH_MS = 30_000
WRITES_AT_EXIT_MS = 10_000  # at most this long for pending writes (a locked database) before the cache closes
TASKS_AT_EXIT_MS = 300  # reads and network work left running after that do not hold the exit (they write nothing of ours)


class MainWindow(WindowPages, WindowSession, WindowFrame, QMainWindow):
    sync_started = Signal()
    sync_finished = Signal(object)  # a SyncReport, or the exception that ended the sync
    services_changed = Signal(object)
    notified = Signal(str)  # a notification was shown (tray, or the status bar without one)
    idle_locked = Signal()  # the policy's idle lock happened: nobody is current until a password is given
    start_progress = Signal(str)  # a start-up stage begins (any thread): shown in the status bar

    def __init__(self, services=None, *, demo: bool = False, demo_launcher=None, first_paint=None,
                 prefs: WindowPrefs | None = None):
        super().__init__()
        if prefs is None:
            prefs = WindowPrefs(services.paths.data_dir if services is not None else None)
        self.prefs = prefs
        self.demo = demo
        self.demo_launcher = demo_launcher
        self.owned_services: list = []  # Services this window created (the demo): closed by end_session
        self.sign_in_dialog: SignInDialog | None = None
        self.welcome_dialog = None
        self._started = False
        self._bench = bench_mode()
        self.learner = None
        self.services = None
        self.tray = None  # a QSystemTrayIcon once a notification needs one
        self.last_notification: str | None = None
        self._shutting_down = False
        self._start_pending = False  # shown before the services arrived
        self.events = AppEvents(self)
        self._page_builders: dict = {}  # the pages not built yet (`page`)

        self.setWindowTitle("CME Offline — demo" if demo else "CME Offline")
        self.setAccessibleName("CME Offline")
        self.place_on_screen()

        self.top_bar = TopBar(self)
        self.addToolBar(self.top_bar)
        self.search_edit, self.sync_button = self.top_bar.search_edit, self.top_bar.sync_button
        self.sync_button.clicked.connect(lambda: self.sync_now(user=True))
        self.top_bar.sync_action.triggered.connect(lambda: self.sync_now(user=True))
        self.top_bar.search_action.triggered.connect(self.focus_search)
        self._build_shell()
        self.status_line = StatusLine(self.statusBar())
        self.status_label, self.error_label = self.status_line.status_label, self.status_line.error_label
        self.start_progress.connect(self.status_label.setText)

        self.sync = None  # a SyncControl once the services are open
        self.status_timer = QTimer(self)
        self.status_timer.setInterval(STATUS_REFRESH_MS)
        self.status_timer.timeout.connect(self.refresh_status)
        self.events.catalog_changed.connect(lambda _source: self.reload_library())
        self.events.learner_changed.connect(self._learner_changed)
        self.events.learning_changed.connect(lambda _source: self.refresh_status())
        self.events.downloads_changed.connect(self._downloads_changed)

        if self._bench:
            self.library.first_rows_painted.connect(self._bench_report)
        if LaunchProbe.wanted():
            self.launch_probe = LaunchProbe(self, self.top_bar)
        if services is not None:
            self.attach_services(services)
        elif first_paint is not None:
            self.library.set_rows(first_paint.rows, first_paint.profession)
            self.status_label.setText("Opening the local cache…")
        # Focus always visible (views/accessibility.py). Set once the shell exists: set before it,
        # each widget the shell creates is restyled as it is added (~6 ms more CPU before the
        # first paint); the pages built later take it as they are created.
        self.setStyleSheet(FOCUS_RING)

    # ------------------------------------------------------------------ build

    def _build_shell(self) -> None:
        """Navigation and the library: all the first paint needs."""
        self.nav = SectionList(self)  # its current item claims focus only while it has it
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
        # As wide as the section names (with a downloads count), so the library's titles get the rest.
        fm = self.nav.fontMetrics()
        nav_width = max(fm.horizontalAdvance(text) for text in (*SECTIONS, "Downloads 99")) + 34
        splitter.setSizes([nav_width, 1100 - nav_width])
        self.setCentralWidget(splitter)
        self.nav.setCurrentRow(LIBRARY)

        for i in range(len(SECTIONS)):
            action = QAction(f"Show {SECTIONS[i]}", self)
            action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            action.triggered.connect(lambda _=False, i=i: self.show_section(i))
            self.addAction(action)

    def _build_pages(self) -> None:
        """The pages that work on the services; built once they are open."""
        from desktop.views import later_pages as p  # start-up: imported after the library's first paint

        services, events = self.services, self.events
        self.sync = p.SyncControl(events, self)
        self.sync_timer = self.sync.timer
        self.sync.started.connect(self._sync_started)
        self.sync.finished.connect(self._sync_finished)
        self.sync.needs_server.connect(lambda: (self.refresh_status(), self.show_section(SETTINGS)))
        self.sync.needs_sign_in.connect(lambda: self.open_unlock() if self.services.locked() else self.open_sign_in())
        self.activity_page = p.ActivityPage(self, services=None, events=events)  # follows the window's services
        self.activity_page.back_requested.connect(lambda: self.show_section(LIBRARY))
        self.download_queue = p.DownloadQueue(services, self, events=events)
        self.quality_asker = p.QualityAsker(self, lambda: self.services)
        self.library.describe_download = self.quality_asker.describe
        self.download_runner = p.DownloadRunner(services, self)
        self._connect_downloads()
        self.search_panel = p.SearchPanel(services, self.search_edit, self, events=events)
        self.search_panel.open_hit.connect(self.open_search_hit)
        self.learner_button = p.LearnerButton(services, self, events=events)
        self.learner_button.about_to_switch.connect(self.activity_page.watch_tab.close_activity)
        self.learner_button.sign_in_requested.connect(self._sign_in_as)
        self.statusBar().addPermanentWidget(self.learner_button)
        # Commitment-to-change reminders (rule 5): checked at start, every minute, per learner.
        self.reminders = p.ReminderWatch(self, lambda: self.services, events, self.notify)
        self.learner_button.switched.connect(lambda _info: self._after_switch())
        self.idle = p.IdleLock(self)
        self.idle.about_to_lock.connect(self._idle_lock_starts)
        self.idle.locked.connect(self._idle_locked)
        self.idle.failed.connect(lambda _exc: self.refresh_status())
        self.lay_out_later_pages()

    # ------------------------------------------------------------------ navigation

    def show_section(self, index: int) -> None:
        if index < 0 or index >= self.stack.count():  # pages not built yet: stay on the library
            return
        if index != SETTINGS and not self.may_leave_page():
            return
        if self.nav.currentRow() != index and index < len(SECTIONS):
            self.nav.blockSignals(True)
            self.nav.setCurrentRow(index)
            self.nav.blockSignals(False)
        page = self.page(index)
        self.stack.setCurrentIndex(index)
        if index == LIBRARY:
            self.library.focus_table()
        elif index in (DOWNLOADS, CREDITS, SETTINGS):
            page.refresh()

    def open_activity(self, activity_id: str) -> None:
        if not self.may_leave_page():
            return
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
        if self.stack.currentIndex() == ACTIVITY and time_ms is not None:
            self.activity_page.open_at(int(time_ms))

    def focus_search(self) -> None:
        if self.services is not None:
            self.search_panel.focus()

    @property
    def profession(self) -> str | None:
        return self.learner.profession if self.learner else None

    # ------------------------------------------------------------------ what the window shows

    def reload_library(self) -> None:
        self.library.set_rows(self.services.library_rows(), self.profession)
        self.refresh_status()

    def refresh_status(self) -> None:
        if self.services is None:
            return
        try:
            st = self.services.status()
        except Exception:  # a closed or broken cache must not take the window down
            log.exception("reading the status failed")
            return
        self.learner = st.learner
        self.status_line.show(st, syncing=self.sync.syncing, downloads_pending=self.download_queue.active_count(),
                              session_error=self.sync.session_error, session_exc=self.sync.session_exc)

    def status_text(self) -> str:
        """The status bar as one line, as a user reads it."""
        return self.status_line.text()

    def _learner_changed(self, _source=None) -> None:
        self.refresh_status()
        self.library.set_profession(self.profession)

    def notify(self, title: str, text: str) -> None:
        """A tray message when the system has a tray, else a status-bar message; spoken to
        a screen reader either way (neither a balloon nor a passing status-bar message is
        read on its own)."""
        self.last_notification = text
        accessibility.announce(self.statusBar(), text)
        from PySide6.QtWidgets import QStyle, QSystemTrayIcon  # start-up speed: QStyle's enums are ~9 ms, never needed before a notification

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

    # ------------------------------------------------------------------ downloads

    def _connect_downloads(self) -> None:
        queue = self.download_queue
        self._connect_runner()
        queue.start_requested.connect(lambda: self.download_runner.start())
        queue.activity_downloaded.connect(lambda title: self.notify("Download finished", f"Downloaded: {title}"))
        queue.sign_in_needed.connect(lambda message: self.open_sign_in(message=message))
        self.library.download_requested.connect(self.download_activities)
        self.activity_page.download_requested.connect(self.download_activities)
        self.activity_page.switch_quality_requested.connect(
            lambda a: self.quality_asker.switch(a, queue.switch_quality))
        self.activity_page.remove_video_requested.connect(lambda a: queue.remove_videos([a]))

    def _connect_runner(self) -> None:
        self.download_runner.event.connect(self.download_queue.apply_event)
        self.download_runner.event.connect(
            lambda _e: self.library.set_download_progress(self.download_queue.progress_by_activity()))
        self.download_runner.run_finished.connect(
            lambda outcome: None if self._shutting_down else self.download_queue.run_finished(outcome))

    def download_activities(self, activity_ids: list) -> None:
        """Queue these activities' files: in the form the learner prefers, or the one chosen in
        the dialog when they want to be asked (quality_choice.py)."""
        self.quality_asker.download(list(activity_ids), self.download_queue.download_activities)

    def _downloads_changed(self, _source=None) -> None:
        """The job list changed: badge, library media column, status bar."""
        active = self.download_queue.active_count()
        item = self.nav.item(DOWNLOADS)
        item.setText(f"Downloads {active}" if active else "Downloads")
        item.setToolTip(f"Downloads: {active} active (Ctrl+2)" if active else "Downloads (Ctrl+2)")
        self.reload_library()
        self.library.set_download_progress(self.download_queue.progress_by_activity())

    # ------------------------------------------------------------------ sync

    def sync_now(self, *, user: bool = True) -> bool:
        """Start a sync in the background; False if one is running or it cannot start."""
        return self.services is not None and self.sync.sync_now(user=user)

    @property
    def syncing(self) -> bool:
        return self.sync is not None and self.sync.syncing

    def _sync_started(self) -> None:
        self.top_bar.show_syncing(True)
        self.refresh_status()
        self.sync_started.emit()

    def _sync_finished(self, outcome) -> None:
        self.top_bar.show_syncing(False)
        if self.library.model.rowCount() == 0 and not isinstance(outcome, BaseException):
            self.reload_library()  # announced only when the server had news; an empty library reads anyway
        self.refresh_status()
        self.sync_finished.emit(outcome)
        if isinstance(outcome, SignInRequired):
            self.open_sign_in(message=str(outcome))
        notice = self.sync.claims_notice(outcome)
        if notice:
            self.notify("Credit", notice)

    def _settings_changed(self) -> None:
        self.sync.restart_timer()
        self.library.refresh_download_plan()  # the preferred quality, or asking, may have changed
        self.events.learner_changed.emit(self.settings_page)  # another server: another learner


def ensure_app() -> QApplication:
    app = QApplication.instance()
    if app is None:
        QApplication.setApplicationName("CME Offline")
        QApplication.setOrganizationName("CME Offline")
        # Fusion given as Qt's own -style option (it wins over QT_STYLE_OVERRIDE, as setStyle
        # does): setStyle("Fusion") returns the style to Python, which makes PySide6 build the
        # QStyle class with its enums (~9 ms) before the first paint.
        app = QApplication([sys.argv[0] if sys.argv else "cme-offline", "-style", "Fusion"])
    accessibility.install()  # labels read by their text, headings (after the application exists)
    return app


def run_gui(
    services=None, *, demo: bool = False, demo_launcher=None, open_services=None, first_paint=None,
    data_dir=None, instance=None,
) -> int:
    """Show the main window until it is closed; returns the exit code.

    Give either `services` (left open for the caller to close) or `open_services`, a
    function run on a worker whose result the window owns, with `first_paint` (the cached
    library rows) to show meanwhile; or, with `demo=True`, neither: `demo_launcher(progress)`
    opens the demo's services on that worker. Services created here are closed before
    returning. `data_dir` keeps the window's place and look (window.ini); `instance` (an
    InstanceLock this process holds) lets later launches bring the window forward.
    """
    app = ensure_app()
    mark("QApplication, style and accessibility")
    window = open_window(services, demo=demo, demo_launcher=demo_launcher, open_services=open_services,
                         first_paint=first_paint, prefs=WindowPrefs(data_dir) if data_dir is not None else None)
    QTimer.singleShot(0, resume_collector)  # app.main pauses the garbage collector for the start-up
    if instance is not None:
        instance.listen_after_paint(window)  # the window first: a launch meanwhile retries
        instance.answer_with(lambda _argv: window.bring_forward())
    try:
        code = app.exec()
    finally:
        end_session(window)
        window.deleteLater()
    return code


def open_window(services=None, *, demo=False, demo_launcher=None, open_services=None, first_paint=None,
                prefs: WindowPrefs | None = None) -> MainWindow:
    """The main window, in its look, shown; its services opening on a worker if not given."""
    app = ensure_app()
    if prefs is None:
        prefs = WindowPrefs(services.paths.data_dir if services is not None else None)
    app_theme(app).apply(prefs.theme)
    window = MainWindow(services, demo=demo, demo_launcher=demo_launcher, first_paint=first_paint, prefs=prefs)
    mark("window built with the rows")
    window.show()
    mark("window shown")
    if services is None:
        if open_services is None and demo_launcher is not None:
            def open_services():
                return demo_launcher(window.start_progress.emit)
        window.open_services_in_background(open_services)
    return window


def end_session(window: MainWindow) -> None:
    """After the window closed: last writes first, then the cache.

    The window queues its last writes (the Watch tab's place) behind those pending; the
    writer is drained (at most WRITES_AT_EXIT_MS), the task pool is given TASKS_AT_EXIT_MS
    (a sync waiting on the network must not hold the exit: its results are its own
    transactions), and only then are the Services this window owns closed.
    """
    window.shutdown()
    if not wait_for_writes(WRITES_AT_EXIT_MS):
        log.warning("writes to the local cache still running after %d ms at exit", WRITES_AT_EXIT_MS)
    if not wait_for_tasks(TASKS_AT_EXIT_MS, writes=False):
        log.info("background work still running at exit; it is left to end with the process")
    QApplication.processEvents()
    for owned in window.owned_services:
        try:
            owned.close()
        except Exception:  # closing must not hide the real exit code
            log.exception("closing the demo services failed")
