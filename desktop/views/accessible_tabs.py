"""Tabs as a screen reader should hear them: a locked tab is disabled, and only a tab in a
focused tab bar claims focus.

Qt's own interface for a tab (QAccessibleTabButton, Qt 6.11) reports every tab enabled even
after `setTabEnabled(i, False)`, and the current tab focused even when the focus is
elsewhere, so AT-SPI said the activity's locked tabs could be used and two nodes had focus.
`TabBarInterface` (installed by desktop/views/accessibility.py's factory) replaces it: the
bar's children are the tabs, each reporting its own enabled, selected and focused state.
Qt's two scroll arrows are not listed (the tab bars here are wide enough not to scroll).
"""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QAccessible, QAccessibleInterface
from PySide6.QtWidgets import QAccessibleWidget, QTabBar


def _tab_name(bar: QTabBar, index: int) -> str:
    name = bar.accessibleTabName(index)
    return name or bar.tabText(index).replace("&&", "\0").replace("&", "").replace("\0", "&")


class TabInterface(QAccessibleInterface):
    """One tab of a tab bar (not a QObject: Qt's is not either)."""

    def __init__(self, bar: QTabBar, index: int):
        super().__init__()
        self._bar, self._index = bar, index

    def isValid(self):
        return self._index < self._bar.count()

    def object(self):
        return None

    def parent(self):
        return QAccessible.queryAccessibleInterface(self._bar)

    def child(self, _index):
        return None

    def childCount(self):
        return 0

    def indexOfChild(self, _child):
        return -1

    def childAt(self, _x, _y):
        return None

    def role(self):
        return QAccessible.Role.PageTab

    def text(self, kind):
        if not self.isValid():
            return ""
        if kind == QAccessible.Text.Name:
            return _tab_name(self._bar, self._index)
        if kind == QAccessible.Text.Description:
            return self._bar.tabToolTip(self._index)
        return ""

    def setText(self, _kind, _text):
        pass

    def rect(self):
        if not self.isValid():
            return QRect()
        area = self._bar.tabRect(self._index)
        return QRect(self._bar.mapToGlobal(area.topLeft()), area.size())

    def state(self):
        state = QAccessible.State()
        bar, index = self._bar, self._index
        if not self.isValid():
            state.invalid = True
            return state
        current = bar.currentIndex() == index
        state.selectable = state.focusable = True
        state.selected = current
        state.focused = current and bar.hasFocus()
        state.disabled = not (bar.isEnabled() and bar.isTabEnabled(index))
        state.invisible = not (bar.isVisible() and bar.isTabVisible(index))
        return state


class TabBarInterface(QAccessibleWidget):
    def __init__(self, bar: QTabBar):
        super().__init__(bar, QAccessible.Role.PageTabList)
        self._tabs: list[TabInterface] = []  # kept: Qt holds on to the interfaces it was given

    def text(self, kind):
        bar = self.widget()
        if kind == QAccessible.Text.Name:
            return bar.accessibleName() or (_tab_name(bar, bar.currentIndex()) if bar.count() else "")
        return super().text(kind)

    def childCount(self):
        return self.widget().count()

    def child(self, index):
        bar = self.widget()
        if not 0 <= index < bar.count():
            return None
        while len(self._tabs) <= index:
            self._tabs.append(TabInterface(bar, len(self._tabs)))
        return self._tabs[index]

    def indexOfChild(self, child):
        return self._tabs.index(child) if child in self._tabs else -1
