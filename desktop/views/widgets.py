"""Small widget helpers every page uses.

They live here, below every page, so that a page and its tabs can share them without
importing one another (the activity page and its tabs used to reach each other through
`plain_label`).

Everything shown in the app came from the server or the learner, so a label shows its
text literally: nothing is ever interpreted as HTML (summaries are sanitised HTML and
have their own browser, see activity/summaries_tab.py).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QLayout, QLineEdit, QMenu, QPushButton, QToolButton, QVBoxLayout, QWidget

from desktop.views.accessibility import install, make_heading

install()  # every page builds its labels through here: screen readers hear their text


def plain_label(text: str, parent: QWidget | None = None, *, name: str = "", tip: str = "",
                selectable: bool = True, heading: bool = False) -> QLabel:
    """A word-wrapped label that shows `text` literally (never as rich text). `name` says what
    it is (its accessible description: a screen reader reads the text itself); `heading`
    makes it a section title a screen reader lists as a heading."""
    label = QLabel(parent)
    if heading:  # before any text: with a screen reader on, setText makes Qt build the label's interface
        make_heading(label)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    label.setWordWrap(True)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if heading:
        font = label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        label.setFont(font)
    label.setAccessibleDescription(name)
    label.setToolTip(tip or name or "")
    return label


def section_heading(text: str, parent: QWidget | None = None) -> QLabel:
    """A bold heading over a part of a page (not selectable; a screen reader lists it as a heading)."""
    return plain_label(text, parent, name=text, heading=True, selectable=False)


def push_button(parent: QWidget, text: str, tip: str, slot, *, name: str = "") -> QPushButton:
    """A push button with its accessible name (the text without a trailing "…", unless given) and tooltip."""
    button = QPushButton(text, parent)
    button.setAccessibleName(name or text.rstrip("…"))
    button.setToolTip(tip)
    button.clicked.connect(slot)
    return button


def line_edit(parent: QWidget, name: str, tip: str, *, placeholder: str = "", text: str = "",
              password: bool = False, clear_button: bool = False) -> QLineEdit:
    """A one-line text field with its accessible name and tooltip; `password` hides what is
    typed, `clear_button` offers to empty it (find and filter fields)."""
    edit = QLineEdit(text, parent)
    edit.setPlaceholderText(placeholder)
    if password:
        edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setClearButtonEnabled(clear_button)
    edit.setAccessibleName(name)
    edit.setToolTip(tip)
    return edit


def server_address_edit(parent: QWidget, text: str = "") -> QLineEdit:
    """The credit server's address, as the welcome and sign-in dialogs and Settings ask for it."""
    return line_edit(parent, "Server address", "The address of your provider's credit server",
                     placeholder="https://cme.example.org", text=text)


class ErrorBox(QLabel):
    """A dialog's hidden box for what went wrong with the last attempt: white on red in either
    colour scheme (the palette's bright-text is a light red in the dark one), plain text."""

    def __init__(self, parent: QWidget, name: str):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setAccessibleName(name)
        self.setToolTip("What went wrong with the last attempt")
        self.setStyleSheet("color: #ffffff; background: #b3261e; padding: 6px;")
        self.setVisible(False)

    def show_text(self, text: str) -> None:
        """Show `text`; the dialog grows to fit it, so the fields above keep their height."""
        self.setText(text)
        self.setVisible(True)
        fit_height(self.window())


def fit_height(window: QWidget) -> None:
    """Make `window` at least as tall as its layout needs at its current width. Qt's own
    minimum ignores a word-wrapped label's height-for-width, so a message shown later would
    squash the fields instead of growing the window."""
    layout = window.layout()
    if layout is None:
        return
    layout.activate()
    width = window.width()
    needed = window.heightForWidth(width)
    if needed < 0:  # nothing in it wraps
        needed = layout.totalMinimumSize().height()
    if window.height() < needed:
        window.resize(width, needed)


def dialog_column(dialog: QWidget, *parts: QWidget | QLayout, width: int = 440) -> QVBoxLayout:
    """A dialog's widgets and layouts top to bottom, `width` wide and as tall as they need."""
    column = QVBoxLayout(dialog)
    for part in parts:
        if isinstance(part, QLayout):
            column.addLayout(part)
        else:
            column.addWidget(part)
    dialog.resize(width, dialog.sizeHint().height())
    return column


def tool_button(parent: QWidget, text: str, name: str, tip: str, slot) -> QToolButton:
    """A small tool button (a glyph such as "‹" or "A+") with the accessible name a screen reader says."""
    button = QToolButton(parent)
    button.setText(text)
    button.setAccessibleName(name)
    button.setToolTip(tip)
    button.clicked.connect(slot)
    return button


def popup_menu(parent: QWidget, at, entries) -> QMenu:
    """A context menu at global point `at` that mirrors buttons: (text, button) each, enabled as the button is."""
    menu = QMenu(parent)
    for text, button in entries:
        action = QAction(text, menu)
        action.setEnabled(button.isEnabled())
        action.triggered.connect(button.click)
        menu.addAction(action)
    menu.popup(at)
    return menu
