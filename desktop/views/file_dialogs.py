"""Where the app's file dialogs start: the learner's Documents folder (their home when
there is none), never the process's working directory, which for a learner is wherever the
app happened to be started from (for a developer, the source tree)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QStandardPaths


def documents_dir() -> Path:
    """The learner's Documents folder if it exists, else their home folder."""
    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if found and Path(found).is_dir():
        return Path(found)
    return Path.home()


def start_path(name: str = "") -> str:
    """Where a file dialog opens: `name` (a suggested file name, or a path the learner already
    chose) inside the Documents folder; an absolute `name` is kept as it is."""
    if name and os.path.isabs(name):
        return name
    return str(documents_dir() / name) if name else str(documents_dir())
