"""Light or dark: the app follows the system's colour scheme, or the learner's choice in
Settings (System / Light / Dark).

Fusion draws every widget from the application palette, so one palette switch recolours
the whole app. The platform's own palette is kept when it already has the wanted
brightness (a KDE or GNOME colour scheme stays the user's); otherwise a plain light or
dark palette is laid over it. Qt 6.8+ is also told the scheme (`QStyleHints.setColorScheme`)
so window frames that follow it agree. With "System" the app listens for the system's
changes (Qt 6.5+ `colorSchemeChanged`) and follows them while running.

Red errors and amber warnings are drawn in a shade for each scheme (`set_tone`): the light
scheme's dark red on the dark window was unreadable (contrast 1.7:1). A theme switch
re-tones every toned widget.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from desktop.views.window_prefs import THEMES

log = logging.getLogger(__name__)

Role, Group = QPalette.ColorRole, QPalette.ColorGroup

_DARK = {
    Role.Window: "#2b2d30", Role.WindowText: "#e6e6e6", Role.Base: "#1e1f22", Role.AlternateBase: "#26282b",
    Role.ToolTipBase: "#3c3f41", Role.ToolTipText: "#f0f0f0", Role.PlaceholderText: "#8c8f94",
    Role.Text: "#e6e6e6", Role.Button: "#3a3d41", Role.ButtonText: "#e6e6e6", Role.BrightText: "#ff6b6b",
    Role.Light: "#4a4d52", Role.Midlight: "#404348", Role.Mid: "#2f3236", Role.Dark: "#1a1b1e",
    Role.Shadow: "#0d0d0f", Role.Highlight: "#2f65ca", Role.HighlightedText: "#ffffff",
    Role.Link: "#7ab4ff", Role.LinkVisited: "#c6a0f6", Role.Accent: "#2f65ca",
}
_DARK_DISABLED = {Role.WindowText: "#7b7e83", Role.Text: "#7b7e83", Role.ButtonText: "#7b7e83",
                  Role.Highlight: "#3d4048", Role.HighlightedText: "#a0a0a0"}
_LIGHT = {
    Role.Window: "#efefef", Role.WindowText: "#000000", Role.Base: "#ffffff", Role.AlternateBase: "#f7f7f7",
    Role.ToolTipBase: "#ffffdc", Role.ToolTipText: "#000000", Role.PlaceholderText: "#6e6e6e",
    Role.Text: "#000000", Role.Button: "#efefef", Role.ButtonText: "#000000", Role.BrightText: "#ffffff",
    Role.Light: "#ffffff", Role.Midlight: "#cacaca", Role.Mid: "#b8b8b8", Role.Dark: "#9f9f9f",
    Role.Shadow: "#767676", Role.Highlight: "#308cc6", Role.HighlightedText: "#ffffff",
    Role.Link: "#0000ff", Role.LinkVisited: "#ff00ff", Role.Accent: "#308cc6",
}
_LIGHT_DISABLED = {Role.WindowText: "#8c8c8c", Role.Text: "#8c8c8c", Role.ButtonText: "#8c8c8c",
                   Role.Highlight: "#919191", Role.HighlightedText: "#ffffff"}


# tone: (on a light window, on a dark window); each ≥ 4.5:1 against its window and base
TONES = {"error": ("#c62828", "#ff8a80"), "warning": ("#8a5200", "#ffb74d")}


def tone_color(tone: str, palette: QPalette | None = None) -> QColor:
    """The colour of `tone` ("error", "warning") readable on `palette` (default: the app's)."""
    light, dark = TONES[tone]
    return QColor(dark if is_dark(palette or QApplication.palette()) else light)


def set_tone(widget: QWidget, tone: str) -> None:
    """Bold text in the error or warning colour, readable in light and dark (and kept so
    when the scheme changes)."""
    widget.setProperty("tone", tone)
    font = widget.font()
    font.setBold(True)
    widget.setFont(font)
    _paint_tone(widget)


def _paint_tone(widget: QWidget) -> None:
    palette = widget.palette()
    palette.setColor(Role.WindowText, tone_color(widget.property("tone"), QApplication.palette()))
    widget.setPalette(palette)


def _palette(colors: dict, disabled: dict) -> QPalette:
    palette = QPalette()
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    for role, color in disabled.items():
        palette.setColor(Group.Disabled, role, QColor(color))
    return palette


def dark_palette() -> QPalette:
    return _palette(_DARK, _DARK_DISABLED)


def light_palette() -> QPalette:
    return _palette(_LIGHT, _LIGHT_DISABLED)


def is_dark(palette: QPalette) -> bool:
    return palette.color(Role.Window).lightness() < 128


class Theme(QObject):
    """The app's colours. `apply(choice)` with "system", "light" or "dark"; one per application."""

    def __init__(self, app: QApplication):
        super().__init__(app)
        self.app = app
        self.choice = "system"
        self._platform = QPalette(app.palette())  # the platform theme's palette, before any of ours
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):  # Qt 6.5+
            hints.colorSchemeChanged.connect(self._system_changed)

    def system_is_dark(self) -> bool:
        hints = QGuiApplication.styleHints()
        if self.choice == "system" and hasattr(hints, "colorScheme"):
            scheme = hints.colorScheme()
            if scheme != Qt.ColorScheme.Unknown:
                return scheme == Qt.ColorScheme.Dark
        return is_dark(self._platform)

    def dark(self) -> bool:
        """Whether the app is drawn dark now."""
        return self.choice == "dark" or (self.choice == "system" and self.system_is_dark())

    def apply(self, choice: str) -> None:
        self.choice = choice if choice in THEMES else "system"
        self._tell_style_hints()
        dark = self.dark()
        if is_dark(self._platform) == dark:
            palette = QPalette(self._platform)
        else:
            palette = dark_palette() if dark else light_palette()
        self.app.setPalette(palette)
        for widget in QApplication.allWidgets():
            if widget.property("tone") in TONES:
                _paint_tone(widget)
        log.debug("theme %s: %s palette", self.choice, "dark" if dark else "light")

    def _tell_style_hints(self) -> None:
        hints = QGuiApplication.styleHints()
        if not hasattr(hints, "setColorScheme"):  # before Qt 6.8 the palette alone decides
            return
        if self.choice == "system":
            hints.unsetColorScheme()
        else:
            hints.setColorScheme(Qt.ColorScheme.Dark if self.choice == "dark" else Qt.ColorScheme.Light)

    def _system_changed(self, _scheme) -> None:
        if self.choice == "system":
            self.apply("system")


_theme: Theme | None = None


def app_theme(app: QApplication | None = None) -> Theme:
    """The application's one Theme (made on first use)."""
    global _theme
    app = app or QApplication.instance()
    if _theme is None or _theme.app is not app:
        _theme = Theme(app)
    return _theme
