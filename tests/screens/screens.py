"""Drive the app to each main screen and save what it shows (used by take.py).

The state is prepared through the services, as a learner would have left it: the demo
learner signed in and synced, the demo video downloaded, its disclosures acknowledged.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from desktop.demo import DemoLauncher
from desktop.views.main_window import CREDITS, DOWNLOADS, LIBRARY, SETTINGS, end_session, ensure_app, open_window
from desktop.views.window_prefs import WindowPrefs
from tests.support.activities import DEMO_ID

WAIT_MS = 30_000


class ScreenTaker:
    def __init__(self, data_dir: Path, theme: str, size: tuple[int, int]):
        self.app = ensure_app()
        self.launcher = DemoLauncher(data_dir)
        self.services = self.launcher()
        self.services.sync()
        self.services.enqueue_downloads([DEMO_ID])
        self.services.run_downloads()
        self.services.acknowledge_disclosures(DEMO_ID)
        prefs = WindowPrefs(data_dir)
        prefs.theme = theme
        synced = []
        self.window = open_window(self.services, demo=True, demo_launcher=self.launcher, prefs=prefs)
        self.window.sync_finished.connect(synced.append)  # the start-up sync (the status bar then says when)
        self.window.resize(*size)
        self._wait(lambda: synced and self.window.library.visible_titles())

    def _wait(self, condition, timeout_ms: int = WAIT_MS) -> None:
        waited = 0
        while not condition():  # QTest.qWait runs the event loop meanwhile (PySide6 has no qWaitFor)
            if waited > timeout_ms:
                raise RuntimeError("the app did not reach the screen in time")
            QTest.qWait(20)
            waited += 20

    def _settle(self) -> None:
        for _ in range(5):
            QTest.qWait(60)  # layouts and deferred loads (the transcript, summaries) land
            QApplication.processEvents()

    def _save(self, widget: QWidget, folder: Path, name: str, written: list[Path]) -> None:
        """What the screen shows where `widget` is: popups (search results, menus) included."""
        self._settle()
        path = folder / f"{len(written) + 1:02d}-{name}.png"
        area = widget.frameGeometry()
        shot = widget.screen().grabWindow(0, area.x(), area.y(), area.width(), area.height())
        if not shot.save(str(path)):
            raise RuntimeError(f"could not write {path}")
        written.append(path)

    def take_all(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        w, written = self.window, []
        for index, name in ((LIBRARY, "library"), (DOWNLOADS, "downloads"), (CREDITS, "my-credits"),
                            (SETTINGS, "settings")):
            w.show_section(index)
            self._save(w, folder, name, written)
        w.show_section(LIBRARY)
        w.open_activity(DEMO_ID)
        page = w.activity_page
        self._wait(lambda: page.tabs.isTabEnabled(1))
        for index in range(page.tabs.count()):
            page.tabs.setCurrentIndex(index)
            tab = page.tabs.tabText(index).replace("&&", "and").lower().replace(" ", "-")
            self._save(w, folder, f"activity-{tab}", written)
        page.watch_tab.close_activity()
        w.show_section(LIBRARY)
        w.search_edit.setFocus()
        w.search_edit.setText("blood pressure")
        w.search_panel.search_now()  # typed text starts it after a pause; set text does not
        self._wait(lambda: w.search_panel.popup.isVisible())
        self._save(w, folder, "search", written)
        w.search_edit.clear()
        sign_in = w.open_sign_in()
        self._save(sign_in, folder, "sign-in", written)
        sign_in.reject()
        welcome = w.open_welcome()
        self._save(welcome, folder, "welcome", written)
        welcome.reject()
        return written

    def close(self) -> None:
        self.window.close()
        end_session(self.window)
        self.launcher.stop()
        self.services.close()
