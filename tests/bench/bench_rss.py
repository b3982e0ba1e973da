"""Memory while playing: the app (library, activity page, video + transcript panel) next
to a 30-line python-vlc + Qt player playing the same file (`make bench`; prints only).

Both run offscreen with libvlc's dummy outputs, play the demo video for a few seconds,
and report their resident set size (VmRSS) at that moment. Target: ratio ≤ 1.3×.

Beside the totals, each process's RSS by part at that moment (from /proc/self/smaps:
libvlc and its plugins, Qt and PySide6, the Python interpreter, other shared libraries and
extension modules, the heap and anonymous memory), and, from one more app run under
tracemalloc, the Python objects allocated by package (what our own code keeps).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

PLAY_MS = 4000
VIDEO = Path(__file__).parents[2] / "creditserver" / "demo" / "media" / "home-bp-monitoring.mp4"

# Appended to both programs: RSS by part from /proc/self/smaps, printed as `rss-part`.
RSS_PARTS = r"""
def rss_parts():
    parts, name = {}, "anonymous and heap"
    for line in open("/proc/self/smaps"):
        head = line.split()
        if not head:
            continue
        if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            path = head[5] if len(head) > 5 else ""
            name = ("libvlc and plugins" if "vlc" in path else
                    "Qt and PySide6" if ("Qt6" in path or "PySide6" in path or "shiboken" in path) else
                    "Python interpreter" if ("libpython" in path or "/bin/python" in path) else
                    "other libraries and extensions" if path.startswith("/") else "anonymous and heap")
        elif head[0] == "Rss:":
            parts[name] = parts.get(name, 0) + int(head[1])
    for name, kb in parts.items():
        print("rss-part", name.replace(" ", "_"), kb, flush=True)
    if __import__("tracemalloc").is_tracing():
        import tracemalloc
        by_package = {}
        for stat in tracemalloc.take_snapshot().statistics("filename"):
            path = stat.traceback[0].filename
            key = ("desktop" if "/desktop/" in path else "cmecore" if "/cmecore/" in path else
                   path.split("site-packages/")[1].split("/")[0] if "site-packages/" in path else
                   "stdlib:" + path.rsplit("/", 1)[-1])
            by_package[key] = by_package.get(key, 0) + stat.size
        for key, size in by_package.items():
            print("py-alloc", key.replace(" ", "_"), size // 1024, flush=True)
"""

BARE_PLAYER = RSS_PARTS + r"""
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
    print("rss-kb", rss, flush=True); rss_parts(); player.stop(); app.quit()
QTimer.singleShot(int(sys.argv[2]), report)
app.exec()
"""

APP_PLAYER = RSS_PARTS + r"""
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
    print("rss-kb", rss, flush=True); rss_parts(); window.close(); app.quit()
QTimer.singleShot(int(sys.argv[2]), report)
app.exec()
window.shutdown(); wait_for_tasks(); services.close()
"""


def rss_kb(args: list[str], env: dict[str, str], parts: dict[str, int] | None = None) -> int:
    """The child's VmRSS in kB; its `rss-part` and `py-alloc` lines into `parts`."""
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    total = None
    for line in out.stdout.splitlines():
        if line.startswith("rss-kb "):
            total = int(line.split()[1])
        elif line.startswith(("rss-part ", "py-alloc ")) and parts is not None:
            _, name, kb = line.split()
            parts[name.replace("_", " ")] = int(kb)
    if total is None:
        raise RuntimeError(f"no RSS reported: {out.stdout[-500:]!r} {out.stderr[-2000:]!r}")
    return total


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
            bare_parts, app_parts, allocs = {}, {}, {}
            bare = rss_kb([sys.executable, "-c", BARE_PLAYER, str(VIDEO), str(PLAY_MS)], env, bare_parts)
            app_cmd = [sys.executable, "-c", APP_PLAYER, str(data), str(PLAY_MS), server.url]
            app = rss_kb(app_cmd, env, app_parts)
            rss_kb(app_cmd, {**env, "PYTHONTRACEMALLOC": "1"}, allocs)
    ratio = app / bare
    print(f"rss while playing ({PLAY_MS / 1000:.0f} s of the demo video, offscreen, dummy libvlc outputs)")
    print(f"  30-line python-vlc + Qt player  {bare / 1024:7.1f} MB")
    print(f"  cme-offline with transcript     {app / 1024:7.1f} MB")
    print(f"  P6 ratio {ratio:.2f}x   (target <= 1.3x: {'met' if ratio <= 1.3 else 'not met'})")
    print(f"  by part (MB)                    {'app':>7} {'bare':>7}")
    for name in sorted(app_parts.keys() | bare_parts.keys()):
        if name.startswith(("libvlc", "Qt", "Python", "other", "anonymous")):
            print(f"    {name:30}{app_parts.get(name, 0) / 1024:7.1f} {bare_parts.get(name, 0) / 1024:7.1f}")
    print("  the app's Python objects by package (one run under tracemalloc, MB):")
    py = sorted(((k, v) for k, v in allocs.items() if not k.startswith(("libvlc", "Qt", "Python", "other",
                                                                         "anonymous"))), key=lambda kv: -kv[1])
    for name, kb in py[:10]:
        print(f"    {name:30}{kb / 1024:7.1f}")


if __name__ == "__main__":
    main()
