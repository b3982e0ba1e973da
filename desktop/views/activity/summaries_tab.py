"""The Summaries tab: each key clinical summary as rich text, at a readable width.

The HTML comes from `render_summary` (already sanitised). The browser still trusts
nothing: it loads no resource that is not inline data (no remote images, no local files),
never follows a link itself, and hands only http, https and mailto links to the system.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QLabel, QTextBrowser, QVBoxLayout, QWidget

READABLE_WIDTH_PX = 760
EXTERNAL_SCHEMES = frozenset({"http", "https", "mailto"})


class SummaryBrowser(QTextBrowser):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setAccessibleName("Key clinical summaries")
        self.setToolTip("Key clinical summaries; links open in your web browser")
        self.anchorClicked.connect(self.open_link)
        self.opened: list[QUrl] = []  # links handed to the system (for tests and logs)

    def loadResource(self, kind: int, url: QUrl):
        # Nothing from the network or the disk: a summary shows only what it carries inline.
        if url.scheme() == "data":
            return super().loadResource(kind, url)
        return None

    def open_link(self, url: QUrl) -> None:
        if url.scheme().lower() in EXTERNAL_SCHEMES:
            self.opened.append(url)
            QDesktopServices.openUrl(url)


class SummariesTab(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAccessibleName("Summaries")
        self.browser = SummaryBrowser(self)
        self.browser.setMaximumWidth(READABLE_WIDTH_PX)
        self.note = QLabel(self)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        self.note.setAccessibleName("Summaries status")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.browser, 100)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addLayout(row, 1)
        self.show_summaries([], note="No summaries.")

    def show_summaries(self, summaries: list[tuple[str, str]], *, note: str = "") -> None:
        """(title, sanitised HTML) pairs, one section each."""
        self.titles = [title for title, _ in summaries]
        parts = [
            f"<h2>{html.escape(title)}</h2>\n{body}\n" + ("<hr>" if i < len(summaries) - 1 else "")
            for i, (title, body) in enumerate(summaries)
        ]
        self.browser.setHtml("".join(parts))
        self.browser.setVisible(bool(summaries))
        self.note.setText("" if summaries else note)
        self.note.setVisible(not summaries)
