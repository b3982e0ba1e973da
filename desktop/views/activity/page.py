"""One activity: front matter and the disclosure gate (Overview), the video with its
transcript (Watch), the key clinical summaries (Summaries), the post-test (Assessment) and
the evaluation and claim (Evaluation & credit).

Rule 1: Watch, Summaries, Assessment and Evaluation & credit stay locked (disabled tabs,
and a locked message inside each) until the learner presses "I have read the disclosures
— start" on the Overview. Rule 3: an activity that is over shows why; it can be read, not
started or claimed. Where the learner stands comes from `Services.learning_state` (a quick
offline read); every write runs off the GUI thread.

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

from desktop.errors import CmeError
from desktop.views.events import AppEvents
from desktop.views.learning_text import ACK_BUTTON, LOCKED, local_time, locked_text
from desktop.views.activity.assessment_tab import AssessmentTab
from desktop.views.activity.credit_tab import CreditTab
from desktop.views.activity.summaries_tab import SummariesTab
from desktop.views.tasks import run_write
from desktop.views.activity.watch_tab import WatchTab
from desktop.views.widgets import plain_label, section_heading
from desktop.views.text import format_date, format_minutes, human_bytes, media_text, profession_name

if TYPE_CHECKING:  # plain dataclasses; the views never load the cache layer themselves
    from desktop.cache.library import ActivityDetail, ObjectiveInfo, StatementInfo


OVERVIEW_TAB, WATCH_TAB, SUMMARIES_TAB, ASSESSMENT_TAB, CREDIT_TAB = range(5)
LOCKED_TABS = (WATCH_TAB, SUMMARIES_TAB, ASSESSMENT_TAB, CREDIT_TAB)


class ActivityPage(QWidget):
    back_requested = Signal()
    download_requested = Signal(list)  # [activity id] (Overview's and Watch's Download buttons)
    remove_video_requested = Signal(str)  # activity id (Overview's Remove video button)

    def __init__(self, parent=None, services=None, *, events: AppEvents | None = None):
        super().__init__(parent)
        self.services = services
        # What this page records (acknowledgement, attempts, evaluation, claims) is announced
        # here as learning_changed; it redraws for other sources' changes.
        self.events = events if events is not None else AppEvents(self)
        self.events.learner_changed.connect(self._learner_changed)
        self.events.learning_changed.connect(self._learning_changed)
        self.events.catalog_changed.connect(self._catalog_changed)
        self.detail: ActivityDetail | None = None
        self.profession: str | None = None
        self.statement_boxes: list[QGroupBox] = []
        self.disclosures_table: QTableWidget | None = None
        self.objectives_tree: QTreeWidget | None = None
        self.state = None  # the learner's LearningState for this activity (None: no one signed in)
        self.ack_button: QPushButton | None = None
        self.gate_label: QLabel | None = None
        self.availability_label: QLabel | None = None

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
        self.watch_tab = WatchTab(self)
        self.watch_tab.request_download = self._download_from_watch
        self.tabs.addTab(self.watch_tab, "Watch")
        self.summaries_tab = SummariesTab(self)
        self.tabs.addTab(self.summaries_tab, "Summaries")
        self.assessment_tab = AssessmentTab(self)
        self.tabs.addTab(self.assessment_tab, "Assessment")
        self.credit_tab = CreditTab(self)
        self.tabs.addTab(self.credit_tab, "Evaluation && credit")  # "&" alone would be a mnemonic
        self.tab_tips = {
            OVERVIEW_TAB: "Front matter: faculty, dates, credit, objectives, disclosures",
            WATCH_TAB: "The video with its transcript, highlighted as it plays",
            SUMMARIES_TAB: "Key clinical summaries",
            ASSESSMENT_TAB: "The post-test: pass mark and attempts first, one question per page",
            CREDIT_TAB: "Evaluation, commitment to change, and claiming your credit",
        }
        self.assessment_tab.changed.connect(self._learning_step)
        self.assessment_tab.go_to_credit.connect(lambda: self.tabs.setCurrentIndex(CREDIT_TAB))
        self.credit_tab.changed.connect(self._learning_step)
        self.tabs.currentChanged.connect(self._tab_changed)

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
        self.assessment_tab.set_activity(services, detail.id)  # a fresh start (maybe another learner)
        self.credit_tab.set_activity(services, detail.id)
        self.refresh_learning()
        self._load_content(start_ms if self.unlocked() else None)
        if start_ms is not None:
            self.open_at(start_ms)

    def _load_content(self, start_ms: int | None = None) -> None:
        """Video, transcript and summaries; each shows a locked message instead while rule 1 holds."""
        services, detail = self._services(), self.detail
        self.watch_tab.show_activity(services, detail, start_ms)
        has_summaries = any(a.kind == "summary" for a in detail.assets)
        note = "The summaries are not downloaded yet." if has_summaries else "This activity has no summaries."
        try:
            summaries = services.summaries(detail.id) if services is not None else []
        except CmeError as exc:  # ContentLocked (rule 1) or NotSignedIn: never raise out of a view
            summaries, note = [], locked_text(exc)
        self.summaries_tab.show_summaries(summaries, note=note)

    def reload(self) -> None:
        """Show the same activity again (another learner is current, or a sync changed it)."""
        services = self._services()
        if self.detail is None or services is None:
            return
        self.watch_tab.close_activity()
        detail = services.activity_detail(self.detail.id)
        if detail is None:
            self.back_requested.emit()
            return
        learner = services.current_learner()
        self.show_activity(detail, learner.profession if learner else None)

    # -------------------------------------------------------------- learning state (rules 1, 3)

    def unlocked(self) -> bool:
        return self.state is not None and self.state.acknowledged_at is not None

    def refresh_learning(self):
        """Re-read where the learner stands (offline) and show it: gate, tab locks, assessment, credit."""
        services, d = self._services(), self.detail
        state, note = None, ""
        if services is not None and d is not None:
            try:
                state = services.learning_state(d.id)
            except CmeError as exc:
                note = locked_text(exc)
        self.state = state
        unlocked = self.unlocked()
        self._show_gate(state, note)
        for index in LOCKED_TABS:
            self.tabs.setTabEnabled(index, unlocked)
            tip = self.tab_tips[index]
            self.tabs.setTabToolTip(index, tip if unlocked else f"Locked. {note or LOCKED}")
        self.tabs.setTabToolTip(OVERVIEW_TAB, self.tab_tips[OVERVIEW_TAB])
        activity_id = d.id if d is not None else None
        self.assessment_tab.show_state(services, activity_id, state, note or LOCKED)
        self.credit_tab.show_state(services, activity_id, state, note or LOCKED)
        return state

    def _show_gate(self, state, note: str) -> None:
        if self.ack_button is None or self.gate_label is None:
            return
        button, label, banner = self.ack_button, self.gate_label, self.availability_label
        if state is None:
            label.setText(note)
            button.setVisible(True)
            button.setEnabled(False)
        elif state.acknowledged_at is not None:
            label.setText(f"✓ You acknowledged the disclosures on {local_time(state.acknowledged_at)}. "
                          "The video, summaries, post-test and credit are open.")
            button.setVisible(False)
        elif not state.can_acknowledge:
            label.setText(f"{state.availability_reason} You can read the front matter, but not start the activity.")
            button.setVisible(True)
            button.setEnabled(False)
        else:
            label.setText("Read the disclosures above. The video, summaries, post-test and credit open when you "
                          f"press “{ACK_BUTTON}”; the time is recorded.")
            button.setVisible(True)
            button.setEnabled(True)
        if banner is not None:
            over = state is not None and not state.available
            if over:
                extra = (" You can review what you did; starting the post-test and claiming credit are closed."
                         if state.acknowledged_at is not None else " You can read it, but not start it.")
                banner.setText(f"⚠ {state.availability_reason}{extra}")
            banner.setVisible(over)

    def acknowledge(self) -> None:
        """Rule 1: record that the learner read the disclosures (off the GUI thread), then unlock."""
        services, d = self._services(), self.detail
        if services is None or d is None or self.ack_button is None:
            return
        self.ack_button.setEnabled(False)
        self.gate_label.setText("Recording your acknowledgement…")
        activity_id = d.id

        def done(_when) -> None:
            if self.detail is None or self.detail.id != activity_id:
                return
            self.refresh_learning()
            self._load_content()
            self.events.learning_changed.emit(self)

        def failed(exc: BaseException) -> None:
            if self.detail is None or self.detail.id != activity_id:
                return
            self.refresh_learning()
            if self.gate_label is not None:
                self.gate_label.setText(f"⚠ {locked_text(exc)}")

        run_write(self, lambda: services.acknowledge_disclosures(activity_id), done, failed)

    def _learning_step(self) -> None:
        self.refresh_learning()
        self.events.learning_changed.emit(self)

    # -------------------------------------------------------------- what others changed

    def _learner_changed(self, _source) -> None:
        if self.detail is not None:
            self.reload()  # another learner's records (or none)

    def _learning_changed(self, source) -> None:
        if source is not self and self.detail is not None:
            self.refresh_learning()  # e.g. a sync: claims accepted or refused

    def _catalog_changed(self, _source) -> None:
        """Redraw only if this activity's files changed (a video removed) while it is shown."""
        services, shown = self._services(), self.detail
        if shown is None or services is None or not self.isVisible():
            return
        detail = services.activity_detail(shown.id)
        if detail is None:
            self.back_requested.emit()  # withdrawn
        elif _files(detail) != _files(shown):
            self.show_activity(detail, self.profession)
            self.back_button.setFocus()

    def _tab_changed(self, index: int) -> None:
        if index in (ASSESSMENT_TAB, CREDIT_TAB) and self.detail is not None:
            self.refresh_learning()
            # What was just watched counts toward the gate: read again once it is stored.
            self.watch_tab.save_progress(then=self.refresh_learning)

    def open_at(self, ms: int) -> None:
        """Watch from this moment (e.g. a search hit's timestamp): switch to Watch and play."""
        if not self.unlocked():  # rule 1: the Overview (and its gate) first
            self.tabs.setCurrentIndex(OVERVIEW_TAB)
            return
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
        self.availability_label = plain_label("", page, name="Availability")
        self.availability_label.setStyleSheet("color: #c62828; font-weight: bold;")
        self.availability_label.setVisible(False)
        v.addWidget(self.availability_label)

        if d.description:
            v.addWidget(plain_label(d.description, page, name="Description"))
        if d.highlights:
            v.addWidget(section_heading("Highlights", page))
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
            v.addWidget(section_heading("Faculty", page))
            for name, credentials, role, bio in d.faculty:
                line = name + (f", {credentials}" if credentials else "") + (f" — {role}" if role else "")
                v.addWidget(plain_label(line, page, name=f"Faculty: {name}", tip=bio or line))

        v.addWidget(section_heading("Accreditation", page))
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

        v.addWidget(section_heading("Commercial support", page))
        v.addWidget(plain_label(d.commercial_support or "None declared.", page, name="Commercial support"))

        if d.objectives:
            v.addWidget(section_heading("Learning objectives", page))
            v.addWidget(self._objectives(d.objectives, page))

        v.addWidget(section_heading("Disclosures", page))
        v.addWidget(self._disclosures(d, page))
        if d.off_label_statement:
            v.addWidget(plain_label(d.off_label_statement, page, name="Off-label use statement"))
        v.addWidget(self._gate_box(page))

        v.addWidget(section_heading("Files", page))
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

    def _gate_box(self, page: QWidget) -> QGroupBox:
        """Rule 1: the acknowledgement that unlocks the content, right after the disclosures."""
        box = QGroupBox("Before you start", page)
        box.setAccessibleName("Disclosure acknowledgement")
        box.setToolTip("The content opens once you have read the disclosures")
        self.gate_label = plain_label("", box, name="Disclosure acknowledgement status")
        self.ack_button = QPushButton(ACK_BUTTON, box)
        self.ack_button.setAccessibleName(ACK_BUTTON)
        self.ack_button.setToolTip("Record that you have read every disclosure above (the time is kept); "
                                   "the video, summaries, post-test and credit then open")
        self.ack_button.clicked.connect(self.acknowledge)
        bv = QVBoxLayout(box)
        bv.addWidget(self.gate_label)
        row = QHBoxLayout()
        row.addWidget(self.ack_button)
        row.addStretch(1)
        bv.addLayout(row)
        return box

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


def _files(detail) -> tuple:
    return tuple((a.sha256, str(a.state)) for a in detail.assets)


def _count(objectives) -> int:
    return sum(1 + _count(o.children) for o in objectives)
