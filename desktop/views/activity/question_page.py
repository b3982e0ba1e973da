"""The post-test's question page: one attempt being answered, one question at a time.

The page shows a question with its progress, keeps the answers chosen so far and moves
with Back/Next; it announces each choice (`answer_chosen`) and a confirmed Submit
(`submit_requested`). Storing them is the Assessment tab's job, on the app's one writer;
the tab reports back through `save_note`.

Catalog text is shown literally (plain-text labels; "&" escaped on buttons).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
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
        self.group: QButtonGroup | None = None

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
            b.show()  # now, not when the layout gets to it: the first answer takes the focus below
            self.option_buttons.append((oid, b))
        self.group.buttonClicked.connect(lambda _b: self._chosen())
        self.back_button.setEnabled(self.index > 0)
        self.next_button.setEnabled(self.index < n - 1)
        self.next_button.setDefault(self.index < n - 1)
        self.submit_button.setDefault(self.index == n - 1)
        self._order_focus()
        if self.option_buttons:
            self.option_buttons[0][1].setFocus()

    def _order_focus(self) -> None:
        """Tab: the answers right after the question, then Next (or Submit), Back."""
        chain = [b for _oid, b in self.option_buttons]
        chain += [self.next_button if self.index < len(self.view.questions) - 1 else self.submit_button,
                  self.back_button, self.next_button, self.submit_button]
        ordered = list(dict.fromkeys(chain))
        QWidget.setTabOrder(self, ordered[0])
        for first, second in zip(ordered, ordered[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def keyPressEvent(self, event) -> None:
        """Enter (on an answer) goes on: Next, or Submit on the last question. Arrows move
        between the answers (a radio group does this itself; a check box list did not)."""
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.view is not None:
            event.accept()
            (self.next_button if self.next_button.isEnabled() else self.submit_button).click()
            return
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Right) and self._move_between_answers(
                -1 if key in (Qt.Key.Key_Up, Qt.Key.Key_Left) else 1):
            event.accept()
            return
        super().keyPressEvent(event)

    def _move_between_answers(self, step: int) -> bool:
        buttons = [b for _oid, b in self.option_buttons]
        focused = next((i for i, b in enumerate(buttons) if b.hasFocus()), None)
        if focused is None:
            return False
        buttons[(focused + step) % len(buttons)].setFocus(Qt.FocusReason.TabFocusReason)
        return True

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
