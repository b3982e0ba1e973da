"""Where the keyboard focus goes when the control that held it goes away, and Tab in reading order.

When a focused button hides or is disabled (Download, "I have read the disclosures — start",
Submit evaluation, Claim credit), Qt hands the focus to the next widget of the window's
focus chain, which is often outside the page: the status bar's "Switch learner", where
Space then opens the learner menu instead of pausing the video. The views call
`pass_focus` *before* they hide or disable such a control, naming where the learner's
next step is; `focus_text` makes a result line ("Evaluation submitted.") the place when
there is no next control yet. Both give the focus with the Tab reason, so the style
draws the focus ring (Fusion draws it only after a keyboard focus change).

`order_tab_chain` sets Tab to follow the layout (top to bottom, left to right) for pages
whose widgets are created after the page (a form rebuilt per activity would otherwise be
appended at the end of the window's chain, after the status bar).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QFrame, QLabel, QLayout, QScrollArea, QWidget

KEYBOARD = Qt.FocusReason.TabFocusReason  # the reason that makes the focus ring show


def holds_focus(widget: QWidget) -> bool:
    """`widget` or one of its children has the keyboard focus."""
    focused = widget.window().focusWidget() if widget.window() is not None else None
    return focused is not None and (focused is widget or widget.isAncestorOf(focused))


def can_take_focus(widget: QWidget | None) -> bool:
    return (widget is not None and widget.isVisible() and widget.isEnabled()
            and widget.focusPolicy() != Qt.FocusPolicy.NoFocus)


def pass_focus(leaving: QWidget, *candidates: QWidget | None, text: QLabel | None = None) -> bool:
    """Call before hiding or disabling `leaving`: if it holds the focus, the first candidate
    that can take it gets it (with a visible ring), else the line `text` (`focus_text`).
    True if the focus was passed."""
    if not holds_focus(leaving):
        return False
    for widget in candidates:
        if widget is not leaving and can_take_focus(widget):
            widget.setFocus(KEYBOARD)
            return True
    if text is not None:
        focus_text(text)
        return True
    return False


class _TextRing(QObject):
    """A label given the focus by `focus_text` is framed while it has it (a caret alone is hard to see)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(watched, QLabel) and event.type() in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            watched.setFrameShape(QFrame.Shape.Box if event.type() == QEvent.Type.FocusIn else QFrame.Shape.NoFrame)
        return False


_text_ring: _TextRing | None = None


def focus_text(label: QLabel, after: QWidget | None = None) -> None:
    """Put the focus on a line of text (a result, what happens next): it becomes keyboard
    selectable, so it can hold the focus, shows a caret (and a frame) and is read by a screen
    reader; Tab goes on from it as from `after` (the control drawn before it)."""
    global _text_ring
    if _text_ring is None:
        _text_ring = _TextRing()
    if not label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByKeyboard:
        label.installEventFilter(_text_ring)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                  | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    if after is not None:
        QWidget.setTabOrder(after, label)
    label.setFocus(KEYBOARD)


def in_reading_order(root: QWidget) -> list[QWidget]:
    """The widgets that take Tab under `root`, in the order its layouts show them."""
    found: list[QWidget] = []

    def visit_widget(w: QWidget) -> None:
        if w.focusPolicy() & Qt.FocusPolicy.TabFocus:
            found.append(w)
        if isinstance(w, QScrollArea):
            if w.widget() is not None:
                visit_widget(w.widget())
        elif w.layout() is not None and not isinstance(w, QAbstractScrollArea):
            visit_layout(w.layout())

    def visit_layout(layout: QLayout) -> None:
        for i in range(layout.count()):
            item = layout.itemAt(i)
            if item.widget() is not None:
                visit_widget(item.widget())
            elif item.layout() is not None:
                visit_layout(item.layout())

    if root.layout() is not None:
        visit_layout(root.layout())
    return found


def tab_anchor(widget: QWidget) -> QWidget | None:
    """`widget` if it can be placed in the Tab chain, else the nearest one before it that can
    (Qt's setTabOrder ignores a widget with no focus policy, such as a plain page)."""
    at = widget
    while at.focusPolicy() == Qt.FocusPolicy.NoFocus:
        at = at.previousInFocusChain()
        if at is widget or at is None:
            return None
    return at


def order_tab_chain(root: QWidget, controls: list[QWidget] | None = None) -> None:
    """Tab through `controls` (default: `root`'s, in reading order) right where `root` is."""
    previous = tab_anchor(root)
    for widget in in_reading_order(root) if controls is None else controls:
        if previous is not None:
            QWidget.setTabOrder(previous, widget)
        previous = widget
