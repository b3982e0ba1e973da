"""Cold start to first painted library with 1,000 cached activities, next to a bare
PySide6 window's start on the same machine (`make bench`; prints, asserts nothing).

All are measured the same way: the parent notes the wall clock, starts a fresh Python
process, and the child prints how long after that moment its first paint happened
(`CME_OFFLINE_T0`, seconds since the epoch). Target (issue 15): ratio ≤ 1.3× the bare
window, median of 7 (`CME_OFFLINE_BENCH_RUNS=3` for a quicker look; the output says how
many). The children may write bytecode (`PYTHONDONTWRITEBYTECODE` is dropped for them): an
installed app starts from compiled modules, and compiling ours on every start would add
~20 ms that no user pays.

Beside the bare window, the *floor*: the least a program showing the same first screen
must do — the Qt namespace and accessibility classes the app's widgets use, the same
1,000 rows read with sqlite3, a section list and a table model painting them (FLOOR_WINDOW,
~50 lines). The app's distance to the floor is what its own code costs; it is held to the
same allowance over the floor as the issue allows over the bare window (FLOOR_TARGET). Then
the app's start-up steps (`phase` lines, desktop/views/startup.py `mark`) with each one's
share of the first paint, the main thread's CPU time to the first paint of all three (on a
busy machine the wall clock of every run stretches; CPU time far less) and, from one run
with `python -X importtime`, the import time spent before the first paint, by package.
With CME_OFFLINE_BENCH_INSTRUCTIONS=1 (and valgrind), each program's instructions to its
first paint too, counted by callgrind: the one figure a loaded machine does not change.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ACTIVITIES = 1_000
RUNS = int(os.environ.get("CME_OFFLINE_BENCH_RUNS", "7"))
TARGET = 1.3  # issue 15: the first painted library within 1.3x a bare PySide6 window's first paint
INSTRUCTIONS_ENV = "CME_OFFLINE_BENCH_INSTRUCTIONS"  # =1: also count instructions with callgrind (~3 min)
FLOOR_TARGET = 1.3  # and, as 1.3x is out of reach for the floor itself here, within 1.3x the floor

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
            os.getppid()  # the end of the instruction count (see instructions_to_first_paint)
            ms = (time.time() - t0) * 1000
            print(f"main-thread-cpu-ms {time.thread_time() * 1000:.1f}", flush=True)
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


# The floor: the same first screen with nothing of the app — the Qt names its widgets need
# (the Qt namespace's enums alone are ~25 ms in PySide6 6.11), the rows read with sqlite3,
# a section list and a model-backed table of the titles.
FLOOR_WINDOW = r"""
import os, sqlite3, sys, time
from PySide6.QtCore import QAbstractTableModel, QEvent, Qt, QTimer
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QApplication, QListWidget, QMainWindow, QSplitter, QTableView

t0 = float(os.environ["CME_OFFLINE_T0"])
con = sqlite3.connect(sys.argv[1])
rows = con.execute(
    "SELECT a.title, a.release_date, a.termination_date, count(s.activity_id) FROM activities a "
    "LEFT JOIN accreditation_statements s ON s.activity_id = a.id GROUP BY a.id ORDER BY a.title").fetchall()
con.close()

class Rows(QAbstractTableModel):
    def rowCount(self, parent=None):
        return 0 if parent is not None and parent.isValid() else len(rows)
    def columnCount(self, parent=None):
        return 4
    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            return str(rows[index.row()][index.column()])
        return None

app = QApplication(sys.argv)
window = QMainWindow()
splitter = QSplitter()
nav = QListWidget()
nav.addItems(["Library", "Downloads", "Credits", "Settings"])
class Table(QTableView):
    # The first paint told from viewportEvent, as the app's table does (library_table.py):
    # asking for viewport() before the paint makes PySide6 build every QWidget subclass to
    # learn its type (~50 M instructions), a cost no program showing this screen must pay.
    painted = False
    def viewportEvent(self, event):
        if not self.painted and event.type() == QEvent.Type.Paint:
            self.painted = True
            os.getppid()  # the end of the instruction count (see instructions_to_first_paint)
            print(f"main-thread-cpu-ms {time.thread_time() * 1000:.1f}", flush=True)
            print(f"first-paint-ms {(time.time() - t0) * 1000:.1f}", flush=True)
            QTimer.singleShot(0, app.quit)
        return super().viewportEvent(event)

