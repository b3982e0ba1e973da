"""What a screen reader hears: headings, label text, announcements, a visible focus ring.

Linux screen readers read the app through AT-SPI, which Qt feeds from each widget's
accessible interface. Three things Qt widgets do not do on their own:

- A QLabel given an accessible name exposes only that name: the text on screen is never
  read ("Description" instead of the description). `install()` puts a factory in front of
  Qt's: a label exposes the text it shows as its name, and the name it was given (its
  purpose, e.g. "Pass mark") as its description. Pages may keep naming labels by purpose.
- Qt has no heading widget. Labels marked by `make_heading` report the Heading role, so a screen reader
  can jump from section title to section title.
- Status that changes where the learner is not looking (a sync result, claims waiting, a
  test unlocked) must be spoken: `announce()` sends Qt's announcement event (AT-SPI
  "announcement"), politely unless it is an error.

`FOCUS_RING` is the window's style sheet: Fusion's focus frame is a faint dotted line, so
every focused control gets a 2 px highlight border.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, Qt, QTextDocumentFragment
from PySide6.QtWidgets import QAccessibleWidget, QLabel, QTabBar, QWidget

from desktop.views.accessible_tabs import TabBarInterface

FOCUS_RING = """
QAbstractButton:focus, QLineEdit:focus, QComboBox:focus, QAbstractSpinBox:focus,
QAbstractItemView:focus, QTabBar:focus, QTextEdit:focus, QPlainTextEdit:focus, QSlider:focus {
    outline: 2px solid palette(highlight);
}
QPushButton:focus, QToolButton:focus, QLineEdit:focus, QComboBox:focus, QAbstractSpinBox:focus {
    border: 2px solid palette(highlight); border-radius: 3px; padding: 2px 6px;
}
QCheckBox:focus, QRadioButton:focus {
    border: 2px solid palette(highlight); border-radius: 3px;
}
QAbstractItemView:focus, QTextEdit:focus, QPlainTextEdit:focus, QSlider:focus {
    border: 2px solid palette(highlight);
}
"""


def make_heading(label: QLabel) -> QLabel:
    """Mark a label as a section title, listed by screen readers as a heading (before it is shown)."""
    label.setProperty(HEADING, True)
    return label


HEADING = "accessibleHeading"  # the dynamic property that makes a label a heading


class _HeadingInterface(QAccessibleWidget):
    def __init__(self, label: QLabel):
        super().__init__(label, QAccessible.Role.Heading)

    def text(self, kind):
        label = self.widget()
        if kind == QAccessible.Text.Name:
            return label.text() or label.accessibleName()
        if kind == QAccessible.Text.Description:
            return label.accessibleDescription() or label.toolTip()
        return super().text(kind)


class _TextLabelInterface(QAccessibleWidget):
    """A label read by its text; the name it was given (its purpose) is its description."""

    def __init__(self, label: QLabel):
        super().__init__(label, QAccessible.Role.StaticText)

    def text(self, kind):
        label = self.widget()
        shown = shown_text(label)
        purpose = label.accessibleDescription() or label.accessibleName()
        if kind == QAccessible.Text.Name:  # an empty status label is named by its purpose, never by nothing
            return shown or purpose
        if kind == QAccessible.Text.Description:
            return purpose if shown and purpose != shown else ""
        return super().text(kind)


def shown_text(label: QLabel) -> str:
    """The text a label shows, as plain text (rich text rendered to what is read)."""
    text = label.text()
    rich = label.textFormat() == Qt.TextFormat.RichText or (
        label.textFormat() == Qt.TextFormat.AutoText and Qt.mightBeRichText(text))
    return QTextDocumentFragment.fromHtml(text).toPlainText() if rich else text


def _interface_for(_key: str, obj):
    if isinstance(obj, QTabBar):  # locked tabs reported disabled (desktop/views/accessible_tabs.py)
        return TabBarInterface(obj)
    if isinstance(obj, QLabel) and obj.property(HEADING):
        return _HeadingInterface(obj)
    if isinstance(obj, QLabel):  # decided once per label, so not on its (changing) text
        return _TextLabelInterface(obj)
    return None


_installed = False


def install() -> None:
    """Put the factory in front of Qt's (once per process, once the application exists:
    a factory installed before it is silently not used — seen with PySide6 6.11 when a
    page module was imported first — so `ensure_app` calls this again after creating it)."""
    global _installed
    if _installed or QCoreApplication.instance() is None:
        return
    QAccessible.installFactory(_interface_for)
    _installed = True


def announce(widget: QWidget, text: str, *, urgent: bool = False) -> None:
    """Have a screen reader say `text` now (nothing happens when none is listening)."""
    if not text or not QAccessible.isActive():
        return
    event = QAccessibleAnnouncementEvent(widget, text)
    event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive if urgent
                        else QAccessible.AnnouncementPoliteness.Polite)
    QAccessible.updateAccessibility(event)
