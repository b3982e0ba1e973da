"""The window's toolbar: the app's name, the search box and Sync now, with their shortcuts.

Built before the first paint (QtWidgets only); the search box stays disabled until the
search panel (built with the other pages) takes it over.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QToolBar, QWidget

from desktop.views.widgets import line_edit

SYNC_TEXT = "⟳ Sync now"


class TopBar(QToolBar):
    def __init__(self, window: QWidget):
        super().__init__("Main", window)
        self.setObjectName("main-toolbar")
        self.setMovable(False)
        self.setFloatable(False)
        self.setAccessibleName("Main toolbar")
        self.setToolTip("Search and sync")
        title = QLabel(" CME Offline ", self)
        title.setAccessibleName("CME Offline")
        title.setToolTip("CME Offline: accredited activities, available without a network")
        self.addWidget(title)
        spacer = QWidget(self)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.search_edit = line_edit(self, "Search", "Search arrives with offline media",
                                     placeholder="Search transcripts, summaries, titles…")
        self.search_edit.setEnabled(False)
        self.search_edit.setMinimumWidth(320)
        self.addWidget(spacer)
        self.addWidget(self.search_edit)
        self.sync_button = QPushButton(SYNC_TEXT, self)
        self.sync_button.setAccessibleName("Sync now")
        self.sync_button.setToolTip("Sync with the credit server now (Ctrl+R)")
        self.addWidget(self.sync_button)
        # Window-wide shortcuts (the actions live on the window so they work from any page).
        self.sync_action = QAction("Sync now", window)
        self.sync_action.setShortcut(QKeySequence("Ctrl+R"))
        self.sync_action.setToolTip("Sync with the credit server now")
        window.addAction(self.sync_action)
        self.search_action = QAction("Search", window)
        self.search_action.setShortcuts([QKeySequence("Ctrl+K"), QKeySequence("Ctrl+F")])
        self.search_action.setToolTip("Search titles, summaries and transcripts")
        window.addAction(self.search_action)

    def show_syncing(self, syncing: bool) -> None:
        self.sync_button.setEnabled(not syncing)
        self.sync_button.setText("Syncing…" if syncing else SYNC_TEXT)
