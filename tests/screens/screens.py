"""Drive the app to each main screen and save what it shows (used by take.py).

The state is tests/support/demo_app.py's, with the disclosures acknowledged (so the
activity's tabs show content).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

from cmecore.renditions import Quality
from desktop.views.main_window import CREDITS, DOWNLOADS, LIBRARY, SETTINGS
from desktop.views.activity.summaries_tab import READING
from tests.support.activities import DEMO_ID
from tests.support.demo_app import DemoApp


class ScreenTaker(DemoApp):
    def __init__(self, data_dir: Path, theme: str, size: tuple[int, int]):
        super().__init__(data_dir, size=size, acknowledged=True, theme=theme)

    def _save(self, widget: QWidget, folder: Path, name: str, written: list[Path]) -> None:
        """What the screen shows where `widget` is: popups (search results, menus) included."""
        self.settle()
        path = folder / f"{len(written) + 1:02d}-{name}.png"
        area = widget.frameGeometry()
        shot = widget.screen().grabWindow(0, area.x(), area.y(), area.width(), area.height())
        if not shot.save(str(path)):
            raise RuntimeError(f"could not write {path}")
        written.append(path)

    def _video_forms(self, folder: Path, written: list[Path]) -> None:
        """The dialog that changes the video's form, then the Watch tab with the Audio only form."""
        w, page = self.window, self.window.activity_page
        page.tabs.setCurrentIndex(0)
        bar = page.overview.verticalScrollBar()
        bar.setValue(bar.maximum())  # the Files: which form is here, the others offered, Change video quality…
        self._save(w, folder, "activity-overview-files", written)
        w.quality_asker.switch(DEMO_ID, lambda _id, _quality: None)
        dialog = w.quality_asker.dialog
        self.wait(dialog.isVisible)
        self._save(dialog, folder, "change-video-quality", written)
        dialog.reject()
        self.services.downloads.switch_quality(DEMO_ID, Quality.audio)
        self.services.run_downloads()  # the window's runner is idle: nothing else was queued
        w.show_section(LIBRARY)
        w.open_activity(DEMO_ID)
        self.wait(lambda: page.tabs.isTabEnabled(1))
        page.tabs.setCurrentIndex(1)
        tab = page.watch_tab
        self.wait(lambda: tab.video_column.audio_only and tab.transcript_panel.transcript is not None)
        tab.open_at(13_000)  # played a moment (so the player knows the length), then paused
        self.wait(lambda: tab.player.is_playing() and tab.player.position_ms() > 14_000)
        tab.pause()
        self.wait(lambda: not tab.player.is_playing() and tab.video_column.play_button.accessibleName() == "Play")
        self._save(w, folder, "activity-watch-audio-only", written)
        tab.close_activity()

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
        self.wait(lambda: page.tabs.isTabEnabled(1))
        for index in range(page.tabs.count()):
            page.tabs.setCurrentIndex(index)
            if page.tabs.currentWidget() is page.summaries_tab:  # read when first shown, off the GUI thread
                self.wait(lambda: page.summaries_tab.note.text() != READING)
            tab = page.tabs.tabText(index).replace("&&", "and").lower().replace(" ", "-")
            self._save(w, folder, f"activity-{tab}", written)
        page.watch_tab.close_activity()
        self._video_forms(folder, written)
        w.show_section(LIBRARY)
        w.search_edit.setFocus()
        w.search_edit.setText("blood pressure")
        w.search_panel.search_now()  # typed text starts it after a pause; set text does not
        self.wait(lambda: w.search_panel.popup.isVisible())
        self._save(w, folder, "search", written)
        w.search_edit.clear()
        sign_in = w.open_sign_in()
        self._save(sign_in, folder, "sign-in", written)
        sign_in.reject()
        welcome = w.open_welcome()
        self._save(welcome, folder, "welcome", written)
        welcome.reject()
        return written
