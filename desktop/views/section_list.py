"""The window's list of sections, which claims focus only when it has it.

Qt reports the current item of an item view as focused to screen readers (AT-SPI "focused")
whether or not the view has the keyboard focus, so the "Sections" list said "Library" was
focused while the learner was answering a question. This list keeps the section shown as
its *selection* and has a current item only while it has the focus: it takes the selected
row as current on focus-in (so arrows move on from the section shown) and drops it on
focus-out. `currentRow()`/`setCurrentRow()` keep meaning "the section shown".
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex
from PySide6.QtWidgets import QListWidget


class SectionList(QListWidget):
    def _selected_row(self) -> int:
        rows = self.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def _set_current_quietly(self, index: QModelIndex) -> None:
        blocked = self.blockSignals(True)  # not a new section: only where the keyboard is
        self.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
        self.blockSignals(blocked)

    def currentRow(self) -> int:  # noqa: N802 (Qt's name)
        current = self.currentIndex()
        return current.row() if current.isValid() else self._selected_row()

    def setCurrentRow(self, row: int) -> None:  # noqa: N802 (Qt's name)
        if self.hasFocus():
            super().setCurrentRow(row)
            return
        before = self.currentRow()
        self.selectionModel().select(self.model().index(row, 0),
                                     QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if row != before and not self.signalsBlocked():
            self.currentRowChanged.emit(row)

    def focusInEvent(self, event) -> None:
        row = self._selected_row()
        if not self.currentIndex().isValid() and row >= 0:
            self._set_current_quietly(self.model().index(row, 0))
        super().focusInEvent(event)

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        if self.currentIndex().isValid():
            self._set_current_quietly(QModelIndex())
