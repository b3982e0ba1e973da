"""The post-test's result page: the score, pass or fail, and for each question the
learner's answer, the right one and the rationale (DOMAIN rule 4).

The grade is provisional (the credit server grades the claim again) and the page says so.
Retake is offered when the rules allow another attempt; once passed, the way on is the
Evaluation & credit tab. Catalog text is shown literally (plain-text labels).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QGroupBox, QHBoxLayout, QScrollArea, QVBoxLayout, QWidget

from desktop.views.focus import KEYBOARD, can_take_focus
from desktop.views.widgets import plain_label, push_button


class ResultPage(QWidget):
    retake_requested = Signal()
    go_to_credit = Signal()
    closed = Signal()  # Done: back to the post-test overview

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAccessibleName("Post-test result")
        self.result = None  # the AttemptResult shown
        self.body: QWidget | None = None  # one box per question

        self.score_label = plain_label("", self, name="Score", heading=True)
        self.provisional_label = plain_label(
            "Graded on this computer. The credit server grades your answers again when your claim is sent; "
            "its grade is the one that counts.", self, name="About the grade")
        self.result_scroll = QScrollArea(self)
        self.result_scroll.setWidgetResizable(True)
        self.result_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.result_scroll.setAccessibleName("Answers and rationale")
        self.retake_button = push_button(self, "Retake the post-test", "Start a new attempt (every attempt is kept)",
                                         self.retake_requested.emit)
        self.to_credit_button = push_button(self, "Go to Evaluation && credit →",
                                            "Evaluate the activity and claim your credit", self.go_to_credit.emit,
                                            name="Go to Evaluation and credit")
        self.back_to_intro_button = push_button(self, "Done", "Back to the post-test overview", self._close,
                                                name="Close the result")
        row = QHBoxLayout()
        row.addWidget(self.retake_button)
        row.addWidget(self.to_credit_button)
        row.addStretch(1)
        row.addWidget(self.back_to_intro_button)
        v = QVBoxLayout(self)
        v.addWidget(self.score_label)
        v.addWidget(self.provisional_label)
        v.addWidget(self.result_scroll, 1)
        v.addLayout(row)

    def show_result(self, result, view) -> None:
        """Show an AttemptResult; `view` (the AttemptView answered) gives the options' words."""
        self.result = result
        verdict = "Passed" if result.passed else f"Not passed (pass mark {result.passing_score}%)"
        self.score_label.setText(f"Attempt {result.number}: {result.score:g}% — {verdict}")
        self.score_label.setAccessibleDescription(f"Score: {result.score:g}%, {verdict}")
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
        self.body = body

    def show_next_steps(self, state) -> None:
        """Retake if the rules allow another attempt now; on to credit once passed (a LearningState)."""
        can_retake = bool(state and state.assessment_unlocked and not state.passed and not state.open_attempt_id)
        self.retake_button.setVisible(not self.result.passed and can_retake)
        self.retake_button.setEnabled(can_retake)
        self.to_credit_button.setVisible(bool(state and state.passed))

    def focus_next_step(self) -> None:
        """After Submit: the focus (with its ring) on the way on: Evaluation & credit once
        passed, else Retake, else Done."""
        for button in (self.to_credit_button, self.retake_button, self.back_to_intro_button):
            if can_take_focus(button):
                button.setFocus(KEYBOARD)
                return

    def _close(self) -> None:
        self.result = None
        self.closed.emit()
