"""The evaluation (DOMAIN rule 5) on the Evaluation & credit tab.

The form is built from the activity's questions (ratings 1..scale, free text, up to
three commitments to change, an optional reminder), saved as typed (debounced, on the
app's writer, in order) and restored when the tab opens again. Submitting finishes it;
it is sent with the claim.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.views.focus import focus_text, holds_focus
from desktop.views.learning_text import local_time, locked_text
from desktop.views.tasks import discard_writes, run_write
from desktop.views.widgets import line_edit, plain_label

SAVE_DELAY_MS = 700
SUBMIT_TIP = "Finish the evaluation (required questions must be answered); it is sent with your claim"
MAX_COMMITMENTS = 3


class EvaluationBox(QGroupBox):
    submitted = Signal()  # the evaluation was finished: the page re-reads the learning state
    draft_saved = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Evaluation", parent)
        self.setAccessibleName("Evaluation")
        self.setToolTip("Your evaluation of this activity (tied to you, sent with your claim)")
        self.services = None
        self.activity_id: str | None = None
        self.questions: list = []
        self.draft = None  # the EvaluationDraft as last saved or restored
        self.rating_boxes: dict[str, QComboBox] = {}
        self.text_edits: dict[str, QPlainTextEdit] = {}
        self.commitment_edits: list[QLineEdit] = []
        self.reminder_check: QCheckBox | None = None
        self.reminder_spin: QSpinBox | None = None
        self._loading = False
        self._gated = False  # the note says why the evaluation is not open yet
        self._generation = 0  # bumped per activity or learner: late outcomes are dropped
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save_draft)

        self.eval_form_holder = QVBoxLayout()
        self.eval_note = plain_label("", self, name="Evaluation status")
        self.eval_submit = QPushButton("Submit evaluation", self)
        self.eval_submit.setAccessibleName("Submit evaluation")
        self.eval_submit.setToolTip(SUBMIT_TIP)
        self.eval_submit.clicked.connect(self.submit)
        ev = QVBoxLayout(self)
        ev.addLayout(self.eval_form_holder)
        row = QHBoxLayout()
        row.addWidget(self.eval_submit)
        row.addWidget(self.eval_note, 1)
        ev.addLayout(row)
        self.eval_form: QWidget | None = None

    def set_activity(self, services, activity_id: str | None) -> None:
        """Another activity or learner: rebuild the form and restore what was saved."""
        self._generation += 1
        self._save_timer.stop()
        discard_writes(self)
        self.services, self.activity_id = services, activity_id
        self.questions = []
        if services is not None and activity_id is not None:
            try:
                self.questions = services.evaluation_questions(activity_id)
            except Exception:  # not signed in, activity gone: the form stays empty
                self.questions = []
        self._build_form()
        self._restore()

    def show_state(self, state, *, sent: bool) -> None:
        """Where the learner stands (a LearningState); `sent`: a claim is waiting or accepted."""
        self.setVisible(state.has_evaluation and state.acknowledged_at is not None)
        editable = not state.evaluation_done and not sent and state.evaluation_open
        if self.eval_form is not None:
            self.eval_form.setEnabled(editable)
        self.eval_submit.setVisible(editable or not state.evaluation_open)
        self.eval_submit.setEnabled(editable)
        self.eval_submit.setToolTip(SUBMIT_TIP if state.evaluation_open else state.evaluation_reason)
        if state.evaluation_done and (self.draft is None or self.draft.submitted_at is None):
            self._restore()  # submitted elsewhere (another window, the CLI): show what was sent
        if state.evaluation_done:
            when = local_time(self.draft.submitted_at) if self.draft is not None else ""
            self.eval_note.setText(f"Evaluation submitted{' on ' + when if when and when != '—' else ''}.")
        elif not state.evaluation_open:
            self.eval_note.setText(state.evaluation_reason)  # rule: after the post-test (cmecore.rules.evaluation)
        elif self._gated:
            self.eval_note.setText("")  # just opened
        self._gated = not state.evaluation_open

    def _build_form(self) -> None:
        if self.eval_form is not None:
            self.eval_form.setParent(None)
            self.eval_form.deleteLater()
        self.rating_boxes, self.text_edits, self.commitment_edits = {}, {}, []
        self.reminder_check = self.reminder_spin = None
        form = QWidget(self)
        v = QVBoxLayout(form)
        v.setContentsMargins(0, 0, 0, 0)
        for i, q in enumerate(self.questions, 1):
            label = plain_label(f"{i}. {q.text}" + (" (required)" if q.required else ""), form,
                                name=f"Evaluation question {i}")
            v.addWidget(label)
            if q.kind == "rating":
                box = QComboBox(form)
                box.addItem("Choose a rating…", None)
                for n in range(1, q.scale + 1):
                    words = " — lowest" if n == 1 else " — highest" if n == q.scale else ""
                    box.addItem(f"{n}{words}", n)
                box.setAccessibleName(f"Rating for question {i}")
                box.setToolTip(f"Rate from 1 (lowest) to {q.scale} (highest)")
                box.view().setAccessibleName(f"Ratings for question {i}")
                box.view().setToolTip(f"Ratings from 1 to {q.scale}")
                box.currentIndexChanged.connect(self._edited)
                box.setMaximumWidth(220)
                self.rating_boxes[q.id] = box
                v.addWidget(box)
            elif q.kind == "text":
                edit = QPlainTextEdit(form)
                edit.setAccessibleName(f"Answer to question {i}")
                edit.setToolTip("Your answer (saved as you type)")
                edit.setMaximumHeight(80)
                edit.setTabChangesFocus(True)  # Tab goes on to the next control (no tab characters here)
                edit.textChanged.connect(self._edited)
                self.text_edits[q.id] = edit
                v.addWidget(edit)
            else:  # commitment to change: up to three statements, an optional reminder
                for n in range(1, MAX_COMMITMENTS + 1):
                    edit = line_edit(form, f"Commitment to change {n}",
                                     "Something you will do differently in your practice (up to three)",
                                     placeholder=f"Commitment to change {n}" + (" (optional)" if n > 1 else ""))
                    edit.setMaxLength(2000)
                    edit.textChanged.connect(self._edited)
                    self.commitment_edits.append(edit)
                    v.addWidget(edit)
                row = QHBoxLayout()
                self.reminder_check = QCheckBox("Remind me about my commitments in", form)
                self.reminder_check.setAccessibleName("Remind me about my commitments in")  # its visible words
                self.reminder_check.setToolTip("A notification on this computer that many weeks after you submit "
                                               "(or at the app's next start after), and your commitments shown on "
                                               "the activity until you mark the reminder done")
                self.reminder_check.toggled.connect(self._edited)
                self.reminder_spin = QSpinBox(form)
                self.reminder_spin.setRange(1, 52)
                self.reminder_spin.setValue(6)
                self.reminder_spin.setSuffix(" weeks")
                self.reminder_spin.setAccessibleName("Reminder in weeks")
                self.reminder_spin.setToolTip("How many weeks from now (1 to 52)")
                self.reminder_spin.valueChanged.connect(self._edited)
                row.addWidget(self.reminder_check)
                row.addWidget(self.reminder_spin)
                row.addStretch(1)
                v.addLayout(row)
        if not self.questions:
            v.addWidget(plain_label("This activity has no evaluation.", form, name="No evaluation"))
        self.eval_form = form
        self.eval_form_holder.addWidget(form)


    def _restore(self) -> None:
        draft = None
        if self.services is not None and self.activity_id is not None and self.questions:
            try:
                draft = self.services.evaluation(self.activity_id)
            except Exception:
                draft = None
        self._loading = True
        try:
            if draft is not None:
                for qid, box in self.rating_boxes.items():
                    value = draft.ratings.get(qid)
                    box.setCurrentIndex(box.findData(value) if value is not None else 0)
                for qid, edit in self.text_edits.items():
                    edit.setPlainText(draft.texts.get(qid, ""))
                for i, edit in enumerate(self.commitment_edits):
                    edit.setText(draft.commitments[i] if i < len(draft.commitments) else "")
                if self.reminder_check is not None:
                    self.reminder_check.setChecked(draft.reminder_weeks is not None)
                    if draft.reminder_weeks:
                        self.reminder_spin.setValue(draft.reminder_weeks)
        finally:
            self._loading = False
        self.draft = draft


    def responses(self) -> tuple[dict, dict, list, int | None]:
        ratings = {qid: box.currentData() for qid, box in self.rating_boxes.items() if box.currentData() is not None}
        texts = {qid: e.toPlainText() for qid, e in self.text_edits.items() if e.toPlainText().strip()}
        commitments = [e.text() for e in self.commitment_edits if e.text().strip()]
        weeks = self.reminder_spin.value() if self.reminder_check is not None and self.reminder_check.isChecked() \
            else None
        return ratings, texts, commitments, weeks


    def _edited(self, *_args) -> None:
        if self._loading:
            return
        self.eval_note.setText("")  # nothing to say until it is saved ("Draft saved.")
        self._save_timer.start()


    def save_draft(self) -> None:
        """Save what is typed so far (off the GUI thread)."""
        self._save_timer.stop()
        if self.services is None or self.activity_id is None or not self.questions:
            return
        services, activity_id, gen = self.services, self.activity_id, self._generation
        ratings, texts, commitments, weeks = self.responses()

        def done(draft) -> None:
            if gen == self._generation:
                self.draft = draft
                self.eval_note.setText("Draft saved.")
                self.draft_saved.emit()

        run_write(self, lambda: services.save_evaluation(activity_id, ratings, texts, commitments, weeks),
                  done, lambda exc: self._eval_failed(exc, gen))


    def submit(self) -> None:
        if self.services is None or self.activity_id is None:
            return
        self._save_timer.stop()
        services, activity_id, gen = self.services, self.activity_id, self._generation
        ratings, texts, commitments, weeks = self.responses()
        self.eval_note.setText("Submitting your evaluation…")
        if holds_focus(self.eval_submit):
            focus_text(self.eval_note, after=self.eval_submit)  # the result is said here; Tab goes on to the claim
        self.eval_submit.setEnabled(False)

        def done(draft) -> None:
            if gen == self._generation:
                self.draft = draft
                self.eval_note.setText("Evaluation submitted. Thank you.")
                self.submitted.emit()

        def failed(exc) -> None:
            self.eval_submit.setEnabled(True)
            self._eval_failed(exc, gen)

        run_write(self, lambda: services.save_evaluation(activity_id, ratings, texts, commitments, weeks, submit=True),
                  done, failed)

    def _eval_failed(self, exc: BaseException, gen: int) -> None:
        if gen == self._generation:
            self.eval_note.setText(f"⚠ {locked_text(exc)}")

