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
from PySide6.QtWidgets import QLabel, QWidget


def plain_label(text: str, parent: QWidget | None = None, *, name: str = "", tip: str = "",
                selectable: bool = True, heading: bool = False) -> QLabel:
    """A word-wrapped label that shows `text` literally (never as rich text)."""
    label = QLabel(parent)
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
    label.setAccessibleName(name or text[:80])
    label.setToolTip(tip or name or "")
    return label


def section_heading(text: str, parent: QWidget | None = None) -> QLabel:
    """A bold heading over a part of a page (not selectable; its text is its accessible name)."""
    return plain_label(text, parent, name=text, heading=True, selectable=False)
