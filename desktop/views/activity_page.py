"""One activity: front matter (Overview), the video with its transcript (Watch), the key
clinical summaries (Summaries); Assessment and Evaluation say what is coming.

Everything shown here came from the server, so every label is plain text: nothing from
the catalog is ever interpreted as HTML (summaries are sanitised HTML, see summaries_tab).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QMetaMethod, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.views.summaries_tab import SummariesTab
from desktop.views.text import format_date, format_minutes, human_bytes, media_text, profession_name

if TYPE_CHECKING:  # plain dataclasses; the views never load the cache layer themselves
    from desktop.cache.library import ActivityDetail, ObjectiveInfo, StatementInfo


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


PLACEHOLDERS = {
    "Assessment": "The post-test arrives with offline learning: pass mark and attempts first, "
    "one question per page, your answers kept as you choose them.",
    "Evaluation & credit": "The evaluation and credit claim arrive with offline learning: "
    "evaluation, commitment to change, and claiming credit for your profession.",
}


OVERVIEW_TAB, WATCH_TAB, SUMMARIES_TAB = 0, 1, 2


class ActivityPage(QWidget):
    back_requested = Signal()
    download_requested = Signal(list)  # [activity id] (Overview's and Watch's Download buttons)
    remove_video_requested = Signal(str)  # activity id (Overview's Remove video button)

    def __init__(self, parent=None, services=None):
        super().__init__(parent)
        self.services = services
        self.detail: ActivityDetail | None = None
        self.profession: str | None = None
        self.statement_boxes: list[QGroupBox] = []
        self.disclosures_table: QTableWidget | None = None
        self.objectives_tree: QTreeWidget | None = None

        self.back_button = QPushButton("← Back to library", self)
        self.back_button.setAccessibleName("Back to library")
        self.back_button.setToolTip("Return to the library (Esc)")
        self.back_button.clicked.connect(self.back_requested)
        self.title_label = plain_label("", self, name="Activity title", heading=True)

        header = QHBoxLayout()
        header.addWidget(self.back_button)
        header.addWidget(self.title_label, 1)

        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName("Activity sections")
        self.tabs.setToolTip("Overview, Watch, Summaries, Assessment, Evaluation & credit")
        self.overview_scroll = QScrollArea(self)
        self.overview_scroll.setWidgetResizable(True)
        self.overview_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.overview_scroll.setAccessibleName("Overview")
        self.tabs.addTab(self.overview_scroll, "Overview")
        self.tabs.setTabToolTip(OVERVIEW_TAB, "Front matter: faculty, dates, credit, objectives, disclosures")
        from desktop.views.watch_tab import WatchTab  # loads the media layer only with the page

        self.watch_tab = WatchTab(self)
        self.watch_tab.request_download = self._download_from_watch
        self.tabs.addTab(self.watch_tab, "Watch")
        self.tabs.setTabToolTip(WATCH_TAB, "The video with its transcript, highlighted as it plays")
        self.summaries_tab = SummariesTab(self)
        self.tabs.addTab(self.summaries_tab, "Summaries")
        self.tabs.setTabToolTip(SUMMARIES_TAB, "Key clinical summaries")
        for name, text in PLACEHOLDERS.items():
            page = QWidget()
            page.setAccessibleName(name)
            box = QVBoxLayout(page)
            box.addWidget(plain_label(text, page, name=f"{name} (coming)", tip=text), 0, Qt.AlignmentFlag.AlignTop)
            box.addStretch(1)
            index = self.tabs.addTab(page, name.replace("&", "&&"))  # "&" would be a mnemonic
            self.tabs.setTabToolTip(index, text)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.tabs, 1)


    def keyPressEvent(self, event) -> None:
        # Esc from anywhere on the page (children that do not use Esc pass it up here).
        if event.key() == Qt.Key.Key_Escape:
            event.accept()
            self.back_requested.emit()
            return
        super().keyPressEvent(event)

    # -------------------------------------------------------------- API

    def set_services(self, services) -> None:
        self.services = services

    def _services(self):
        # Given ones first; else the main window's current ones (they are swapped for the demo).
        return self.services if self.services is not None else getattr(self.window(), "services", None)

    def show_activity(self, detail: ActivityDetail, profession: str | None, start_ms: int | None = None) -> None:
        """Show this activity on the Overview tab (on the Watch tab at `start_ms` if given)."""
        self.detail = detail
        self.profession = profession
        self.title_label.setText(detail.title)
        self.title_label.setAccessibleName(f"Activity: {detail.title}")
        self.tabs.setCurrentIndex(0)
        old = self.overview_scroll.takeWidget()
        if old is not None:
            old.deleteLater()
        self.overview_scroll.setWidget(self._build_overview(detail, profession))
        self.overview_scroll.verticalScrollBar().setValue(0)
        services = self._services()
        self.watch_tab.show_activity(services, detail, start_ms)
        has_summaries = any(a.kind == "summary" for a in detail.assets)
        self.summaries_tab.show_summaries(
            services.summaries(detail.id) if services is not None else [],
            note="The summaries are not downloaded yet." if has_summaries else "This activity has no summaries.",
        )
        if start_ms is not None:
            self.open_at(start_ms)

    def open_at(self, ms: int) -> None:
        """Watch from this moment (e.g. a search hit's timestamp): switch to Watch and play."""
        self.tabs.setCurrentIndex(WATCH_TAB)
        self.watch_tab.open_at(ms)

    def _download_from_watch(self, activity_ids: list[str]) -> bool:
        """Hand a Download click to the main window's downloads if it listens; False if not."""
        if self.isSignalConnected(QMetaMethod.fromSignal(self.download_requested)):
            self.download_requested.emit(activity_ids)
            return True
        return False

    def hideEvent(self, event) -> None:
        # Leaving the page (back to the library, another section): pause and keep the place.
        if not event.spontaneous():
            self.watch_tab.close_activity()
        super().hideEvent(event)

    # -------------------------------------------------------------- overview

    def _build_overview(self, d: ActivityDetail, profession: str | None) -> QWidget:
        page = QWidget()
        page.setMaximumWidth(1000)
        v = QVBoxLayout(page)

        if d.description:
            v.addWidget(plain_label(d.description, page, name="Description"))
        if d.highlights:
            v.addWidget(self._section("Highlights", page))
            v.addWidget(plain_label("\n".join(f"• {h}" for h in d.highlights), page, name="Highlights"))

        facts = [
            ("Released", format_date(d.release_date)),
            ("Reviewed", format_date(d.review_date)),
            ("Available until", format_date(d.termination_date)),
            ("Estimated time", format_minutes(d.estimated_minutes)),
            ("Format", d.format or "—"),
            ("Audience", d.audience or "—"),
        ]
        v.addWidget(plain_label("   ·   ".join(f"{k}: {val}" for k, val in facts), page, name="Dates and format"))

        if d.faculty:
            v.addWidget(self._section("Faculty", page))
            for name, credentials, role, bio in d.faculty:
                line = name + (f", {credentials}" if credentials else "") + (f" — {role}" if role else "")
                v.addWidget(plain_label(line, page, name=f"Faculty: {name}", tip=bio or line))

        v.addWidget(self._section("Accreditation", page))
        self.statement_boxes = []
        statements = d.statements_for(profession)
        own = [s for s in statements if profession and s.profession == profession]
        others = [s for s in statements if s not in own]
        if not own:  # not signed in, or no credit for this profession: show them all
            own, others = others, []
        for s in own:
            v.addWidget(self._statement_box(s, page, own=bool(profession and s.profession == profession)))
        if others:
            toggle = QToolButton(page)
            toggle.setText(f"Statements for other professions ({len(others)})")
            toggle.setCheckable(True)
            toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            toggle.setArrowType(Qt.ArrowType.RightArrow)
            toggle.setAccessibleName("Show statements for other professions")
            toggle.setToolTip("Show or hide the accreditation statements for other professions")
            v.addWidget(toggle)
            holder = QWidget(page)
            hv = QVBoxLayout(holder)
            hv.setContentsMargins(16, 0, 0, 0)
            for s in others:
                hv.addWidget(self._statement_box(s, holder, own=False))
            holder.setVisible(False)

            def flip(checked: bool, holder=holder, toggle=toggle) -> None:
                holder.setVisible(checked)
                toggle.setArrowType(Qt.ArrowType.DownArrow if checked else Qt.ArrowType.RightArrow)

            toggle.toggled.connect(flip)
            self.others_toggle = toggle
            v.addWidget(holder)
        if d.providers:
            v.addWidget(plain_label("Provided by " + "; ".join(d.providers), page, name="Providers"))

        v.addWidget(self._section("Commercial support", page))
        v.addWidget(plain_label(d.commercial_support or "None declared.", page, name="Commercial support"))

        if d.objectives:
            v.addWidget(self._section("Learning objectives", page))
            v.addWidget(self._objectives(d.objectives, page))

        v.addWidget(self._section("Disclosures", page))
        v.addWidget(self._disclosures(d, page))
        if d.off_label_statement:
            v.addWidget(plain_label(d.off_label_statement, page, name="Off-label use statement"))

        v.addWidget(self._section("Files", page))
        if d.assets:
            for a in d.assets:
                title = a.title or a.kind.capitalize()
                text = f"{title} ({a.kind}, {a.media_type}, {human_bytes(a.size)}) — {media_text(a.state)}"
                v.addWidget(plain_label(text, page, name=f"File: {title}"))
        else:
            v.addWidget(plain_label("This activity has no files.", page, name="Files"))
        v.addLayout(self._file_buttons(d, page))
        v.addStretch(1)
        return page

    def _file_buttons(self, d: ActivityDetail, page: QWidget) -> QHBoxLayout:
        """Download / Remove video, under the Files list (the Downloads page does the work)."""
        row = QHBoxLayout()
        missing = [a for a in d.assets if str(a.state) != "present"]
        self.download_button = QPushButton("⬇ Download", page)
        self.download_button.setAccessibleName("Download this activity")
        self.download_button.setToolTip("Fetch this activity's files for offline use")
        self.download_button.setEnabled(bool(missing))
        self.download_button.clicked.connect(lambda: self.download_requested.emit([d.id]))
        self.remove_video_button = QPushButton("Remove downloaded video", page)
        self.remove_video_button.setAccessibleName("Remove downloaded video")
        self.remove_video_button.setToolTip("Delete the video file to free space; transcript, summaries and "
                                            "your progress stay")
        self.remove_video_button.setEnabled(
            any(a.kind == "video" and str(a.state) in ("present", "partial") for a in d.assets)
        )
        self.remove_video_button.clicked.connect(lambda: self.remove_video_requested.emit(d.id))
        row.addWidget(self.download_button)
        row.addWidget(self.remove_video_button)
        row.addStretch(1)
        return row

    @staticmethod
    def _section(text: str, parent: QWidget) -> QLabel:
        return plain_label(text, parent, name=text, heading=True, selectable=False)

    def _statement_box(self, s: StatementInfo, parent: QWidget, *, own: bool) -> QGroupBox:
        who = profession_name(s.profession)
        amount = s.contact_hours if s.contact_hours is not None else s.max_credits
        box = QGroupBox(f"{'Your credit — ' if own else ''}{who}: {amount:g} × {s.credit_type}", parent)
        box.setProperty("profession", s.profession)
        box.setAccessibleName(f"Accreditation for {who}")
        box.setToolTip(f"Accreditation statement for {who}")
        bv = QVBoxLayout(box)
        bv.addWidget(plain_label(s.statement, box, name=f"Statement for {who}"))
        extra = [f"Provider: {s.provider}"]
        if s.uan:
            extra.append(f"UAN: {s.uan}")
        if s.activity_type:
            extra.append(f"Type: {s.activity_type}")
        bv.addWidget(plain_label("   ·   ".join(extra), box, name=f"Details for {who}"))
        self.statement_boxes.append(box)
        return box

    def _objectives(self, objectives: tuple[ObjectiveInfo, ...], parent: QWidget) -> QTreeWidget:
        tree = QTreeWidget(parent)
        tree.setHeaderHidden(True)
        tree.setAccessibleName("Learning objectives")
        tree.setToolTip("What you should be able to do after this activity")
        tree.setWordWrap(True)

        def add(items, parent_item):
            for o in items:
                item = QTreeWidgetItem([o.text])
                item.setToolTip(0, o.text)
                if parent_item is None:
                    tree.addTopLevelItem(item)
                else:
                    parent_item.addChild(item)
                add(o.children, item)

        add(objectives, None)
        tree.expandAll()
        tree.setMinimumHeight(min(400, 24 * (_count(objectives) + 1)))
        self.objectives_tree = tree
        return tree

    def _disclosures(self, d: ActivityDetail, parent: QWidget) -> QTableWidget:
        headers = ("Person", "Role", "Company", "Nature", "Mitigated")
        table = QTableWidget(len(d.disclosures), len(headers), parent)
        table.setHorizontalHeaderLabels(headers)
        table.setAccessibleName("Disclosures")
        table.setToolTip("Financial relationships of everyone who controlled the content")
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        for row, (person, role, company, nature, mitigated) in enumerate(d.disclosures):
            for col, value in enumerate((person, role, company, nature, "Yes" if mitigated else "No")):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                table.setItem(row, col, item)
        table.setMinimumHeight(min(320, 30 * (len(d.disclosures) + 1) + 4))
        self.disclosures_table = table
        if not d.disclosures:
            table.setToolTip("No disclosures were listed for this activity")
        return table


def _count(objectives) -> int:
    return sum(1 + _count(o.children) for o in objectives)
