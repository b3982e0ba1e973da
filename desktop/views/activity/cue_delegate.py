"""How one transcript cue is drawn: its whole text, wrapped, never cut off with "…".

Qt's own item drawing elides the last line when its height check comes out a few pixels
short (a cue ending in "light-headedness" showed "light-…" over an empty line), and a
row laid out in the regular font can be too short once the line being spoken is drawn
bold. So rows are sized for the bold text at the list's width, and the text is drawn
with plain word wrap over the style's own background, highlight and focus frame.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPalette
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
        bold = QFont(self.view.font())
        bold.setBold(True)  # room for the cue as it looks while it is spoken
        width = self._text_width()
        text = str(index.data() or "")
        height = QFontMetrics(bold).boundingRect(QRect(0, 0, width, 1_000_000), WRAP, text).height()
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
