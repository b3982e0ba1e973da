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
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTabWidget, QVBoxLayout, QWidget

from desktop.errors import CmeError
from desktop.views.activity.assessment_tab import AssessmentTab
from desktop.views.activity.credit_tab import CreditTab
from desktop.views.activity.overview import Overview
from desktop.views.activity.summaries_tab import SummariesTab
from desktop.views.activity.time_keeper import TimeKeeper
from desktop.views.activity.watch_tab import WatchTab
from desktop.views.events import AppEvents
from desktop.views.learning_text import LOCKED, locked_text
from desktop.views.quality_choice import describe_download
from desktop.views.tasks import run_write
from desktop.views.widgets import plain_label

if TYPE_CHECKING:  # plain dataclasses; the views never load the cache layer themselves
    from desktop.cache.library import ActivityDetail


OVERVIEW_TAB, WATCH_TAB, SUMMARIES_TAB, ASSESSMENT_TAB, CREDIT_TAB = range(5)
LOCKED_TABS = (WATCH_TAB, SUMMARIES_TAB, ASSESSMENT_TAB, CREDIT_TAB)


class ActivityPage(QWidget):
    back_requested = Signal()
    download_requested = Signal(list)  # [activity id] (Overview's and Watch's Download buttons)
    remove_video_requested = Signal(str)  # activity id (Overview's Remove video button)
    switch_quality_requested = Signal(str)  # activity id (Overview's Change video quality… button)

    def __init__(self, parent=None, services=None, *, events: AppEvents | None = None):
        super().__init__(parent)
        self.services = services
        # What this page records (acknowledgement, attempts, evaluation, claims) is announced
        # here as learning_changed; it redraws for other sources' changes.
        self.events = events if events is not None else AppEvents(self)
        self.events.learner_changed.connect(self._learner_changed)
        self.events.learning_changed.connect(self._learning_changed)
        self.events.catalog_changed.connect(self._catalog_changed)
        self.events.downloads_changed.connect(self._downloads_changed)
        self.detail: ActivityDetail | None = None
        self.profession: str | None = None
        self.state = None  # the learner's LearningState for this activity (None: no one signed in)

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
        self.tabs.tabBar().setAccessibleName("Activity sections")
        self.tabs.setToolTip("Overview, Watch, Summaries, Assessment, Evaluation & credit")
        self.overview = Overview(self)
        self.overview.acknowledge_requested.connect(self.acknowledge)
        self.overview.download_requested.connect(self.download_requested)
        self.overview.remove_video_requested.connect(self.remove_video_requested)
        self.overview.switch_quality_requested.connect(self.switch_quality_requested)
        self.tabs.addTab(self.overview, "Overview")
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
        self.watch_tab.finished.connect(self._learning_step)  # watched to the end: the gate may open
        self.watch_tab.continue_requested.connect(lambda: self.tabs.setCurrentIndex(ASSESSMENT_TAB))
        self.assessment_tab.changed.connect(self._learning_step)
        self.assessment_tab.go_to_credit.connect(lambda: self.tabs.setCurrentIndex(CREDIT_TAB))
        self.credit_tab.changed.connect(self._learning_step)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.time_keeper = TimeKeeper(self)  # the time really spent, for the claim (rule 6)

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
        self.tabs.setCurrentIndex(0)
        services = self._services()
        self.overview.hidden_forms = services.downloads.hidden_video_forms(detail.id) if services else []
        self.overview.show_activity(detail, profession, services.downloads.video_forms(detail.id) if services else [])
        self.show_download_plan()
        self.assessment_tab.set_activity(services, detail.id)  # a fresh start (maybe another learner)
        self.credit_tab.set_activity(services, detail.id)
        self.refresh_learning()
        self._load_content(start_ms if self.unlocked() else None)
        if start_ms is not None:
            self.open_at(start_ms)

    def show_download_plan(self) -> None:
        """What a Download fetches now (the preferred form, with its size), on its buttons."""
        if self.detail is not None:
            plan, tip = describe_download(self._services(), [self.detail.id])
            self.overview.show_download_plan(plan, tip)
            self.watch_tab.video_column.show_download_plan(plan, tip)

    def _load_content(self, start_ms: int | None = None) -> None:
        """Video, transcript and summaries; each shows a locked message instead while rule 1 holds."""
        services, detail = self._services(), self.detail
        self.watch_tab.show_activity(services, detail, start_ms)
        # read when its tab is first shown; locked (rule 1) as the Watch tab found it
        self.summaries_tab.load(services, detail, self.watch_tab.locked_reason)

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
        self.overview.show_gate(state, note)
        for index in LOCKED_TABS:
            self.tabs.setTabEnabled(index, unlocked)
            tip = self.tab_tips[index]
            self.tabs.setTabToolTip(index, tip if unlocked else f"Locked. {note or LOCKED}")
        self.tabs.setTabToolTip(OVERVIEW_TAB, self.tab_tips[OVERVIEW_TAB])
        activity_id = d.id if d is not None else None
        self.watch_tab.show_learning(state)
        self.assessment_tab.show_state(services, activity_id, state, note or LOCKED)
        self.credit_tab.show_state(services, activity_id, state, note or LOCKED)
        return state

    def acknowledge(self) -> None:
        """Rule 1: record that the learner read the disclosures (off the GUI thread), then unlock."""
        services, d = self._services(), self.detail
        if services is None or d is None or self.overview.ack_button is None:
            return
        self.overview.ack_button.setEnabled(False)
        self.overview.gate_label.setText("Recording your acknowledgement…")
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
            if self.overview.gate_label is not None:
                self.overview.gate_label.setText(f"⚠ {locked_text(exc)}")

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

    def _downloads_changed(self, _source, activities: frozenset[str] | None = None) -> None:
        """A download or a switch of form moved on: if it was this activity's (`activities`:
        those whose jobs changed; None: any may have), the Overview's Files say which form is
        here now (and which is coming), in place; the Watch tab, unless it is playing, takes
        the file the services give now (a switch done: the old form is gone)."""
        services, shown = self._services(), self.detail
        if shown is None or services is None or (activities is not None and shown.id not in activities):
            return
        forms = services.downloads.video_forms(shown.id)
        if forms == self.overview.forms:
            return
        detail = services.activity_detail(shown.id)
        if detail is None:
            return
        self.detail = detail
        where = self.overview.verticalScrollBar().value()
        self.overview.show_activity(detail, self.profession, forms)
        self.show_download_plan()
        self.refresh_learning()  # the gate, and what the downloads would refuse, on the new buttons
        self.overview.verticalScrollBar().setValue(where)
        tab = self.watch_tab
        playing = tab.player is not None and tab.player.is_playing()
        if self.unlocked() and not playing and tab.form_changed():
            tab.show_activity(services, detail)

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


def _files(detail) -> tuple:
    return tuple((a.sha256, str(a.state)) for a in detail.assets)
