"""The app for the AT-SPI test: the demo, driven page by page on command.

Run with the venv python under Xvfb and a private D-Bus session (tests/a11y/test_atspi.py).
The state is tests/support/demo_app.py's (the demo learner signed in against the demo's
real reference server, synced, the demo video downloaded), with the disclosures NOT
acknowledged, so the Overview shows the locked tabs.

For each page it writes the text of every label and button on screen to
`$A11Y_OUT/<page>.labels.json` (what a sighted learner reads there, for the test to find in
the AT-SPI tree), prints
`ready <page>` and then keeps Qt's event loop running (Qt answers
AT-SPI on the GUI thread) until a line `next` arrives on stdin; `quit` ends it.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import tempfile
import threading
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel

from cmecore.renditions import Quality
from desktop.views.accessibility import shown_text
from desktop.views.activity.page import ASSESSMENT_TAB as ASSESSMENT
from desktop.views.activity.page import CREDIT_TAB as CREDIT
from desktop.views.activity.page import OVERVIEW_TAB as OVERVIEW
from desktop.views.activity.page import SUMMARIES_TAB as SUMMARIES
from desktop.views.activity.page import WATCH_TAB as WATCH
from desktop.views.main_window import CREDITS, DOWNLOADS, LIBRARY, SETTINGS
from desktop.views.text import human_bytes
from tests.credit.conftest import evaluate, take_test
from tests.support.activities import CORRECT, DEMO_ID
from tests.support.demo_app import DemoApp

VIDEO_MS = 60_000  # the demo video's length (tests/gui/test_learning_gui.py)


class Driver(DemoApp):
    def __init__(self, data_dir: Path):
        super().__init__(data_dir, size=(1100, 750), acknowledged=False)
        self.window.activateWindow()  # no window manager under Xvfb: focus the window ourselves,
        self.window.raise_()  # so "focused" in the tree means what the keyboard would reach
        self.wait(self.window.isActiveWindow, 10_000)
        self.commands: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read_stdin, daemon=True).start()

    def _read_stdin(self) -> None:
        for line in sys.stdin:
            self.commands.put(line.strip())
        self.commands.put("quit")

    def ready(self, page: str) -> bool:
        """Tell the test the page is on screen; serve AT-SPI until it says `next` (False: quit)."""
        self.settle()
        windows = [top for top in QApplication.topLevelWidgets() if top.isVisible()]  # dialogs, popups too
        shown = [shown_text(label) for top in windows for label in top.findChildren(QLabel) if label.isVisible()]
        buttons = [b.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()
                   for top in windows for b in top.findChildren(QAbstractButton) if b.isVisible()]
        out = Path(os.environ["A11Y_OUT"]) / f"{page}.labels.json"
        out.write_text(json.dumps({"labels": [text for text in shown if text.strip()],
                                   "buttons": [text for text in buttons if text]}))
        print(f"ready {page}", flush=True)
        while True:
            try:
                command = self.commands.get_nowait()
            except queue.Empty:
                QTest.qWait(30)
                continue
            return command == "next"

    def pages(self):
        w = self.window
        yield "library"
        w.show_section(DOWNLOADS)
        yield "downloads"
        w.show_section(LIBRARY)
        w.open_activity(DEMO_ID)
        page = w.activity_page
        page.tabs.setCurrentIndex(OVERVIEW)
        self.wait(lambda: page.overview.ack_button is not None and page.overview.ack_button.isVisible())
        yield "overview"  # before the disclosures are acknowledged: the other tabs locked
        page.acknowledge()
        self.wait(lambda: page.tabs.isTabEnabled(WATCH))
        page.tabs.setCurrentIndex(WATCH)
        tab = page.watch_tab
        self.wait(lambda: bool(tab.transcript_panel.index.cues))
        tab.play()
        self.wait(lambda: (tab.transcript_panel.current_row or 0) >= 2)
        tab.pause()
        yield "watch"  # a cue is current (paused there so it stays current while read)
        tab.close_activity()
        page.tabs.setCurrentIndex(SUMMARIES)
        self.wait(lambda: bool(page.summaries_tab.titles))  # read when the tab is first shown
        yield "summaries"
        yield from self.audio_only(page)
        self.services.save_watch_progress(DEMO_ID, int(VIDEO_MS * 0.9), VIDEO_MS, [(0, int(VIDEO_MS * 0.9))])
        page.refresh_learning()
        page.tabs.setCurrentIndex(ASSESSMENT)
        assessment = page.assessment_tab
        self.wait(lambda: assessment.start_button.isEnabled())
        assessment.start()
        self.wait(lambda: assessment.stack.currentWidget() is assessment.question_page)
        yield "assessment"
        w.show_section(CREDITS)
        yield "credits"
        w.show_section(SETTINGS)
        yield "settings"
        yield from self.search_and_dialogs()
        yield from self.status_changes()

    def audio_only(self, page):
        """The Watch tab with the Audio only form here: the spoken line large, the transcript under it."""
        self.services.downloads.switch_quality(DEMO_ID, Quality.audio)
        self.services.run_downloads()  # the window's runner is idle: nothing else was queued
        page.reload()
        page.tabs.setCurrentIndex(WATCH)
        tab = page.watch_tab
        self.wait(lambda: tab.video_column.audio_only and bool(tab.transcript_panel.index.cues))
        start = tab.player.position_ms()  # resumed where the Watch page above stopped
        tab.play()
        self.wait(lambda: tab.player.is_playing() and tab.player.position_ms() > start + 1_000)
        tab.pause()  # once libvlc really plays (a pause before that is not heard)
        self.wait(lambda: not tab.player.is_playing())  # the time stands still while the tree is read
        # the status line has caught up with the removed video (storage used) before it is read
        self.wait(lambda: human_bytes(self.services.status().storage_bytes) in self.window.status_text())
        yield "watch-audio"
        tab.close_activity()
        self.services.downloads.switch_quality(DEMO_ID, Quality.best)  # the pages after it as before
        self.services.run_downloads()
        page.reload()
        page.tabs.setCurrentIndex(WATCH)

    def activate(self, widget) -> None:
        """Give a window the focus, as a window manager would (there is none under Xvfb)."""
        widget.activateWindow()
        widget.raise_()
        self.wait(widget.isActiveWindow, 10_000)

    def search_and_dialogs(self):
        w = self.window
        w.show_section(LIBRARY)
        w.focus_search()
        w.search_edit.setText("blood pressure")
        w.search_panel.search_now()  # typed text starts it after a pause; set text does not
        popup = w.search_panel.popup
        self.wait(lambda: popup.isVisible() and popup.model.rowCount() > 0)
        yield "search"  # the results popup, the cursor still in the search field
        QTest.keyClick(w.search_edit, Qt.Key.Key_Down)  # to the next result: said, the cursor stays
        self.settle()
        w.search_edit.clear()
        sign_in = w.open_sign_in()
        self.activate(sign_in)
        yield "sign-in"
        sign_in.reject()
        welcome = w.open_welcome()
        self.activate(welcome)
        yield "welcome"
        welcome.reject()
        self.activate(w)
        w.quality_asker.switch(DEMO_ID, lambda _id, _quality: None)
        self.activate(w.quality_asker.dialog)
        yield "video-quality"  # Change video quality…: the forms with their sizes
        w.quality_asker.dialog.reject()
        self.activate(w)

    def status_changes(self):
        """A claim is delivered (the status line and the notification change), then the server
        goes away (the status line says offline): what a screen reader hears is in the events."""
        w = self.window
        take_test(self.services, CORRECT)  # resumes the attempt the assessment page started
        evaluate(self.services)
        w.open_activity(DEMO_ID)
        page = w.activity_page
        page.tabs.setCurrentIndex(CREDIT)
        page.refresh_learning()
        claim = page.credit_tab.claim
        self.wait(lambda: claim.claim_button.isVisible())
        claim.attest_check.setChecked(True)
        claim.minutes_spin.setValue(30)
        claim.claim_button.setFocus()
        claim.claim_button.click()  # sent at once; the certificate comes back
        self.wait(lambda: "accepted" in (w.last_notification or "") and "waiting" not in w.status_text())
        yield "delivered"
        self.launcher.stop()
        w.sync_now(user=True)
        self.wait(lambda: "Offline" in w.status_text() and not w.syncing)
        yield "offline"

    def run(self) -> None:
        for name in self.pages():
            if not self.ready(name):
                return
        print("done", flush=True)
        while self.commands.get() != "quit":  # the test's last word (nothing is read after "done")
            pass


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        driver = Driver(Path(tmp))
        try:
            driver.run()
        finally:
            driver.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
