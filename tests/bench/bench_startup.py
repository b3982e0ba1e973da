"""Cold start to first painted library with 1,000 cached activities, next to a bare
PySide6 window's start on the same machine (`make bench`; prints, asserts nothing).

Both are measured the same way: the parent notes the wall clock, starts a fresh Python
process, and the child prints how long after that moment its first paint happened
(`CME_OFFLINE_T0`, seconds since the epoch). Target: ratio ≤ 1.5×.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ACTIVITIES = 1_000
RUNS = 7

# The bare window both benches compare with: it prints its first paint (as
# first-paint-ms, window-shown-ms and ready-ms, each bench reading its own), then
# `close-at <epoch>` and closes.
BARE_WINDOW = r"""
import os, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

t0 = float(os.environ["CME_OFFLINE_T0"])
app = QApplication(sys.argv)
window = QMainWindow()
label = QLabel("bare PySide6 window")
window.setCentralWidget(label)

def close():
    print(f"close-at {time.time()!r}", flush=True)
    window.close()

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            obj.removeEventFilter(self)
            ms = (time.time() - t0) * 1000
            print(f"first-paint-ms {ms:.1f}", flush=True)
            print(f"window-shown-ms {ms:.1f}", flush=True)
            print(f"ready-ms {ms:.1f}", flush=True)
            QTimer.singleShot(0, close)
        return False

spy = FirstPaint()
label.installEventFilter(spy)
window.resize(1000, 700)
window.show()
sys.exit(app.exec())
"""


def make_library(data_dir: Path) -> None:
    from cmecore import protocol
    from desktop.cache.catalog_store import apply_catalog
    from desktop.cache.db import open_database

    activities = [
        protocol.Activity(
            id=f"act-{i:04d}", version=1, title=f"Activity {i:04d}: update on topic {i % 37}",
            release_date=date(2026, 1, 1), termination_date=date(2027, 12, 31), providers=["Provider"],
            faculty=[{"name": f"Dr. Faculty {i}", "credentials": "MD"}],
            accreditation=[
                {"profession": "physician", "provider": "P", "credit_type": "AMA PRA Category 1 Credit",
                 "max_credits": 0.5, "statement": "s"},
                {"profession": "pharmacist", "provider": "P", "credit_type": "ACPE", "max_credits": 0.5,
                 "contact_hours": 0.5, "statement": "s"},
            ],
            assets=[
                {"kind": "video", "media_type": "video/mp4", "size": 1000, "sha256": f"{i:064x}",
                 "url": f"/api/v1/media/{i:064x}"},
                {"kind": "transcript", "media_type": "text/vtt", "size": 100, "sha256": f"{i + 10**6:064x}",
                 "url": f"/api/v1/media/{i + 10**6:064x}"},
            ],
        )
        for i in range(ACTIVITIES)
    ]
    db = open_database(data_dir / "cache.sqlite3")
    apply_catalog(db, protocol.Catalog(cursor=1, full=True, activities=activities),
                  server_url="http://127.0.0.1:9", etag=None, synced_at=datetime(2026, 11, 21), clock_offset_ms=0)
    db.close()


def first_paint_ms(args: list[str], env: dict[str, str]) -> float:
    env = {**env, "CME_OFFLINE_T0": repr(time.time())}
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    for line in out.stdout.splitlines():
        if line.startswith("first-paint-ms "):
            return float(line.split()[1])
    raise RuntimeError(f"no first paint reported: {out.stdout!r} {out.stderr[-2000:]!r}")


def main() -> None:
    env = {**os.environ}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["CME_OFFLINE_BENCH_FIRST_PAINT"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        make_library(data_dir)
        app_cmd = [sys.executable, "-m", "desktop.app", "--data-dir", str(data_dir), "--server", "http://127.0.0.1:9"]
        bare_cmd = [sys.executable, "-c", BARE_WINDOW]
        first_paint_ms(app_cmd, env), first_paint_ms(bare_cmd, env)  # warm the OS file cache
        app_runs, bare_runs = [], []
        for _ in range(RUNS):  # interleaved, so machine noise hits both alike
            app_runs.append(first_paint_ms(app_cmd, env))
            bare_runs.append(first_paint_ms(bare_cmd, env))
    app_ms, bare_ms = statistics.median(app_runs), statistics.median(bare_runs)
    print(f"startup: platform={env['QT_QPA_PLATFORM']} activities={ACTIVITIES} runs={RUNS}")
    print(f"  cme-offline first painted library  median {app_ms:7.1f} ms  (min {min(app_runs):.1f})")
    print(f"  bare PySide6 window first paint    median {bare_ms:7.1f} ms  (min {min(bare_runs):.1f})")
    print(f"  ratio {app_ms / bare_ms:.2f}x   (target <= 1.5x)")


if __name__ == "__main__":
    main()
