"""The Overview tab: an activity's front matter, and the disclosure gate (DOMAIN rule 1).

Description, highlights, dates and format, faculty, the accreditation statements (the
learner's own profession first, the others folded), commercial support, learning
objectives, disclosures and the off-label statement; then "Before you start" with the
acknowledgement button, and the activity's files with Download / Change video quality /
Remove video (the video's line says which form is on this computer and which others are
offered, with their sizes; the Download button says what it fetches). Rebuilt for each activity; the page tells it where the learner stands (`show_gate`). Every label is
plain text: nothing from the catalog is interpreted as HTML.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cmecore.rules.wording import credit_amount_text
from desktop.views.focus import order_tab_chain, pass_focus
from desktop.views.learning_text import ACK_BUTTON, download_refusal, local_time
from desktop.views.quality_choice import forms_text, switch_button
from desktop.views.text import format_date, format_minutes, human_bytes, media_text, profession_name
from desktop.views.widgets import plain_label, section_heading
from desktop.views.theme import set_tone

DOWNLOAD_TIP = "Fetch this activity's files for offline use"

if TYPE_CHECKING:  # plain dataclasses; the views never load the cache layer themselves
    from desktop.cache.library import ActivityDetail, ObjectiveInfo, StatementInfo


class Overview(QScrollArea):
    acknowledge_requested = Signal()  # "I have read the disclosures — start"
    download_requested = Signal(list)  # [activity id]
    remove_video_requested = Signal(str)  # activity id
    switch_quality_requested = Signal(str)  # activity id: "Change video quality…"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAccessibleName("Overview")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no invisible Tab stop; PageDown still scrolls
        self.statement_boxes: list[QGroupBox] = []
        self.disclosures_table: QTableWidget | None = None
        self.objectives_tree: QTreeWidget | None = None
        self.ack_button: QPushButton | None = None
        self.gate_label: QLabel | None = None
        self.availability_label: QLabel | None = None
        self.download_button: QPushButton | None = None
        self.switch_button: QPushButton | None = None
        self._missing = False  # some of the activity's files are not here
        self.forms: list = []  # the video's forms (VideoForm) shown, allowed ones, largest first
        self.hidden_forms: list = []  # forms the policy's maximum hides (Quality): the page sets them
        self._download_tip = DOWNLOAD_TIP  # what a Download fetches (the page says: `show_download_plan`)

    def show_activity(self, detail: ActivityDetail, profession: str | None, forms: list | None = None) -> None:
        """`forms`: the forms of its video this computer may fetch (DownloadsService.video_forms)."""
        old = self.takeWidget()
        if old is not None:
            old.deleteLater()
        self.forms = list(forms or [])
        content = self._build_overview(detail, profession)
        self.setWidget(content)
        # Tab goes on into this activity's controls, in reading order, where the Overview is.
        order_tab_chain(self, [c for c in content.findChildren(QWidget) if c.focusPolicy() & Qt.FocusPolicy.TabFocus])
        self.verticalScrollBar().setValue(0)

    def show_gate(self, state, note: str) -> None:
        if self.ack_button is None or self.gate_label is None:
            return  # no activity shown yet
        button, label, banner = self.ack_button, self.gate_label, self.availability_label
        self._show_download_refusal(download_refusal(state))
        if state is None:
            label.setText(note)
            button.setVisible(True)
            button.setEnabled(False)
        elif state.acknowledged_at is not None:
            label.setText(f"✓ You acknowledged the disclosures on {local_time(state.acknowledged_at)}. "
                          "The video, summaries, post-test and credit are open.")
            pass_focus(button, self.download_button, text=label)  # pressed: the next step, on this page
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


    def _show_download_refusal(self, reason: str | None) -> None:
        """Rule 3: the downloads refuse media of an activity that is over and that no one here
        started; the button says so instead of offering it."""
        button = self.download_button
        if button is None:
            return
        button.setEnabled(self._missing and reason is None)
        text = f"Not downloaded: {reason}" if reason else self._download_tip
        button.setToolTip(text)
        button.setAccessibleDescription(text if reason else "")

    def _build_overview(self, d: ActivityDetail, profession: str | None) -> QWidget:
        page = QWidget()
        page.setMaximumWidth(1000)
        v = QVBoxLayout(page)
        self.availability_label = plain_label("", page, name="Availability")
        set_tone(self.availability_label, "error")
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
            toggle.setAccessibleName(f"Show statements for other professions ({len(others)})")  # contains its text
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
            played = next((a for a in d.assets if a.kind == "video"), None)  # the forms are this video's
            for a in d.assets:
                title = a.title or a.kind.capitalize()
                text = f"{title} ({a.kind}, {a.media_type}, {human_bytes(a.size)}) — {media_text(a.state)}"
                if a is played and (self.forms or self.hidden_forms):
                    text = f"{title}: {forms_text(self.forms, self.hidden_forms)}"
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
        self.ack_button.clicked.connect(self.acknowledge_requested)
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
        self.download_button.setToolTip(DOWNLOAD_TIP)
        self._missing = bool(missing)
        self.download_button.setEnabled(self._missing)
        self.download_button.clicked.connect(lambda: self.download_requested.emit([d.id]))
        self.switch_button = switch_button(page, self.forms, lambda: self.switch_quality_requested.emit(d.id))
        self.remove_video_button = QPushButton("Remove downloaded video", page)
        self.remove_video_button.setAccessibleName("Remove downloaded video")
        self.remove_video_button.setToolTip("Delete the video file to free space; transcript, summaries and "
                                            "your progress stay")
        self.remove_video_button.setEnabled(
            any(a.kind == "video" and str(a.state) in ("present", "partial") for a in d.assets)
        )
        self.remove_video_button.clicked.connect(lambda: self.remove_video_requested.emit(d.id))
        row.addWidget(self.download_button)
        row.addWidget(self.switch_button)
        row.addWidget(self.remove_video_button)
        row.addStretch(1)
        return row

    def show_download_plan(self, plan: str, tip: str) -> None:
        """What a Download click fetches ("Small · 360p · 24.0 MB"; "" when the dialog asks)."""
        self._download_tip = tip
        if self.download_button is not None:
            self.download_button.setText(f"⬇ Download ({plan})" if plan else "⬇ Download")
            if self.download_button.isEnabled():
                self.download_button.setToolTip(tip)

    def _statement_box(self, s: StatementInfo, parent: QWidget, *, own: bool) -> QGroupBox:
        who = profession_name(s.profession)
        amount = s.contact_hours if s.contact_hours is not None else s.max_credits
        title = f"{'Your credit — ' if own else ''}{who}: {credit_amount_text(amount, s.credit_type)}"
        box = QGroupBox(title, parent)
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
        table.setTabKeyNavigation(False)  # Tab leaves the table (arrows move inside it)
        table.verticalHeader().setVisible(False)
        # Every word readable without sideways scrolling: the companies and the nature of
        # each relationship share the width left and wrap; rows grow to their text and the
        # table to its rows (the page scrolls, not the table).
        header = table.horizontalHeader()
        for col, mode in enumerate((QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.ResizeToContents,
                                    QHeaderView.ResizeMode.Stretch, QHeaderView.ResizeMode.Stretch,
                                    QHeaderView.ResizeMode.ResizeToContents)):
            header.setSectionResizeMode(col, mode)
        header.setStretchLastSection(False)
        table.setWordWrap(True)
        table.setTextElideMode(Qt.TextElideMode.ElideNone)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        for row, (person, role, company, nature, mitigated) in enumerate(d.disclosures):
            for col, value in enumerate((person, role, company, nature, "Yes" if mitigated else "No")):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                table.setItem(row, col, item)
        self.disclosures_table = table
        if not d.disclosures:
            table.setToolTip("No disclosures were listed for this activity")
        return table


def _count(objectives) -> int:
    return sum(1 + _count(o.children) for o in objectives)