table = Table()
model = Rows()
table.setModel(model)
splitter.addWidget(nav)
splitter.addWidget(table)
window.setCentralWidget(splitter)

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
            release_date=date(2026, 1, 1), termination_date=date.today() + timedelta(days=730), providers=["Provider"],
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


def first_paint_ms(args: list[str], env: dict[str, str], phases: dict[str, list[float]] | None = None,
                   cpu: list[float] | None = None) -> float:
    """The child's first paint in ms after it was started; its `phase` lines into `phases`,
    the CPU its main thread had used by then into `cpu`."""
    env = {**env, "CME_OFFLINE_T0": repr(time.time())}
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    for line in out.stdout.splitlines():
        if line.startswith("phase ") and phases is not None:
            _, step, ms = line.split()
            phases.setdefault(step.replace("_", " "), []).append(float(ms))
        if line.startswith("main-thread-cpu-ms ") and cpu is not None:
            cpu.append(float(line.split()[1]))
        if line.startswith("first-paint-ms "):
            return float(line.split()[1])
    raise RuntimeError(f"no first paint reported: {out.stdout!r} {out.stderr[-2000:]!r}")


def instructions_to_first_paint(args: list[str], env: dict[str, str]) -> int:
    """The instructions the process ran until its first paint, counted by valgrind's callgrind
    (exact and the same on a busy machine as on a quiet one, unlike any clock). Each program
    calls getppid() at its first paint and nothing before it does: --dump-before=getppid
    writes the count so far there."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(["valgrind", "--tool=callgrind", "--dump-before=getppid", f"--callgrind-out-file={out}",
                        *args], env={**env, "CME_OFFLINE_T0": repr(time.time())}, capture_output=True, timeout=900)
        dumps = sorted(Path(tmp).glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:]))
        if not dumps:
            raise RuntimeError(f"callgrind wrote no count for {args[:3]}")
        for line in dumps[0].read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError(f"no instruction count in callgrind's output for {args[:3]}")


def import_shares(args: list[str], env: dict[str, str]) -> list[tuple[str, float]]:
    """Import time (ms, each module's own) before the first paint, by package, from one run
    with `python -X importtime` (its lines come on stderr, in import order; stdout and
    stderr go to one pipe so the first-paint line marks where to stop)."""
    env = {**env, "CME_OFFLINE_T0": repr(time.time())}
    out = subprocess.run([args[0], "-X", "importtime", *args[1:]], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=120)
    groups: dict[str, float] = {}
    for line in out.stdout.splitlines():
        if line.startswith("phase "):
            break
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line[len("import time:"):].split("|")
        top = name.strip().split(".")[0]
        group = (top if top in ("desktop", "cmecore") else
                 "PySide6 + shiboken6" if top.startswith(("PySide6", "shiboken", "shibokensupport")) else
                 "platformdirs" if top == "platformdirs" else "standard library and site")
        if name.strip().startswith("desktop."):
            group = "desktop." + name.strip().split(".")[1]
        groups[group] = groups.get(group, 0.0) + int(self_us) / 1000
    return sorted(groups.items(), key=lambda kv: -kv[1])


def main() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as installed: compiled
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["CME_OFFLINE_BENCH_FIRST_PAINT"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        make_library(data_dir)
        app_cmd = [sys.executable, "-m", "desktop.app", "--data-dir", str(data_dir), "--server", "http://127.0.0.1:9"]
        bare_cmd = [sys.executable, "-c", BARE_WINDOW]
        floor_cmd = [sys.executable, "-c", FLOOR_WINDOW, str(data_dir / "cache.sqlite3")]
        for cmd in (app_cmd, bare_cmd, floor_cmd):  # warm the OS file cache
            first_paint_ms(cmd, env)
        app_runs, bare_runs, floor_runs, phases = [], [], [], {}
        cpu = {"app": [], "bare": [], "floor": []}
        for _ in range(RUNS):  # interleaved, so machine noise hits all alike
            app_runs.append(first_paint_ms(app_cmd, env, phases, cpu["app"]))
            bare_runs.append(first_paint_ms(bare_cmd, env, cpu=cpu["bare"]))
            floor_runs.append(first_paint_ms(floor_cmd, env, cpu=cpu["floor"]))
        shares = import_shares(app_cmd, env)
        counted = {}
        if os.environ.get(INSTRUCTIONS_ENV) and shutil.which("valgrind"):
            counted = {name: instructions_to_first_paint(cmd, env)
                       for name, cmd in (("app", app_cmd), ("bare", bare_cmd), ("floor", floor_cmd))}
    app_ms, bare_ms, floor_ms = (statistics.median(r) for r in (app_runs, bare_runs, floor_runs))
    ratio, floor_ratio, to_floor = app_ms / bare_ms, floor_ms / bare_ms, app_ms / floor_ms
    print(f"startup: platform={env['QT_QPA_PLATFORM']} activities={ACTIVITIES} runs={RUNS} (median of each)"
          + ("" if RUNS >= 7 else "  -- fewer than the 7 runs the target asks for"))
    print(f"  cme-offline first painted library  median {app_ms:7.1f} ms  (min {min(app_runs):.1f})")
    print(f"  bare PySide6 window first paint    median {bare_ms:7.1f} ms  (min {min(bare_runs):.1f})")
    print(f"  floor: same screen, no app code    median {floor_ms:7.1f} ms  (min {min(floor_runs):.1f})")
    print(f"  P1 ratio to the bare window {ratio:.2f}x   (target <= {TARGET}x: {met(ratio <= TARGET)})")
    print(f"  the floor's own ratio to the bare window {floor_ratio:.2f}x   (<= {TARGET}x: {met(floor_ratio <= TARGET)}"
          f"{'' if floor_ratio <= TARGET else ': the target is out of reach for this screen with PySide6 here'})")
    print(f"  the app to the floor {to_floor:.2f}x, +{app_ms - floor_ms:.0f} ms of its own   "
          f"(target <= {FLOOR_TARGET}x the floor: {met(to_floor <= FLOOR_TARGET)})")
    # Other work on the machine stretches every run; the fastest runs show the programs' own cost.
    print(f"  from the fastest runs: the app {min(app_runs) / min(bare_runs):.2f}x the bare window, "
          f"{min(app_runs) / min(floor_runs):.2f}x the floor   (load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs at the end)")
    app_cpu, bare_cpu, floor_cpu = (statistics.median(cpu[k]) for k in ("app", "bare", "floor"))
    print(f"  main thread's CPU to the first paint (less stretched by other load): app {app_cpu:.0f} ms, "
          f"bare {bare_cpu:.0f}, floor {floor_cpu:.0f}: {app_cpu / bare_cpu:.2f}x the bare window, "
          f"{app_cpu / floor_cpu:.2f}x the floor")
    if counted:
        print(f"  instructions to the first paint (callgrind, one run each; the same under any load): "
              f"app {counted['app'] / 1e6:.0f} M, bare {counted['bare'] / 1e6:.0f} M, floor {counted['floor'] / 1e6:.0f} M: "
              f"{counted['app'] / counted['bare']:.2f}x the bare window, {counted['app'] / counted['floor']:.2f}x the floor "
              f"(target <= {FLOOR_TARGET}x the floor: {met(counted['app'] <= FLOOR_TARGET * counted['floor'])})")
    else:
        print(f"  ({INSTRUCTIONS_ENV}=1 with valgrind installed adds each program's instructions to the first paint:"
              " exact, whatever the load)")
    print("  the app's start-up steps (median ms each, share of the first paint; desktop/views/startup.py marks):")
    for step, values in phases.items():
        ms = statistics.median(values)
        print(f"    {step:44}{ms:7.1f}  {ms / app_ms:4.0%}")
    print("  import time before the first paint, by package (one run, -X importtime, own time):")
    for group, ms in shares[:12]:
        print(f"    {group:44}{ms:7.1f}")


def met(ok: bool) -> str:
    return "met" if ok else "not met"


if __name__ == "__main__":
    main()
