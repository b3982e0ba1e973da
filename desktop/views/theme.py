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

Check boxes, radio buttons and the fields (line edits, spin boxes, combo boxes) get a
palette of their own (`outlined_palette`). Fusion draws their outline from the Window
colour made darker (`Window.darker(140)`), not from Mid or Dark, so on the dark window an
empty box was 1.2:1 and on the light one 1.6:1; WCAG 1.4.11 asks 3:1 for a control's
outline. Their own Window colour is unused otherwise (they fill no background with it),
so it is chosen to make that outline contrast.
The highlight colours are chosen so selected text is 4.5:1 on them and the focus ring
(drawn in the highlight colour) is 3:1 on the window.
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
    Role.Shadow: "#0d0d0f", Role.Highlight: "#3672e0", Role.HighlightedText: "#ffffff",
    Role.Link: "#7ab4ff", Role.LinkVisited: "#c6a0f6", Role.Accent: "#3672e0",
}
_DARK_DISABLED = {Role.WindowText: "#7b7e83", Role.Text: "#7b7e83", Role.ButtonText: "#7b7e83",
                  Role.Highlight: "#3d4048", Role.HighlightedText: "#a0a0a0"}
_LIGHT = {
    Role.Window: "#efefef", Role.WindowText: "#000000", Role.Base: "#ffffff", Role.AlternateBase: "#f7f7f7",
    Role.ToolTipBase: "#ffffdc", Role.ToolTipText: "#000000", Role.PlaceholderText: "#6e6e6e",
    Role.Text: "#000000", Role.Button: "#efefef", Role.ButtonText: "#000000", Role.BrightText: "#ffffff",
    Role.Light: "#ffffff", Role.Midlight: "#cacaca", Role.Mid: "#b8b8b8", Role.Dark: "#9f9f9f",
    Role.Shadow: "#767676", Role.Highlight: "#2675aa", Role.HighlightedText: "#ffffff",
    Role.Link: "#0000ff", Role.LinkVisited: "#ff00ff", Role.Accent: "#2675aa",
}
_LIGHT_DISABLED = {Role.WindowText: "#8c8c8c", Role.Text: "#8c8c8c", Role.ButtonText: "#8c8c8c",
                   Role.Highlight: "#919191", Role.HighlightedText: "#ffffff"}


OUTLINE_CONTRAST = 3.2  # a control's outline against the window and the box (WCAG 1.4.11: 3:1, and a margin)
# Drawn with `outlined_palette`: Fusion outlines them from their own Window colour.
OUTLINED = ("QCheckBox", "QRadioButton", "QLineEdit", "QAbstractSpinBox", "QComboBox")


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


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two opaque colours (1 to 21)."""
    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def fusion_outlines(window: QColor) -> tuple[QColor, QColor]:
    """The colours Fusion outlines controls with, from the Window colour of the widget's
    palette (qfusionstyle.cpp `outline()`): as is for fields, `lighter(110)` for check boxes
    and radio buttons."""
    outline = window.darker(140)
    return outline, outline.lighter(110)


def outlined_palette(palette: QPalette) -> QPalette:
    """`palette` for the OUTLINED controls: its Window colour moved (lighter on a dark
    window, darker on a light one) until Fusion's outlines are OUTLINE_CONTRAST against the
    window around the control and the base inside it; on a dark window the tick and the
    chosen radio's dot (Fusion: Text, darker) are drawn from white, as is a field's text."""
    result = QPalette(palette)
    for group in (Group.Active, Group.Inactive, Group.Disabled):
        window, base = palette.color(group, Role.Window), palette.color(group, Role.Base)
        hue, saturation, lightness = window.hslHue(), window.hslSaturation(), window.lightness()
        step = 4 if is_dark(palette) else -4  # lightness steps: a few, at start-up
        candidate = QColor(window)
        while 0 <= lightness <= 255 and min(
            contrast(outline, ground) for outline in fusion_outlines(candidate) for ground in (window, base)
        ) < OUTLINE_CONTRAST:
            lightness += step
            candidate = QColor.fromHsl(max(hue, 0), saturation, min(255, max(0, lightness)))
        result.setColor(group, Role.Window, candidate)
        if is_dark(palette) and group != Group.Disabled:
            result.setColor(group, Role.Text, QColor("#ffffff"))
    return result


def apply_palette(app: QApplication, palette: QPalette) -> None:
    """Make `palette` the application's, with outlines that show on check boxes, radios and fields."""
    app.setPalette(palette)
    outlined = outlined_palette(palette)
    for class_name in OUTLINED:  # after the application's: setting that one may reset these
        QApplication.setPalette(outlined, class_name)


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
        apply_palette(self.app, palette)
        widgets = QApplication.allWidgets()
        for widget in widgets:
            if widget.styleSheet():
                # Under a style sheet (the window's focus ring) children keep the old
                # palette on a switch while running; setting the sheet again re-resolves them.
                widget.setStyleSheet(widget.styleSheet())
        for widget in widgets:  # after: a sheet set again polishes its children anew
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
