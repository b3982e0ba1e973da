"""The Assessment tab: the post-test (DOMAIN rule 4).

The pass mark and the attempts are shown first; then one question per page with a
progress indicator, Back/Next, and every answer saved as it is chosen (off the GUI
thread, in order). Submit shows the score, pass or fail, and for each question the
learner's answer, the right one and the rationale; Retake when the policy allows. Every
attempt stays listed. The grade here is provisional: the credit server grades the claim
again, and the tab says so when its grade differs.

Catalog text is shown literally (plain-text labels; "&" escaped on buttons).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.views.widgets import plain_label
from desktop.views.learning_text import LOCKED, attempts_text, local_time, locked_text, percent
from desktop.views.tasks import discard_writes, pending_writes, run_write


def confirm(parent: QWidget, title: str, text: str) -> bool:
    """Ask yes/no (tests replace this)."""
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def button_text(text: str) -> str:
    return text.replace("&", "&&")  # "&" on a button would be a mnemonic


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
        self.view = None  # AttemptView being answered
        self.index = 0
        self.answers: dict[str, list[str]] = {}
        self.result = None  # last AttemptResult shown
        self.option_buttons: list[tuple[str, QAbstractButton]] = []
        self._generation = 0  # bumped when the activity or learner changes: late outcomes are dropped

        self.pass_label = plain_label("", self, name="Pass mark", heading=True)
        self.attempts_label = plain_label("", self, name="Attempts")
        self.lock_label = plain_label("", self, name="Why the post-test is locked")
        self.server_notice = plain_label("", self, name="Server grade notice")
        self.server_notice.setStyleSheet("color: #b26a00; font-weight: bold;")

        self.stack = QStackedWidget(self)
        self.stack.setAccessibleName("Post-test")
        self._build_intro()
        self._build_question_page()
        self._build_result_page()

        self.attempts_table = QTableWidget(0, 5, self)
        self.attempts_table.setHorizontalHeaderLabels(("Attempt", "Started", "Submitted", "Score", "Result"))
        self.attempts_table.setAccessibleName("Previous attempts")
        self.attempts_table.setToolTip("Every attempt is kept (scores as graded on this computer)")
        self.attempts_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
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

    # -------------------------------------------------------------- build

    def _button(self, text: str, name: str, tip: str, slot, parent: QWidget) -> QPushButton:
        b = QPushButton(text, parent)
        b.setAccessibleName(name)
        b.setToolTip(tip)
        b.clicked.connect(slot)
        return b

    def _build_intro(self) -> None:
        page = QWidget()
        page.setAccessibleName("Post-test start")
        self.intro_label = plain_label("", page, name="About the post-test")
        self.start_button = self._button("Start the post-test", "Start the post-test",
                                         "Start (or resume) the post-test; your answers are kept as you choose them",
                                         self.start, page)
        v = QVBoxLayout(page)
        v.addWidget(self.intro_label)
        row = QHBoxLayout()
        row.addWidget(self.start_button)
        row.addStretch(1)
        v.addLayout(row)
        v.addStretch(1)
        self.intro_page = page
        self.stack.addWidget(page)

    def _build_question_page(self) -> None:
        page = QWidget()
        page.setAccessibleName("Question")
        self.progress_label = plain_label("", page, name="Question number", selectable=False)
        self.progress_bar = QProgressBar(page)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumHeight(8)
        self.progress_bar.setAccessibleName("Progress through the post-test")
        self.progress_bar.setToolTip("How far through the post-test you are")
        self.question_label = plain_label("", page, name="Question")
        font = self.question_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.question_label.setFont(font)
        self.kind_label = plain_label("", page, name="How to answer", selectable=False)
        self.options_box = QWidget(page)
        self.options_box.setAccessibleName("Answers")
        self.options_layout = QVBoxLayout(self.options_box)
        self.group: QButtonGroup | None = None
        self.save_note = plain_label("", page, name="Answer saving", selectable=False)
        self.back_button = self._button("← Back", "Previous question", "Go to the previous question", self.back, page)
        self.next_button = self._button("Next →", "Next question", "Go to the next question", self.next, page)
        self.submit_button = self._button("Submit answers", "Submit answers",
                                          "Submit this attempt for grading (you are asked first if some questions "
                                          "are unanswered)", self.submit, page)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.next_button)
        buttons.addStretch(1)
        buttons.addWidget(self.submit_button)
        v = QVBoxLayout(page)
        v.addWidget(self.progress_label)
        v.addWidget(self.progress_bar)
        v.addWidget(self.question_label)
        v.addWidget(self.kind_label)
        v.addWidget(self.options_box)
        v.addStretch(1)
        v.addWidget(self.save_note)
        v.addLayout(buttons)
        self.question_page = page
        self.stack.addWidget(page)

    def _build_result_page(self) -> None:
        page = QWidget()
        page.setAccessibleName("Post-test result")
        self.score_label = plain_label("", page, name="Score", heading=True)
        self.provisional_label = plain_label(
            "Graded on this computer. The credit server grades your answers again when your claim is sent; "
            "its grade is the one that counts.", page, name="About the grade")
        self.result_scroll = QScrollArea(page)
        self.result_scroll.setWidgetResizable(True)
        self.result_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.result_scroll.setAccessibleName("Answers and rationale")
        self.retake_button = self._button("Retake the post-test", "Retake the post-test",
                                          "Start a new attempt (every attempt is kept)", self.start, page)
        self.to_credit_button = self._button("Go to Evaluation & credit →", "Go to Evaluation and credit",
                                             "Evaluate the activity and claim your credit", self.go_to_credit.emit,
                                             page)
        self.to_credit_button.setText("Go to Evaluation && credit →")
        self.back_to_intro_button = self._button("Done", "Close the result", "Back to the post-test overview",
                                                 self._close_result, page)
        row = QHBoxLayout()
        row.addWidget(self.retake_button)
        row.addWidget(self.to_credit_button)
        row.addStretch(1)
        row.addWidget(self.back_to_intro_button)
        v = QVBoxLayout(page)
        v.addWidget(self.score_label)
        v.addWidget(self.provisional_label)
        v.addWidget(self.result_scroll, 1)
        v.addLayout(row)
        self.result_page = page
        self.stack.addWidget(page)

    # -------------------------------------------------------------- state

    def set_activity(self, services, activity_id: str | None) -> None:
        """Another activity (or learner): forget the attempt on screen."""
        self._generation += 1
        discard_writes(self)
        self.services, self.activity_id = services, activity_id
        self.view, self.result, self.answers, self.index = None, None, {}, 0
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
            self.attempts_label.setText(attempts_text(state.attempts_allowed, len(submitted)))
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
        on_question = self.stack.currentWidget() is self.question_page and self.view is not None
        if on_question and state.open_attempt_id != self.view.id:
            self.view = None
            on_question = False
        if self.stack.currentWidget() is self.result_page and self.result is not None:
            self._result_buttons()
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
        if state.has_assessment:
            lines.append(f"You need {state.passing_score}% or more to pass. One question per page; your answers "
                         "are saved as you choose them, so you can stop and come back.")
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
        self.retake_button.setEnabled(False)
        services, activity_id, gen = self.services, self.activity_id, self._generation
        run_write(self, lambda: services.start_attempt(activity_id),
                  lambda view: self._started(view, gen), lambda exc: self._failed(exc, gen))

    def _started(self, view, gen: int) -> None:
        if gen != self._generation:
            return
        self.view, self.result = view, None
        self.answers = {k: list(v) for k, v in view.answers.items()}
        self.index = max(0, min(view.current_question, len(view.questions) - 1))
        self.save_note.setText("")
        self.stack.setCurrentWidget(self.question_page)
        self._show_question()
        self.changed.emit()

    def _failed(self, exc: BaseException, gen: int) -> None:
        if gen != self._generation:
            return
        text = locked_text(exc)
        if self.stack.currentWidget() is self.question_page:
            self.save_note.setText(f"⚠ {text}")
        else:
            self.lock_label.setText(text)
            self.lock_label.setVisible(True)
        self.changed.emit()

    def _show_question(self) -> None:
        view = self.view
        q = view.questions[self.index]
        n = len(view.questions)
        self.progress_label.setText(f"Question {self.index + 1} of {n}")
        self.progress_label.setAccessibleName(f"Question {self.index + 1} of {n}")
        self.progress_bar.setRange(0, n)
        self.progress_bar.setValue(self.index + 1)
        self.question_label.setText(q.text)
        self.kind_label.setText("Choose one answer." if q.kind == "single" else "Choose every answer that applies.")
        for _oid, b in self.option_buttons:
            b.setParent(None)
            b.deleteLater()
        self.option_buttons = []
        if self.group is not None:
            self.group.deleteLater()
        self.group = QButtonGroup(self)
        self.group.setExclusive(q.kind == "single")
        chosen = set(self.answers.get(q.id, []))
        for i, (oid, text) in enumerate(q.options):
            b: QAbstractButton = QRadioButton(button_text(text)) if q.kind == "single" else QCheckBox(button_text(text))
            b.setParent(self.options_box)
            b.setAccessibleName(text)
            b.setToolTip("Choose this answer" if q.kind == "single" else "Tick every answer that applies")
            b.setChecked(oid in chosen)
            b.setProperty("option_id", oid)
            self.group.addButton(b, i)
            self.options_layout.addWidget(b)
            self.option_buttons.append((oid, b))
        self.group.buttonClicked.connect(lambda _b: self._chosen())
        self.back_button.setEnabled(self.index > 0)
        self.next_button.setEnabled(self.index < n - 1)
        self.submit_button.setDefault(self.index == n - 1)
        if self.option_buttons:
            self.option_buttons[0][1].setFocus()

    def _chosen(self) -> None:
        view, q = self.view, self.view.questions[self.index]
        chosen = [oid for oid, b in self.option_buttons if b.isChecked()]
        self.answers[q.id] = chosen
        services, index, gen = self.services, self.index, self._generation
        self.save_note.setText("Saving your answer…")

        def saved(_=None) -> None:
            if gen == self._generation:
                if not pending_writes(self):
                    self.save_note.setText("Your answers are saved.")
                self.answer_saved.emit(q.id)

        run_write(self, lambda: services.save_answer(view.id, q.id, chosen, index), saved,
                  lambda exc: self._failed(exc, gen))

    def back(self) -> None:
        if self.view is not None and self.index > 0:
            self.index -= 1
            self._show_question()

    def next(self) -> None:
        if self.view is not None and self.index < len(self.view.questions) - 1:
            self.index += 1
            self._show_question()

    def unanswered(self) -> list[int]:
        """1-based numbers of the questions with no answer yet."""
        return [i + 1 for i, q in enumerate(self.view.questions) if not self.answers.get(q.id)] if self.view else []

    def submit(self) -> None:
        if self.view is None:
            return
        missing = self.unanswered()
        if missing:
            which = ", ".join(str(i) for i in missing)
            if not confirm(self, "Submit the post-test?",
                           f"Question{'s' if len(missing) > 1 else ''} {which} {'have' if len(missing) > 1 else 'has'} "
                           "no answer. Unanswered questions count as wrong. Submit anyway?"):
                return
        view, services, gen = self.view, self.services, self._generation
        self.submit_button.setEnabled(False)
        self.save_note.setText("Grading…")

        def done(result) -> None:
            self.submit_button.setEnabled(True)
            if gen != self._generation:
                return
            self._show_result(result, view)
            self.changed.emit()
            self.submitted.emit(result)

        def failed(exc) -> None:
            self.submit_button.setEnabled(True)
            self._failed(exc, gen)

        run_write(self, lambda: services.submit_attempt(view.id), done, failed)

    # -------------------------------------------------------------- result

    def _show_result(self, result, view) -> None:
        self.view, self.result = None, result
        verdict = "Passed" if result.passed else f"Not passed (pass mark {result.passing_score}%)"
        self.score_label.setText(f"Attempt {result.number}: {result.score:g}% — {verdict}")
        self.score_label.setAccessibleName(f"Score: {result.score:g}%, {verdict}")
        texts = {q.id: dict(q.options) for q in view.questions} if view else {}
        body = QWidget()
        v = QVBoxLayout(body)
        for i, q in enumerate(result.questions, 1):
            options = texts.get(q.question_id, {})
            box = QGroupBox(f"Question {i}: {'✓ right' if q.right else '✗ wrong'}", body)
            box.setAccessibleName(f"Question {i} result")
            box.setToolTip("Your answer, the right answer and why")
            bv = QVBoxLayout(box)
            bv.addWidget(plain_label(q.text, box, name=f"Question {i}"))
            yours = "; ".join(options.get(o, o) for o in q.chosen) or "(no answer)"
            right = "; ".join(options.get(o, o) for o in q.correct)
            bv.addWidget(plain_label(f"Your answer: {yours}", box, name=f"Your answer to question {i}"))
            bv.addWidget(plain_label(f"Right answer: {right}", box, name=f"Right answer to question {i}"))
            if q.rationale:
                bv.addWidget(plain_label(f"Why: {q.rationale}", box, name=f"Rationale for question {i}"))
            v.addWidget(box)
        v.addStretch(1)
        old = self.result_scroll.takeWidget()
        if old is not None:
            old.deleteLater()
        self.result_scroll.setWidget(body)
        self.result_widget = body
        self.stack.setCurrentWidget(self.result_page)
        self._result_buttons()

    def _result_buttons(self) -> None:
        state, result = self.state, self.result
        can_retake = bool(state and state.assessment_unlocked and not state.passed and not state.open_attempt_id)
        self.retake_button.setVisible(not result.passed and can_retake)
        self.retake_button.setEnabled(can_retake)
        self.to_credit_button.setVisible(bool(state and state.passed))

    def _close_result(self) -> None:
        self.result = None
        self.stack.setCurrentWidget(self.intro_page)
