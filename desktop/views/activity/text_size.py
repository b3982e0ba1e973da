"""The transcript's text size, remembered on this computer across sessions.

Kept in `<data dir>/window.ini` (QSettings, key `transcript/points`) beside the window's
own look, not in settings.json: a change of text size is not a setting the services
must hear about (saving Settings rebuilds the HTTP connection), and A−/A+ must apply at
once. With no data dir (tests without services) nothing is remembered.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

PREFS_FILE = "window.ini"
KEY = "transcript/points"
MIN_POINTS, MAX_POINTS = 7, 30


def clamp_points(points: float) -> float:
    return float(min(MAX_POINTS, max(MIN_POINTS, points)))


def remembered_points(data_dir: Path | None) -> float | None:
    """The size the learner last chose here, or None (never chosen, or unreadable)."""
    if data_dir is None:
        return None
    value = QSettings(str(Path(data_dir) / PREFS_FILE), QSettings.Format.IniFormat).value(KEY)
    try:
        return clamp_points(float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def remember_points(data_dir: Path | None, points: float) -> None:
    if data_dir is None:
        return
    store = QSettings(str(Path(data_dir) / PREFS_FILE), QSettings.Format.IniFormat)
    store.setValue(KEY, round(clamp_points(points)))
    store.sync()
