"""Run by tests/gui/test_picture.py in a subprocess under a real X server (Xvfb, xcb).

Plays the demo in the Watch tab with whatever video outputs libvlc finds, then prints one
JSON line: whether libvlc made a picture, what share of the video area on screen is not
black (grabbed from the screen), the message in place of the video, and how far the sound
played on after it. Saves a screenshot of the window to the path given.

    python -m tests.gui.picture_check DATA_DIR SCREENSHOT.png
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from PySide6.QtCore import QPoint
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

PLAY_MS = 2_500  # media time to play before judging (the no-picture verdict comes after 1.5 s)
WAIT_S = 20


def wait_until(condition, seconds: float = WAIT_S) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        QTest.qWait(50)
    return True


def non_black_share(image, step: int = 3) -> float:
    """Share of sampled pixels brighter than near-black."""
    seen = bright = 0
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            color = image.pixelColor(x, y)
            seen += 1
            bright += max(color.red(), color.green(), color.blue()) > 40
    return bright / seen if seen else 0.0


def main(data_dir: Path, screenshot: Path) -> dict:
    app = QApplication([])
    from desktop.config import Paths
    from desktop.services import Services
    from desktop.views.activity.page import WATCH_TAB, ActivityPage
    from desktop.views.activity.video_column import MESSAGE, SURFACE
    from tests.player.demo_media import SERVER_URL, install_demo

    services = Services(Paths(data_dir), server_url=SERVER_URL)
    activity_id = install_demo(services)
    page = ActivityPage(services=services)
    page.resize(1100, 700)
    page.show()
    page.show_activity(services.activity_detail(activity_id), "physician")
    page.tabs.setCurrentIndex(WATCH_TAB)
    tab = page.watch_tab
    column = tab.video_column
    result = {"platform": app.platformName()}
    try:
        assert wait_until(lambda: tab.transcript_panel.model.rowCount() > 0), "the transcript never came"
        QTest.qWaitForWindowExposed(page)
        tab.play()
        player = tab.player
        result["played"] = wait_until(lambda: player.is_playing() and player.position_ms() >= PLAY_MS)
        # The verdict: a picture (libvlc has a video output) or none (the message in its place).
        wait_until(lambda: player.picture is not None)
        QTest.qWait(300)  # let a frame reach the screen after the verdict (bounded, not a wait for Qt)
        result["picture"] = player.picture
        result["page"] = {SURFACE: "surface", MESSAGE: "message"}[column.video_stack.currentIndex()]
        result["message"] = column.message.text() if column.video_stack.currentIndex() == MESSAGE else ""
        area = column.video_stack
        top_left = area.mapToGlobal(QPoint(0, 0))
        grab = area.screen().grabWindow(0, top_left.x(), top_left.y(), area.width(), area.height())
        result["non_black"] = non_black_share(grab.toImage())
        result["controls_enabled"] = column.play_button.isEnabled() and column.seek_slider.isEnabled()
        # The sound (and the clock, the transcript) go on either way.
        reported = []
        player.time_reported.connect(reported.append)
        before = player.position_ms()
        wait_until(lambda: len(reported) >= 3 and reported[-1] >= before + 1_000, 10)
        result["played_on_ms"] = (reported[-1] - before) if reported else 0
        result["playing"] = player.is_playing()
        result["cue"] = tab.transcript_panel.current_row
        corner = page.mapToGlobal(QPoint(0, 0))  # from the screen: a widget grab misses libvlc's window
        page.screen().grabWindow(0, corner.x(), corner.y(), page.width(), page.height()).save(str(screenshot))
    finally:
        tab.shutdown()
        page.close()
        page.deleteLater()  # widgets go before the application does
        QTest.qWait(0)
        services.close()
    return result


if __name__ == "__main__":
    print("RESULT " + json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]))), flush=True)
