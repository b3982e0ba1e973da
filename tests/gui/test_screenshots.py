"""`make screenshots` keeps working: under a real X server (Xvfb) it writes every main
screen, light and dark, at 1024×700 and at 2× scaling, and the pictures are what they
say (the right size, not blank, dark darker than light)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from tests.screens.take import SETS, SIZE

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ("library", "downloads", "my-credits", "settings", "activity-overview", "activity-watch",
           "activity-summaries", "activity-assessment", "activity-evaluation-and-credit", "activity-overview-files",
           "change-video-quality", "activity-watch-audio-only", "search", "sign-in", "welcome")


def _mean_lightness(image: QImage) -> float:
    step = 16
    values = [image.pixelColor(x, y).lightness() for x in range(0, image.width(), step)
              for y in range(0, image.height(), step)]
    return sum(values) / len(values)


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs xvfb-run (packaging/system-packages test)")
def test_make_screenshots_writes_every_screen_light_and_dark(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 2048x1400x24", sys.executable, "-m", "tests.screens.take",
         str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]

    for name, (_theme, scale) in SETS.items():
        pictures = sorted((tmp_path / name).glob("*.png"))
        assert [p.stem.split("-", 1)[1] for p in pictures] == list(SCREENS), name
        window = QImage(str(pictures[0]))
        assert (window.width(), window.height()) == (SIZE[0] * scale, SIZE[1] * scale)
        for picture in pictures:
            image = QImage(str(picture))
            colours = {image.pixel(x, y) for x in range(0, image.width(), 5) for y in range(0, image.height(), 5)}
            assert not image.isNull() and len(colours) > 20, picture  # text and controls, not a blank window
    assert _mean_lightness(QImage(str(tmp_path / "dark" / "01-library.png"))) < 100
    assert _mean_lightness(QImage(str(tmp_path / "light" / "01-library.png"))) > 150
