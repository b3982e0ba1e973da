"""What the first painted library imports: the window's shell, painted with the cached rows,
loads none of the packages the services, the other pages or the player need (issue 15;
docs/architecture.md "Start-up path" lists the deliberate ones). In a fresh interpreter,
so what this test process already imported does not count."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.activities import make_activity
from tests.support.clients import dead_url, fill_cache

ROOT = Path(__file__).resolve().parents[2]

# Each is tens of milliseconds or megabytes that the first paint does not need.
NOT_BEFORE_THE_FIRST_PAINT = (
    "sqlalchemy", "alembic", "pydantic", "httpx", "keyring", "markdown_it", "nh3", "vlc", "pyld", "cryptography",
    "rapidfuzz", "desktop.services", "desktop.views.later_pages", "desktop.views.activity",
    "multiprocessing.connection", "hashlib", "logging.handlers", "socket", "plistlib",
    "desktop.cli", "json",  # the commands' module is loaded only when a command is named
)

# Qt classes PySide6 builds on first use (QStyle with its enums is ~9 ms): none is shown
# before the first paint.
QT_CLASSES_NOT_BUILT = ("QStyle", "QCommonStyle", "QSystemTrayIcon")

CHILD = r"""
import sys
from pathlib import Path
from desktop.app import parse_command_line, _first_paint
from desktop.logs import setup_logging
from desktop.views.main_window import MainWindow, ensure_app
from desktop.views.single_instance import InstanceLock

args = parse_command_line(["--data-dir", sys.argv[1]])
setup_logging(Path(sys.argv[1]) / "logs")
lock = InstanceLock(Path(sys.argv[1]))
assert lock.acquire()
app = ensure_app()
first_paint = _first_paint(Path(sys.argv[1]))
assert first_paint is not None and len(first_paint.rows) == 2
window = MainWindow(None, first_paint=first_paint)
window.show()
app.processEvents()
print(" ".join(sorted(name for name, module in sys.modules.items() if module is not None)))
import PySide6.QtWidgets
print(" ".join(sorted(name for name in vars(PySide6.QtWidgets) if name.startswith("Q"))))
lock.release()
"""


def test_the_first_painted_library_loads_no_services_pages_or_player(make_services):
    seeded = make_services(dead_url())
    fill_cache(seeded, [make_activity(1), make_activity(2)], seeded.server_url)
    data_dir = seeded.paths.data_dir
    seeded.close()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", CHILD, str(data_dir)], env=env, capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    modules, qt_classes = out.stdout.splitlines()[-2:]
    loaded = modules.split()
    early = [m for m in loaded if m.startswith(NOT_BEFORE_THE_FIRST_PAINT)
             and any(m == name or m.startswith(name + ".") for name in NOT_BEFORE_THE_FIRST_PAINT)]
    assert early == []
    assert [name for name in QT_CLASSES_NOT_BUILT if name in qt_classes.split()] == []
    assert "PySide6.QtWidgets" in loaded and "desktop.views.library_view" in loaded  # it did paint the library
