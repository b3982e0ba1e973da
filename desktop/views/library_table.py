"""The library's table: its keyboard and focus behaviour and how its cells wrap.

Kept apart from library_view.py (the model and the page) so each stays readable.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QPersistentModelIndex, QRect, Qt, Signal
from PySide6.QtGui import QFontMetrics, QFontMetricsF
from PySide6.QtWidgets import QStyledItemDelegate, QTableView


def wrapped_lines(fm, text: str, width: int) -> int:
    """How many lines `text` takes word-wrapped at `width` pixels."""
    height = fm.boundingRect(QRect(0, 0, width, 1 << 20), Qt.TextFlag.TextWordWrap, text).height()
    return 1 + max(0, round((height - fm.height()) / max(1, fm.lineSpacing())))


def widest(font, texts: set[str], n: int) -> list[str]:
    """The `n` widest of `texts` in `font`, widest first: what sorting them all by
    QFontMetrics.horizontalAdvance gives, for a fraction of its cost. Measuring a text shapes
    it (harfbuzz: ~50,000 instructions for a title); adding up its characters' widths from a
    table is ~20 times cheaper and within a few pixels (kerning, ligatures), so only the 3n
    widest by that sum are measured exactly."""
    fm = QFontMetrics(font)
    if len(texts) <= 3 * n:
        return sorted(texts, key=fm.horizontalAdvance, reverse=True)[:n]
    width = _CharWidths(QFontMetricsF(font))
    near = sorted(texts, key=lambda t: sum(map(width.__getitem__, t)), reverse=True)[:3 * n]
    return sorted(near, key=fm.horizontalAdvance, reverse=True)[:n]


class _CharWidths(dict):
    """Character -> its advance in the font, measured on first use."""

    def __init__(self, fm):
        super().__init__()
        self._fm = fm

    def __missing__(self, char: str) -> float:
        self[char] = width = self._fm.horizontalAdvance(char)
        return width


def two_line_width(fm, label: str) -> int:
    """The narrowest width that shows `label` on two lines broken between credits."""
    parts = label.split(" · ")
    if len(parts) < 2:
        return fm.horizontalAdvance(label)
    return min(
        max(fm.horizontalAdvance(" · ".join(parts[:k]) + " ·"), fm.horizontalAdvance(" · ".join(parts[k:])))
        for k in range(1, len(parts))
    )


class CreditsDelegate(QStyledItemDelegate):
    """Lets a wrapping row break "0.5 AMA · 0.5 PA" only between credits."""

    def initStyleOption(self, option, index):
        super().initStyleOption(option, index)
        option.text = option.text.replace(" ", "\u00a0").replace("\u00a0·\u00a0", "\u00a0· ")


class LibraryTable(QTableView):
    """Has a current cell only while it has the focus (as views/section_list.py's list):
    Qt tells screen readers a view's current cell is focused even when the focus is
    elsewhere (a dialog, the search field). The selection stays; the current cell comes
    back with the focus."""

    enter_pressed = Signal()
    rows_painted = Signal()  # once: the viewport's first paint with rows in it

    def __init__(self, parent=None):
        super().__init__(parent)
        self._kept = QPersistentModelIndex()
        self._rows_painted = False

    def viewportEvent(self, event) -> bool:
        # Told here rather than by an event filter on viewport(): asking for the viewport
        # before the first paint makes PySide6 build every QWidget subclass to learn its
        # type (~50 M instructions, ~10 ms).
        if not self._rows_painted and event.type() == QEvent.Type.Paint and self.model().rowCount() > 0:
            self._rows_painted = True
            self.rows_painted.emit()
        return super().viewportEvent(event)

    def focusOutEvent(self, event):
        super().focusOutEvent(event)
        if event.reason() != Qt.FocusReason.PopupFocusReason and self.currentIndex().isValid():
            self._kept = QPersistentModelIndex(self.currentIndex())
            self.selectionModel().setCurrentIndex(QModelIndex(), QItemSelectionModel.SelectionFlag.NoUpdate)

    def focusInEvent(self, event):
        if self._kept.isValid() and not self.currentIndex().isValid():
            self.selectionModel().setCurrentIndex(QModelIndex(self._kept), QItemSelectionModel.SelectionFlag.NoUpdate)
        self._kept = QPersistentModelIndex()
        super().focusInEvent(event)

    def make_current(self, index: QModelIndex) -> None:
        """Select `index`'s row; it is the current cell now, or when the focus comes back."""
        if self.hasFocus():
            self.setCurrentIndex(index)
            return
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.selectionModel().select(index, flags)
        self._kept = QPersistentModelIndex(index)
        self.scrollTo(index)

    def current_or_kept(self) -> QModelIndex:
        """The current cell, or the one it will be again when the focus returns."""
        return self.currentIndex() if self.currentIndex().isValid() else QModelIndex(self._kept)

    def keyPressEvent(self, event):
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.current_or_kept().isValid():
            self.enter_pressed.emit()
            event.accept()
            return
        super().keyPressEvent(event)
