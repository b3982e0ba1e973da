"""The Assessment tab: the post-test (DOMAIN rule 4).

The pass mark and the attempts are shown first; then one question per page
(QuestionPage) with every answer saved as it is chosen (off the GUI thread, in order);
Submit shows the result (ResultPage), with Retake when the policy allows. Every attempt
stays listed. The grade here is provisional: the credit server grades the claim again,
and the tab says so when its grade differs. This tab decides what is shown and does the
writes (start, answer, submit) on the app's one writer; its pages show and ask.

Catalog text is shown literally (plain-text labels).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.views.activity.question_page import QuestionPage
from desktop.views.activity.result_page import ResultPage
from desktop.views.focus import focus_text, holds_focus
from desktop.views.accessibility import announce
from desktop.views.learning_text import LOCKED, attempts_text, local_time, locked_text, percent
from desktop.views.tasks import discard_writes, pending_writes, run_write
from desktop.views.widgets import plain_label, push_button
from desktop.views.theme import set_tone


class AssessmentTab(QWidget):
    changed = Signal()  # an attempt was started or submitted: the page re-reads the learning state
    go_to_credit = Signal()
    answer_saved = Signal(str)  # question id (after it reached the cache)
    submitted = Signal(object)  # AttemptResult

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAccessibleName("Assessment")
        self.services = None
        self.activity_id: str | None = None
        self.state = None
        self._generation = 0  # bumped when the activity or learner changes: late outcomes are dropped

        self.pass_label = plain_label("", self, name="Pass mark", heading=True)
        self.attempts_label = plain_label("", self, name="Attempts")
        self.lock_label = plain_label("", self, name="Why the post-test is locked")
        self.server_notice = plain_label("", self, name="Server grade notice")
        set_tone(self.server_notice, "warning")

        self.stack = QStackedWidget(self)
        self.stack.setAccessibleName("Post-test")
        self.intro_page = self._intro_page()
        self.question_page = QuestionPage()
        self.question_page.answer_chosen.connect(self._save_answer)
        self.question_page.submit_requested.connect(self._submit)
        self.result_page = ResultPage()
        self.result_page.retake_requested.connect(self.start)
        self.result_page.go_to_credit.connect(self.go_to_credit)
        self.result_page.closed.connect(lambda: self.stack.setCurrentWidget(self.intro_page))
        for page in (self.intro_page, self.question_page, self.result_page):
            self.stack.addWidget(page)

        self.attempts_table = QTableWidget(0, 5, self)
        self.attempts_table.setHorizontalHeaderLabels(("Attempt", "Started", "Submitted", "Score", "Result"))
        self.attempts_table.setAccessibleName("Previous attempts")
        self.attempts_table.setToolTip("Every attempt is kept (scores as graded on this computer)")
        self.attempts_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.attempts_table.setTabKeyNavigation(False)  # Tab leaves the table (arrows move inside it)
        self.attempts_table.verticalHeader().setVisible(False)
        self.attempts_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.attempts_table.horizontalHeader().setStretchLastSection(True)
        self.attempts_table.setMaximumHeight(150)

        layout = QVBoxLayout(self)
        layout.addWidget(self.pass_label)
        layout.addWidget(self.attempts_label)
        layout.addWidget(self.lock_label)
        layout.addWidget(self.server_notice)
        layout.addWidget(self.stack, 1)
        layout.addWidget(plain_label("Your attempts", self, name="Your attempts", heading=True, selectable=False))
        layout.addWidget(self.attempts_table)
        self.show_state(None, None, None, "")

    def _intro_page(self) -> QWidget:
        page = QWidget()
        page.setAccessibleName("Post-test start")
        self.intro_label = plain_label("", page, name="About the post-test")
        self.start_button = push_button(page, "Start the post-test",
                                        "Start (or resume) the post-test; your answers are kept as you choose them",
                                        self.start)
        v = QVBoxLayout(page)
        v.addWidget(self.intro_label)
        row = QHBoxLayout()
        row.addWidget(self.start_button)
        row.addStretch(1)
        v.addLayout(row)
        v.addStretch(1)
        return page

    # -------------------------------------------------------------- state

    def set_activity(self, services, activity_id: str | None) -> None:
        """Another activity (or learner): forget the attempt on screen."""
        self._generation += 1
        discard_writes(self)
        self.services, self.activity_id = services, activity_id
        self.question_page.close()
        self.result_page.result = None
        self.stack.setCurrentWidget(self.intro_page)

    def show_state(self, services, activity_id: str | None, state, note: str = "") -> None:
        """Show where the learner stands (a LearningState, or None with `note` saying why)."""
        if activity_id != self.activity_id or services is not self.services:
            self.set_activity(services, activity_id)
        self.state = state
        if state is None:
            self.pass_label.setText("")
            self.attempts_label.setText("")
            self.lock_label.setText(note)
            self.lock_label.setVisible(bool(note))
            self.server_notice.setVisible(False)
            self.intro_label.setText("")
            self.start_button.setEnabled(False)
            self._fill_attempts([])
            self.stack.setCurrentWidget(self.intro_page)
            return
        submitted = [a for a in state.attempts if a.submitted_at is not None]
        if not state.has_assessment:
            self.pass_label.setText("This activity has no post-test.")
            self.attempts_label.setText("")
        else:
            self.pass_label.setText(f"Pass mark: {state.passing_score}%")
            # Once passed there is no limit to tell (the attempts are listed below).
            self.attempts_label.setText("" if state.passed else attempts_text(state.attempts_allowed, len(submitted)))
        reason = self._lock_reason(state)
        self.lock_label.setText(reason)
        self.lock_label.setVisible(bool(reason))
        c = state.completion
        if state.server_grade_differs and c is not None:
            verdict = "passed" if c.passed else "not passed"
            score = f" ({c.server_score:g}%)" if c.server_score is not None else ""
            self.server_notice.setText(
                f"The credit server graded your answers differently from this computer: {verdict}{score}. "
                "The server's grade is the one that counts.")
            self.server_notice.setVisible(True)
        else:
            self.server_notice.setVisible(False)
        self._fill_attempts(state.attempts)
        self._fill_intro(state, submitted)
        answering = self.question_page.view
        on_question = self.stack.currentWidget() is self.question_page and answering is not None
        if on_question and state.open_attempt_id != answering.id:
            self.question_page.close()  # submitted or dropped elsewhere
            on_question = False
        if self.stack.currentWidget() is self.result_page and self.result_page.result is not None:
            self.result_page.show_next_steps(state)
        elif not on_question:
            self.stack.setCurrentWidget(self.intro_page)

    def _lock_reason(self, state) -> str:
        if state.assessment_unlocked or not state.has_assessment or state.passed:
            return ""
        if state.acknowledged_at is None:
            return LOCKED
        if state.available and state.watched_share + 1e-9 < state.min_watched_share:
            return (f"Watch at least {percent(state.min_watched_share)} of the video "
                    f"(you have watched {percent(state.watched_share)}).")
        return state.assessment_reason

    def _fill_intro(self, state, submitted) -> None:
        lines = []
        if state.has_assessment and not state.passed:  # the pass mark is the heading above
            lines.append("One question per page; your answers are saved as you choose them, so you can stop and "
                         "come back.")
        if state.passed:
            best = next((a for a in submitted if a.local_passed), None)
            lines.append(f"You passed on attempt {best.number} with {best.local_score:g}%." if best else
                         "You have passed the post-test.")
        self.intro_label.setText("\n\n".join(lines))
        if state.open_attempt_id:
            open_attempt = next(a for a in state.attempts if a.id == state.open_attempt_id)
            text = f"Resume attempt {open_attempt.number}"
        elif not submitted:
            text = "Start the post-test"
        else:
            text = f"Retake the post-test (attempt {len(state.attempts) + 1})"
        self.start_button.setText(text)
        self.start_button.setAccessibleName(text)
        self.start_button.setVisible(not state.passed or bool(state.open_attempt_id))
        if state.assessment_unlocked and not self.start_button.isEnabled() and self.isVisible():
            announce(self, "The post-test is unlocked.")
        self.start_button.setEnabled(state.assessment_unlocked)

    def _fill_attempts(self, attempts) -> None:
        t = self.attempts_table
        t.setRowCount(len(attempts))
        for row, a in enumerate(reversed(attempts)):  # newest first
            if a.submitted_at is None:
                result = "In progress"
            else:
                result = "Passed" if a.local_passed else "Not passed"
            score = f"{a.local_score:g}%" if a.local_score is not None and a.submitted_at else "—"
            values = (str(a.number), local_time(a.started_at), local_time(a.submitted_at), score, result)
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                t.setItem(row, col, item)

    # -------------------------------------------------------------- taking the test

    def start(self) -> None:
        if self.services is None or self.activity_id is None:
            return
        self.start_button.setEnabled(False)
        self.result_page.retake_button.setEnabled(False)
        services, activity_id, gen = self.services, self.activity_id, self._generation
        run_write(self, lambda: services.start_attempt(activity_id),
                  lambda view: self._started(view, gen), lambda exc: self._failed(exc, gen))

    def _started(self, view, gen: int) -> None:
        if gen != self._generation:
            return
        self.result_page.result = None
        self.stack.setCurrentWidget(self.question_page)
        self.question_page.open(view)
        self.changed.emit()

    def _failed(self, exc: BaseException, gen: int) -> None:
        if gen != self._generation:
            return
        text = locked_text(exc)
        if self.stack.currentWidget() is self.question_page:
            self.question_page.save_note.setText(f"⚠ {text}")
        else:
            self.lock_label.setText(text)
            self.lock_label.setVisible(True)
        self.changed.emit()

    def _save_answer(self, question_id: str, chosen: list[str], index: int) -> None:
        page = self.question_page
        view, services, gen = page.view, self.services, self._generation
        page.save_note.setText("Saving your answer…")

        def saved(_=None) -> None:
            if gen == self._generation:
                if not pending_writes(self):
                    page.save_note.setText("Your answers are saved.")
                self.answer_saved.emit(question_id)

        run_write(self, lambda: services.save_answer(view.id, question_id, chosen, index), saved,
                  lambda exc: self._failed(exc, gen))

    def _submit(self) -> None:
        page = self.question_page
        view, services, gen = page.view, self.services, self._generation
        page.save_note.setText("Grading…")
        keep_focus = holds_focus(page)
        if keep_focus:
            focus_text(page.save_note, after=page.submit_button)  # until the result shows (not the status bar)
        page.submit_button.setEnabled(False)

        def done(result) -> None:
            page.submit_button.setEnabled(True)
            if gen != self._generation:
                return
            page.close()
            self.result_page.show_result(result, view)
            self.stack.setCurrentWidget(self.result_page)
            self.result_page.show_next_steps(self.state)
            self.changed.emit()  # the page re-reads the state: the result's next steps follow it
            if keep_focus:
                self.result_page.focus_next_step()
            self.submitted.emit(result)

        def failed(exc) -> None:
            page.submit_button.setEnabled(True)
            self._failed(exc, gen)

        run_write(self, lambda: services.submit_attempt(view.id), done, failed)
