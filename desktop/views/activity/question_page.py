"""The post-test's question page: one attempt being answered, one question at a time.

The page shows a question with its progress, keeps the answers chosen so far and moves
with Back/Next; it announces each choice (`answer_chosen`) and a confirmed Submit
(`submit_requested`). Storing them is the Assessment tab's job, on the app's one writer;
the tab reports back through `save_note`.

Catalog text is shown literally (plain-text labels; "&" escaped on buttons).

Keys, the whole post-test by keyboard alone (the page says how, once, under the question):
one answer (radio buttons) is one Tab stop where the arrows move *and* choose, as in a
radio group; several answers (check boxes) are each a Tab stop, the arrows move between
them too, and Space ticks. The check boxes are in no button group: Qt keeps only one
button of a group in the Tab chain, which made Tab jump from the first answer to Back.
Enter goes on to the next question (Submit on the last).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QHBoxLayout,
    QMessageBox,
    QProgressBar,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.views.widgets import plain_label, push_button


def confirm(parent: QWidget, title: str, text: str) -> bool:
    """Ask yes/no (tests replace this)."""
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


ONE_HOW = "Choose one answer."
ONE_KEYS = "The arrow keys move between the answers and choose one."
EVERY_HOW = "Choose every answer that applies."
EVERY_KEYS = "Tab or the arrow keys move between the answers; Space ticks or clears one."
ARROWS = {Qt.Key.Key_Up: -1, Qt.Key.Key_Left: -1, Qt.Key.Key_Down: 1, Qt.Key.Key_Right: 1}


def how_to_answer(question_text: str, kind: str) -> str:
    """The line under a question: how many answers to choose (unless the question already
    says it, as in "Select all that apply.") and which keys do it."""
    words = question_text.lower()
    if kind == "single":
        said = "one answer" in words or "select one" in words or "choose one" in words
        return ONE_KEYS if said else f"{ONE_HOW} {ONE_KEYS}"
    said = "that apply" in words or "that applies" in words
    return EVERY_KEYS if said else f"{EVERY_HOW} {EVERY_KEYS}"


def button_text(text: str) -> str:
    return text.replace("&", "&&")  # "&" on a button would be a mnemonic


class QuestionPage(QWidget):
    answer_chosen = Signal(str, list, int)  # question id, the option ids now chosen, question index
    submit_requested = Signal()  # Submit pressed (and confirmed, if some questions have no answer)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAccessibleName("Question")
        self.view = None  # the AttemptView being answered
        self.index = 0
        self.answers: dict[str, list[str]] = {}
        self.option_buttons: list[tuple[str, QAbstractButton]] = []

        self.progress_label = plain_label("", self, name="Question number", selectable=False)
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumHeight(8)
        self.progress_bar.setAccessibleName("Progress through the post-test")
        self.progress_bar.setToolTip("How far through the post-test you are")
        self.question_label = plain_label("", self, name="Question")
        font = self.question_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.question_label.setFont(font)
        self.kind_label = plain_label("", self, name="How to answer", selectable=False)
        self.options_box = QWidget(self)
        self.options_box.setAccessibleName("Answers")
        self.options_layout = QVBoxLayout(self.options_box)
        self.save_note = plain_label("", self, name="Answer saving", selectable=False)
        self.back_button = push_button(self, "← Back", "Go to the previous question", self.back,
                                       name="Previous question")
        self.next_button = push_button(self, "Next →", "Go to the next question", self.next, name="Next question")
        self.submit_button = push_button(self, "Submit answers", "Submit this attempt for grading (you are asked "
                                         "first if some questions are unanswered)", self.submit)
        for button in (self.back_button, self.next_button, self.submit_button):
            button.setAutoDefault(True)  # Enter on a focused button presses it
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.next_button)
        buttons.addStretch(1)
        buttons.addWidget(self.submit_button)
        v = QVBoxLayout(self)
        v.addWidget(self.progress_label)
        v.addWidget(self.progress_bar)
        v.addWidget(self.question_label)
        v.addWidget(self.kind_label)
        v.addWidget(self.options_box)
        v.addStretch(1)
        v.addWidget(self.save_note)
        v.addLayout(buttons)

    def open(self, view) -> None:
        """Answer this attempt, from the question where it was left, with the answers kept so far."""
        self.view = view
        self.answers = {k: list(v) for k, v in view.answers.items()}
        self.index = max(0, min(view.current_question, len(view.questions) - 1))
        self.save_note.setText("")
        self._show_question()

    def close(self) -> None:
        """No attempt is being answered any more (submitted, or another activity or learner)."""
        self.view, self.answers, self.index = None, {}, 0

    def _show_question(self) -> None:
        view = self.view
        q = view.questions[self.index]
        n = len(view.questions)
        self.progress_label.setText(f"Question {self.index + 1} of {n}")
        self.progress_bar.setRange(0, n)
        self.progress_bar.setValue(self.index + 1)
        self.question_label.setText(q.text)
        self.kind_label.setText(how_to_answer(q.text, q.kind))
        for _oid, b in self.option_buttons:
            b.setParent(None)
            b.deleteLater()
        self.option_buttons = []
        chosen = set(self.answers.get(q.id, []))
        for oid, text in q.options:
            # Radio buttons of one parent are exclusive by themselves (autoExclusive).
            b: QAbstractButton = QRadioButton(button_text(text)) if q.kind == "single" else QCheckBox(button_text(text))
            b.setParent(self.options_box)
            b.setAccessibleName(text)
            b.setToolTip("Choose this answer" if q.kind == "single" else "Tick every answer that applies")
            b.setChecked(oid in chosen)
            b.setProperty("option_id", oid)
            b.clicked.connect(lambda _checked: self._chosen())
            b.installEventFilter(self)  # the arrow keys (see eventFilter)
            self.options_layout.addWidget(b)
            b.show()  # now, not when the layout gets to it: the first answer takes the focus below
            self.option_buttons.append((oid, b))
        self.back_button.setEnabled(self.index > 0)
        self.next_button.setEnabled(self.index < n - 1)
        self.next_button.setDefault(self.index < n - 1)
        self.submit_button.setDefault(self.index == n - 1)
        self._order_focus()
        if self.option_buttons:
            buttons = [b for _oid, b in self.option_buttons]
            # A radio group is entered at its chosen answer; check boxes at the first.
            first = next((b for b in buttons if b.isChecked()), buttons[0]) if q.kind == "single" else buttons[0]
            first.setFocus(Qt.FocusReason.TabFocusReason)

    def _order_focus(self) -> None:
        """Tab: the answers right after the question, then the buttons as drawn (Back, Next, Submit)."""
        ordered = [b for _oid, b in self.option_buttons] + [self.back_button, self.next_button, self.submit_button]
        QWidget.setTabOrder(self, ordered[0])
        for first, second in zip(ordered, ordered[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def keyPressEvent(self, event) -> None:
        """Enter (on an answer) goes on: Next, or Submit on the last question."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.view is not None:
            event.accept()
            (self.next_button if self.next_button.isEnabled() else self.submit_button).click()
            return
        super().keyPressEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The arrow keys on an answer move to the next or previous one (round), and on a
        one-answer question choose it too (Qt's radio buttons choose only once one is chosen)."""
        if (event.type() == QEvent.Type.KeyPress and event.key() in ARROWS
                and event.modifiers() == Qt.KeyboardModifier.NoModifier):
            buttons = [b for _oid, b in self.option_buttons]
            if watched in buttons:
                target = buttons[(buttons.index(watched) + ARROWS[event.key()]) % len(buttons)]
                target.setFocus(Qt.FocusReason.TabFocusReason)
                if isinstance(target, QRadioButton) and not target.isChecked():
                    target.click()
                return True
        return super().eventFilter(watched, event)

    def _chosen(self) -> None:
        q = self.view.questions[self.index]
        chosen = [oid for oid, b in self.option_buttons if b.isChecked()]
        self.answers[q.id] = chosen
        self.answer_chosen.emit(q.id, chosen, self.index)

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
        self.submit_requested.emit()
