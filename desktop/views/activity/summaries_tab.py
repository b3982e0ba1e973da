"""The Summaries tab: each key clinical summary as rich text, at a readable width.

The summaries are read and rendered (`services.summaries`: Markdown by markdown-it,
everything through nh3) when the tab is first shown for an activity, on the task pool:
a learner who only watches never loads either library (bench_rss), and the first render,
importing markdown-it (~50 ms of CPU), never holds the GUI thread. A late answer for
another activity is dropped.

The HTML comes from `render_summary` (already sanitised). The browser still trusts
nothing: it loads no resource that is not inline data (no remote images, no local files),
never follows a link itself, and hands only http, https and mailto links to the system.
"""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QLabel, QTextBrowser, QVBoxLayout, QWidget

from desktop.cache.blobstore import LocalState  # a plain enum (no database code)
from desktop.errors import CmeError
from desktop.views.learning_text import locked_text
from desktop.views.tasks import run_task

if TYPE_CHECKING:
    from desktop.cache.library import ActivityDetail

log = logging.getLogger(__name__)

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


NOT_DOWNLOADED = "The summaries are not downloaded yet."
NONE = "This activity has no summaries."
READING = "Reading the summaries…"


class SummariesTab(QWidget):
    summaries_shown = Signal()  # what `load` asked for (or why there is none) is on screen

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._pending = None  # (services, activity id): read when the tab is next shown
        self._request = 0  # bumped per load: a late answer for another activity is dropped
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

    def load(self, services, detail: ActivityDetail, locked_reason: str | None = None) -> None:
        """This activity's summaries: read when the tab is shown (now, if it is). Locked
        (`locked_reason`, rule 1) or with none here, the tab says why straight away."""
        self._request += 1
        self._pending = None
        summaries = [a for a in detail.assets if a.kind == "summary"]
        if locked_reason is not None:
            self.show_summaries([], note=locked_reason)
        elif services is None or not any(a.state is LocalState.present for a in summaries):
            self.show_summaries([], note=NOT_DOWNLOADED if summaries else NONE)
        else:
            self._pending = (services, detail.id)
            self.show_summaries([], note=READING)
            if self.isVisible():
                self._read()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._pending is not None:
            self._read()

    def _read(self) -> None:
        (services, activity_id), self._pending = self._pending, None
        request = self._request
        run_task(self, lambda: services.summaries(activity_id),
                 lambda summaries: self._arrived(request, summaries, NOT_DOWNLOADED),
                 lambda exc: self._arrived(request, [], _failure_note(exc)))

    def _arrived(self, request: int, summaries: list[tuple[str, str]], note: str) -> None:
        if request == self._request:
            self.show_summaries(summaries, note=note)
            self.summaries_shown.emit()

    def show_summaries(self, summaries: list[tuple[str, str]], *, note: str = "") -> None:
        """(title, sanitised HTML) pairs, one section each, headed by its title at level 1 (the
        level a summary's own title has, its sections below it): the HTML no longer holds the
        summary's own opening title (`split_title`), so it shows once."""
        self.titles = [title for title, _ in summaries]
        parts = [
            f"<h1>{html.escape(title)}</h1>\n{body}\n" + ("<hr>" if i < len(summaries) - 1 else "")
            for i, (title, body) in enumerate(summaries)
        ]
        self.browser.setHtml("".join(parts))
        self.browser.setVisible(bool(summaries))
        self.note.setText("" if summaries else note)
        self.note.setVisible(not summaries)


def _failure_note(exc: BaseException) -> str:
    """What the tab says when reading the summaries failed."""
    if isinstance(exc, CmeError):
        return locked_text(exc)  # rule 1, no one signed in, or the cache's own error
    log.error("reading the summaries failed", exc_info=exc)
    return "The summaries could not be read."
