"""`make demo` as a user meets it: launch to the first painted window, and window close to
process exit, beside a bare PySide6 window measured the same way (`make bench`; prints,
asserts nothing). Target: each ≤ 1 s.

The parent notes the wall clock and starts a fresh process (`CME_OFFLINE_T0`). The app
runs `--demo` on a fresh data dir with `CME_OFFLINE_BENCH_LAUNCH=1`
(views/window_frame.py: LaunchProbe): it prints `window-shown-ms` at its first paint,
`ready-ms` when the demo's first sync has finished, then `close-at <epoch>` and closes
its window; the parent notes when the process has ended. The bare window prints the same
lines (its "ready" is its first paint).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.bench_startup import BARE_WINDOW

RUNS = 5
TARGET_MS = 1000.0
ROOT = Path(__file__).resolve().parents[2]



def measure(args: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run once: window-shown-ms, ready-ms and exit-ms (close request to process end)."""
    env = {**env, "CME_OFFLINE_T0": repr(time.time())}
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=120)
    ended = time.time()
    figures = {}
    for line in out.splitlines():
        name, _, value = line.partition(" ")
        if name in ("window-shown-ms", "ready-ms", "close-at"):
            figures[name] = float(value)
    if proc.returncode != 0 or len(figures) != 3:
        raise RuntimeError(f"exit {proc.returncode}, figures {figures}: {out[-1000:]!r} {err[-2000:]!r}")
    figures["exit-ms"] = (ended - figures.pop("close-at")) * 1000
    return figures


def verdict(ms: float) -> str:
    return "met" if ms <= TARGET_MS else "not met"


def main() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["CME_OFFLINE_BENCH_LAUNCH"] = "1"
    bare_cmd = [sys.executable, "-c", BARE_WINDOW]
    app_runs, bare_runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(RUNS + 1):  # the first of each warms the OS file cache and is not counted
            data_dir = Path(tmp) / f"data-{run}"  # a fresh data dir: the demo's first start, as `make demo` meets it
            app = measure([sys.executable, "-m", "desktop.app", "--demo", "--data-dir", str(data_dir)], env)
            bare = measure(bare_cmd, env)
            if run:
                app_runs.append(app)
                bare_runs.append(bare)

    def median(runs, key):
        return statistics.median(r[key] for r in runs)

    print(f"launch: platform={env['QT_QPA_PLATFORM']} runs={RUNS} (fresh data dir each, median)")
    print(f"  {'':34}{'cme-offline --demo':>20}{'bare PySide6':>16}")
    for key, what in (("window-shown-ms", "launch to first window"), ("ready-ms", "launch to demo synced"),
                      ("exit-ms", "window close to process exit")):
        app_ms, bare_ms = median(app_runs, key), median(bare_runs, key)
        target = f"   target {TARGET_MS:.0f} ms: {verdict(app_ms)}" if key != "ready-ms" else ""
        print(f"  {what:34}{app_ms:17.1f} ms{bare_ms:13.1f} ms{target}")


if __name__ == "__main__":
    main()
