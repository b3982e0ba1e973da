"""The picture, for real: the demo played in the Watch tab under a real X server (Xvfb, not
offscreen) with libvlc's real video outputs, and the video area grabbed from the screen.

And the other way round: with libvlc's video output plugins hidden (a copy of the plugin
tree holding only what Debian's vlc-plugin-base ships in video_output/, which is what a
machine without vlc-plugin-video-output has), libvlc really fails to create a video
output, and the Watch tab must say so in words while the sound plays on.

Each check runs in a subprocess (tests/gui/picture_check.py) with QT_QPA_PLATFORM=xcb and
its own DISPLAY; Xvfb picks a free display number itself (-displayfd). Screenshots are
kept in the test's tmp_path (and copied to $CME_SCREENSHOTS if set).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.xserver import xvfb

pytestmark = [
    pytest.mark.gui,
    pytest.mark.usefixtures("libvlc"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Xvfb and libvlc's X11 outputs: Linux"),
]
ROOT = Path(__file__).resolve().parents[2]
# What vlc-plugin-base itself puts in video_output/ (none of them draws into a window).
BASE_VIDEO_OUTPUTS = ("libfb_plugin.so", "libvdummy_plugin.so", "libvmem_plugin.so", "libyuv_plugin.so")


@pytest.fixture(scope="module")
def x_display():
    """A private Xvfb; its display (":N")."""
    with xvfb() as display:
        yield display


def libvlc_files() -> tuple[Path, Path]:
    """The libvlc and libvlccore this process loaded (the libvlc fixture loaded them)."""
    maps = Path("/proc/self/maps").read_text().split()
    libvlc = next(Path(p) for p in maps if Path(p).name.startswith("libvlc.so"))
    core = next(Path(p) for p in maps if Path(p).name.startswith("libvlccore.so"))
    return libvlc, core


def without_video_outputs(target: Path) -> dict[str, str]:
    """A libvlc whose plugin tree lacks vlc-plugin-video-output's files; the env that loads it.

    libvlc looks for its plugins beside libvlccore (`<dir>/vlc/plugins`), so a copy of the two
    libraries next to a tree of links is a libvlc installed without the video outputs.
    """
    libvlc, core = libvlc_files()
    plugins = core.parent / "vlc" / "plugins"
    (target / "vlc" / "plugins" / "video_output").mkdir(parents=True)
    for lib in (libvlc, core):
        shutil.copy2(lib, target / _soname(lib))
    for folder in plugins.iterdir():
        if folder.is_dir() and folder.name != "video_output":
            (target / "vlc" / "plugins" / folder.name).symlink_to(folder)
    for name in BASE_VIDEO_OUTPUTS:
        if (plugins / "video_output" / name).exists():
            (target / "vlc" / "plugins" / "video_output" / name).symlink_to(plugins / "video_output" / name)
    assert not (target / "vlc" / "plugins" / "video_output" / "libxcb_x11_plugin.so").exists()
    return {"PYTHON_VLC_LIB_PATH": str(target / _soname(libvlc)),
            "LD_LIBRARY_PATH": f"{target}{os.pathsep}{os.environ.get('LD_LIBRARY_PATH', '')}"}


def _soname(lib: Path) -> str:
    """libvlc.so.5.6.1 -> libvlc.so.5 (what libvlc.so asks the loader for)."""
    stem, _, version = lib.name.partition(".so")
    return f"{stem}.so.{version.strip('.').split('.')[0]}" if version else lib.name


def play_on_screen(display: str, tmp_path: Path, name: str, extra_env: dict[str, str] | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "PYTHON_VLC_LIB_PATH")}
    env.update({"QT_QPA_PLATFORM": "xcb", "DISPLAY": display, "PYTHONPATH": str(ROOT),
                # Real video outputs; no sound card here, so the sound goes to libvlc's dummy.
                "CME_OFFLINE_VLC_ARGS": "--aout=dummy", **(extra_env or {})})
    screenshot = tmp_path / f"watch-{name}.png"
    data = tmp_path / f"data-{name}"
    result = subprocess.run([sys.executable, "-m", "tests.gui.picture_check", str(data), str(screenshot)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert result.returncode == 0 and lines, result.stdout[-2000:] + result.stderr[-4000:]
    if os.environ.get("CME_SCREENSHOTS"):
        shutil.copy2(screenshot, Path(os.environ["CME_SCREENSHOTS"]) / screenshot.name)
    return {**json.loads(lines[-1][len("RESULT "):]), "stderr": result.stderr, "screenshot": screenshot}


def test_the_demo_shows_a_picture_on_a_real_x_server(x_display, tmp_path):
    seen = play_on_screen(x_display, tmp_path, "picture")
    assert seen["platform"] == "xcb" and seen["played"], seen
    assert seen["picture"] is True and seen["page"] == "surface", seen
    # The demo's colour bars fill the video area: most of it is not black.
    assert seen["non_black"] > 0.4, seen
    assert seen["played_on_ms"] >= 1_000 and seen["playing"] and seen["cue"] is not None, seen
    assert seen["screenshot"].stat().st_size > 0


def test_without_video_outputs_the_watch_tab_says_so_and_the_sound_plays_on(x_display, tmp_path):
    env = {**without_video_outputs(tmp_path / "libvlc"),
           "CME_OFFLINE_VLC_ARGS": "--aout=dummy --no-quiet"}  # libvlc's errors on stderr, to be read here
    seen = play_on_screen(x_display, tmp_path, "no-picture", env)
    assert "video output creation failed" in seen["stderr"]  # libvlc really had no way to draw
    assert seen["picture"] is False and seen["page"] == "message", seen
    assert "cannot show the video picture" in seen["message"], seen
    assert "listen" in seen["message"] and "transcript" in seen["message"], seen
    assert "sudo apt-get install vlc-plugin-video-output" in seen["message"], seen
    # Not a silent black rectangle: the words are on screen where the video would be…
    assert seen["non_black"] > 0.4, seen
    # …and the sound, the clock and the transcript go on, with the controls working.
    assert seen["played_on_ms"] >= 1_000 and seen["playing"] and seen["cue"] is not None, seen
    assert seen["controls_enabled"], seen
