"""How the window looks on this computer: its place and size, light or dark, the
transcript's text size. Kept in `<data dir>/window.ini` (QSettings), apart from
`settings.json`, because the window needs them before its first paint, long before the
services (and pydantic) are loaded.

A saved place is clamped to the screen it is restored on (`fit_rect`): a window closed on
a second monitor, or at another scale factor, must not come back off-screen or larger
than the screen.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect, QSettings, QSize

from cmecore.private_files import private_dir, private_file

PREFS_FILE = "window.ini"
THEMES = ("system", "light", "dark")
DEFAULT_SIZE = QSize(1100, 720)
MINIMUM_SIZE = QSize(720, 480)  # a saved size below this (a mistake, another screen) grows back to it
TRANSCRIPT_POINTS = (8, 28)  # the transcript's A−/A+ range


def clamp_points(points: float) -> int:
    """A transcript text size within TRANSCRIPT_POINTS."""
    return int(min(max(round(points), TRANSCRIPT_POINTS[0]), TRANSCRIPT_POINTS[1]))


class WindowPrefs:
    """Read and write the window's preferences; with no data dir (tests) they live in memory only."""

    def __init__(self, data_dir: Path | None):
        if data_dir:
            _private_prefs_file(Path(data_dir) / PREFS_FILE)
        self._store = QSettings(str(Path(data_dir) / PREFS_FILE), QSettings.Format.IniFormat) if data_dir else None
        self._memory: dict[str, object] = {}

    def _get(self, key: str, default):
        if self._store is None:
            return self._memory.get(key, default)
        return self._store.value(key, default)

    def _set(self, key: str, value) -> None:
        if self._store is None:
            self._memory[key] = value
            return
        self._store.setValue(key, value)
        self._store.sync()

    # ---------------------------------------------------------------- light / dark

    @property
    def theme(self) -> str:
        value = str(self._get("appearance/theme", "system"))
        return value if value in THEMES else "system"

    @theme.setter
    def theme(self, value: str) -> None:
        if value not in THEMES:
            raise ValueError(f"theme must be one of {THEMES}, not {value!r}")
        self._set("appearance/theme", value)

    # ---------------------------------------------------------------- transcript text

    @property
    def transcript_points(self) -> int | None:
        """The transcript text size the learner chose here (None: never chosen, or unreadable)."""
        value = self._get("transcript/points", None)
        try:
            return clamp_points(int(value)) if value is not None else None
        except (TypeError, ValueError):
            return None

    @transcript_points.setter
    def transcript_points(self, points: int) -> None:
        self._set("transcript/points", clamp_points(int(points)))

    # ---------------------------------------------------------------- place and size

    def window_rect(self) -> tuple[QRect | None, bool]:
        """The saved normal geometry (None if never saved or unreadable) and whether it was maximised."""
        try:
            x, y, w, h = (int(self._get(f"window/{k}", "")) for k in ("x", "y", "width", "height"))
        except (TypeError, ValueError):
            return None, False
        return QRect(x, y, w, h), str(self._get("window/maximized", "false")).lower() == "true"

    def save_window_rect(self, rect: QRect, maximized: bool) -> None:
        for key, value in (("x", rect.x()), ("y", rect.y()), ("width", rect.width()), ("height", rect.height())):
            if self._store is None:
                self._memory[f"window/{key}"] = value
            else:
                self._store.setValue(f"window/{key}", value)
        self._set("window/maximized", "true" if maximized else "false")


def fit_rect(saved: QRect | None, available: QRect, minimum: QSize = MINIMUM_SIZE) -> QRect:
    """Where to put the window on a screen whose usable area is `available`.

    No saved place: the default size, centred. A saved one keeps its size and place as far
    as the screen allows: never larger than `available`, never below `minimum` unless the
    screen itself is smaller, and moved fully inside it.
    """
    rect = QRect(saved) if saved is not None and saved.isValid() else QRect(0, 0, DEFAULT_SIZE.width(),
                                                                           DEFAULT_SIZE.height())
    width = min(max(rect.width(), minimum.width()), available.width())
    height = min(max(rect.height(), minimum.height()), available.height())
    if saved is None or not saved.isValid():
        x = available.x() + (available.width() - width) // 2
        y = available.y() + (available.height() - height) // 2
    else:
        x = min(max(rect.x(), available.x()), available.x() + available.width() - width)
        y = min(max(rect.y(), available.y()), available.y() + available.height() - height)
    return QRect(x, y, width, height)


def _private_prefs_file(path: Path) -> None:
    """Made owner-only before QSettings first writes it: Qt's atomic save keeps the mode of
    the file it replaces. A folder that cannot be written only loses the preferences."""
    try:
        private_dir(path.parent)
        private_file(path)
    except OSError:
        pass
