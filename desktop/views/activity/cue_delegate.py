"""How one transcript cue is drawn: its whole text, wrapped, never cut off with "…".

Qt's own item drawing elides the last line when its height check comes out a few pixels
short (a cue ending in "light-headedness" showed "light-…" over an empty line). So each
row is sized for its text in the font it is drawn in (bold for the line being spoken,
the model's FontRole) at the list's width, and the text is drawn with plain word wrap
over the style's own background, highlight and focus frame. Sizing every row for bold
left blank gaps under the plain ones; so when the spoken line moves on, the view is told
the two rows' sizes changed (`sizeHintChanged`) and lays the rows out again.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QFontMetrics, QPalette
from PySide6.QtWidgets import QApplication, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

MARGIN = 3  # pixels around the text inside a row
WRAP = Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop


class CueDelegate(QStyledItemDelegate):
    def __init__(self, view: QListView):
        super().__init__(view)
        self.view = view

    def _text_width(self) -> int:
        return max(40, self.view.viewport().width() - 2 * self.view.spacing() - 2 * MARGIN)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        font = index.data(Qt.ItemDataRole.FontRole) or self.view.font()  # bold while spoken
        width = self._text_width()
        text = str(index.data() or "")
        height = QFontMetrics(font).boundingRect(QRect(0, 0, width, 1_000_000), WRAP, text).height()
        return QSize(width + 2 * MARGIN, height + 2 * MARGIN)

    def paint(self, painter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text, opt.text = opt.text, ""
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)  # background, focus
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        painter.setFont(opt.font)
        painter.setPen(opt.palette.color(role))
        painter.drawText(opt.rect.adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN), WRAP, text)
        painter.restore()
