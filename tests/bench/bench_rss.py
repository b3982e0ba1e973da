"""Memory while playing: the app (library, activity page, video + transcript panel) next
to a 30-line python-vlc + Qt player playing the same file (`make bench`; prints only).

Both run offscreen with libvlc's dummy outputs, play the demo video for a few seconds,
and report their resident set size (VmRSS) at that moment. Target: ratio ≤ 1.3×.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

PLAY_MS = 4000
VIDEO = Path(__file__).parents[2] / "creditserver" / "demo" / "media" / "home-bp-monitoring.mp4"

BARE_PLAYER = r"""
import sys, vlc
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget, QVBoxLayout, QPushButton, QSlider
from PySide6.QtCore import Qt

app = QApplication(sys.argv)
window = QWidget()
layout = QVBoxLayout(window)
surface = QWidget(); layout.addWidget(surface)
slider = QSlider(Qt.Orientation.Horizontal); layout.addWidget(slider)
button = QPushButton("Pause"); layout.addWidget(button)
instance = vlc.Instance("--intf=dummy", "--vout=dummy", "--aout=dummy", "--no-video-title-show")
player = instance.media_player_new()
player.set_media(instance.media_new(sys.argv[1]))
button.clicked.connect(player.pause)
timer = QTimer(); timer.timeout.connect(lambda: slider.setValue(int(player.get_position() * 100))); timer.start(40)
window.resize(1000, 700); window.show()
player.play()
def report():
    rss = next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]
    print("rss-kb", rss, flush=True); player.stop(); app.quit()
QTimer.singleShot(int(sys.argv[2]), report)
app.exec()
"""

APP_PLAYER = r"""
import sys
from PySide6.QtCore import QTimer
from desktop.paths import Paths
from desktop.services import Services
from desktop.views.main_window import MainWindow, ensure_app
from desktop.views.tasks import wait_for_tasks

app = ensure_app()
services = Services(Paths(__import__("pathlib").Path(sys.argv[1])), server_url=sys.argv[3])
window = MainWindow(services)
window.resize(1000, 700); window.show()
activity = services.library_rows()[0].id
window.open_activity(activity)
page = window.activity_page
page.tabs.setCurrentIndex(1)  # Watch
QTimer.singleShot(300, page.watch_tab.play)
def report():
    rss = next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]
    print("rss-kb", rss, flush=True); window.close(); app.quit()
QTimer.singleShot(int(sys.argv[2]), report)
app.exec()
window.shutdown(); wait_for_tasks(); services.close()
"""


def rss_kb(args: list[str], env: dict[str, str]) -> int:
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    for line in out.stdout.splitlines():
        if line.startswith("rss-kb "):
            return int(line.split()[1])
    raise RuntimeError(f"no RSS reported: {out.stdout[-500:]!r} {out.stderr[-2000:]!r}")


def prepared_data_dir(root: Path, server) -> Path:
    """The demo activity signed in, synced, downloaded and its disclosures acknowledged."""
    from desktop.paths import Paths
    from desktop.services import Services

    data = root / "data"
    services = Services(Paths(data), server_url=server.url)
    services.sign_in("demo", "demo")
    services.sync()
    services.enqueue_downloads(None)
    services.run_downloads()
    services.acknowledge_disclosures(services.library_rows()[0].id)
    services.close()
    return data


def main() -> None:
    from creditserver.runner import serve_in_thread

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "CME_OFFLINE_VLC_ARGS": "--vout=dummy --aout=dummy",
           "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["XDG_DATA_HOME"] = env["XDG_DATA_HOME"] = str(root / "keyring")
        os.environ["PYTHON_KEYRING_BACKEND"] = env["PYTHON_KEYRING_BACKEND"]
        import keyring.core

        keyring.core.init_backend()
        with serve_in_thread(root / "server", demo=True) as server:
            data = prepared_data_dir(root, server)
            bare = rss_kb([sys.executable, "-c", BARE_PLAYER, str(VIDEO), str(PLAY_MS)], env)
            app = rss_kb([sys.executable, "-c", APP_PLAYER, str(data), str(PLAY_MS), server.url], env)
    print(f"rss while playing ({PLAY_MS / 1000:.0f} s of the demo video, offscreen, dummy libvlc outputs)")
    print(f"  30-line python-vlc + Qt player  {bare / 1024:7.1f} MB")
    print(f"  cme-offline with transcript     {app / 1024:7.1f} MB")
    print(f"  ratio {app / bare:.2f}x   (target <= 1.3x)")


if __name__ == "__main__":
    main()
