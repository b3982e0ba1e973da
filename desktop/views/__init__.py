"""Qt widgets: they show state and forward intent to the services. No SQL, no HTTP; long work
and every store write run off the GUI thread (tasks.py)."""

# PySide6's import hook must not cache the source of every later import (qt_source_reads.py).
from desktop.views import qt_source_reads  # noqa: E402,F401
