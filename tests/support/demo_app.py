"""The demo app as a learner would have left it, for the tools that look at the real app
on screen: `make screenshots` (tests/screens) and the AT-SPI test's driver (tests/a11y).

Both need the same state, prepared through the services: the demo learner signed in
against the demo's real reference server on loopback, synced, the demo video downloaded
(the disclosures acknowledged or not, as the caller says), and the main window shown
with its start-up sync finished and the library listed. One definition, so the screens
a person looks at and the trees a screen reader reads are of the same app.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desktop.demo import DemoLauncher
from desktop.views.main_window import end_session, ensure_app, open_window
from desktop.views.window_prefs import WindowPrefs
from tests.support.activities import DEMO_ID

WAIT_MS = 30_000


class DemoApp:
    """`window`, `services`, `launcher`; `wait(condition)`, `settle()`, `close()`."""

    def __init__(self, data_dir: Path, *, size: tuple[int, int], acknowledged: bool, theme: str | None = None):
        self.app = ensure_app()
        self.launcher = DemoLauncher(data_dir)
        self.services = self.launcher()
        self.services.sync()
        self.services.enqueue_downloads([DEMO_ID])
        self.services.run_downloads()
        if acknowledged:
            self.services.acknowledge_disclosures(DEMO_ID)
        prefs = WindowPrefs(self.services.paths.data_dir)  # where the window itself keeps them
        if theme is not None:
            prefs.theme = theme
        synced = []
        self.window = open_window(self.services, demo=True, demo_launcher=self.launcher, prefs=prefs)
        self.window.sync_finished.connect(synced.append)  # the start-up sync (the status bar then says when)
        self.window.resize(*size)
        self.wait(lambda: synced and self.window.library.visible_titles())

    def wait(self, condition, timeout_ms: int = WAIT_MS) -> None:
        """Run the event loop until `condition()` (PySide6's QTest has no qWaitFor)."""
        waited = 0
        while not condition():
            if waited > timeout_ms:
                raise RuntimeError("the app did not reach the screen in time")
            QTest.qWait(20)
            waited += 20

    def settle(self) -> None:
        """Let layouts and deferred loads (the transcript, summaries) land."""
        for _ in range(5):
            QTest.qWait(60)
            QApplication.processEvents()

    def close(self) -> None:
        self.window.close()
        end_session(self.window)
        self.launcher.stop()
        self.services.close()
