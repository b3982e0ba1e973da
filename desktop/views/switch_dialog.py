"""Proving who you are to become the current learner: switching learner, or continuing
after the idle lock.

One dialog for both. It names the learners signed in on this computer (the one asked for
chosen), asks for that learner's password and hands both to `switch_learner`, which checks
the password with the server, or offline against this computer's check. A wrong password
is shown here in plain words and nothing of that learner is shown; the dialog stays open.
"Sign in as another learner…" leaves for the sign-in dialog. Enter continues, Esc cancels
(after the lock, cancelling leaves the app locked: the library stays, nobody's records).
Looks and behaves like the sign-in dialog (sign_in_dialog.py): same error box, same busy state.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
)

from desktop.errors import CmeError, SignInRequired
from desktop.views.tasks import run_task
from desktop.views.text import error_text
from desktop.views.widgets import ErrorBox, dialog_column, line_edit

log = logging.getLogger(__name__)

SWITCH_TEXT = "Enter the password of the learner you are switching to. Nobody is signed out."
LOCKED_TEXT = ("CME Offline is locked (after a time without use, or as it started on a shared computer), so "
               "nobody's records are shown. Choose your name and enter your password to continue.")


class SwitchLearnerDialog(QDialog):
    switched = Signal(object)  # LearnerInfo now current
    sign_in_requested = Signal(str, str)  # username ("" for a new learner), message
    attempt_finished = Signal()  # after each try, success or not (for tests and callers)

    def __init__(self, services, parent=None, *, learner_id: str | None = None, locked: bool = False):
        super().__init__(parent)
        self.services = services
        self._busy = False
        self.setWindowTitle(("Locked" if locked else "Switch learner") + " — CME Offline")
        self.setAccessibleName("Unlock" if locked else "Switch learner")

        self.intro = QLabel(LOCKED_TEXT if locked else SWITCH_TEXT, self)
        self.intro.setTextFormat(Qt.TextFormat.PlainText)
        self.intro.setWordWrap(True)
        self.intro.setAccessibleName("Explanation")
        self.intro.setToolTip("Why a password is asked for")

        self.learner_combo = QComboBox(self)
        self.learner_combo.setAccessibleName("Learner")
        self.learner_combo.setToolTip("The learners signed in on this computer")
        for learner in services.learners():
            self.learner_combo.addItem(learner.display_name or learner.username, learner)
        wanted = next((i for i in range(self.learner_combo.count())
                       if self.learner_combo.itemData(i).id == learner_id), 0)
        self.learner_combo.setCurrentIndex(wanted)

        self.password_edit = line_edit(self, "Password", "That learner's password; checked by the server, or "
                                       "offline by this computer, and never stored", password=True)

        self.error_label = ErrorBox(self, "Switch problem")

        form = QFormLayout()
        form.addRow("Learner", self.learner_combo)
        form.addRow("Password", self.password_edit)

        self.buttons = QDialogButtonBox(self)
        self.continue_button = self.buttons.addButton("Continue", QDialogButtonBox.ButtonRole.AcceptRole)
        self.continue_button.setDefault(True)
        self.continue_button.setAccessibleName("Continue")
        self.continue_button.setToolTip("Check the password and continue as this learner")
        self.other_button = self.buttons.addButton("Sign in as another learner…",
                                                   QDialogButtonBox.ButtonRole.ActionRole)
        self.other_button.setAccessibleName("Sign in as another learner")
        self.other_button.setToolTip("Sign in with a username and password")
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName("Cancel")
        self.cancel_button.setToolTip("Stay locked (the library stays usable)" if locked
                                      else "Stay the current learner")
        self.continue_button.clicked.connect(self.attempt)
        self.other_button.clicked.connect(lambda: self._leave_for_sign_in("", ""))
        self.cancel_button.clicked.connect(self.reject)

        dialog_column(self, self.intro, form, self.error_label, self.buttons)
        self.password_edit.setFocus()

    def chosen(self):
        return self.learner_combo.currentData()

    def attempt(self) -> None:
        learner = self.chosen()
        if self._busy or learner is None:
            return
        password = self.password_edit.text()
        if not password:
            self.error_label.show_text("Enter the password.")
            self.password_edit.setFocus()
            self.attempt_finished.emit()
            return
        services = self.services
        self._set_busy(True)
        self.error_label.setVisible(False)
        run_task(self, lambda: services.switch_learner(learner.id, password), self._succeeded, self._failed)

    def _succeeded(self, info) -> None:
        self._set_busy(False)
        self.password_edit.clear()
        self.switched.emit(info)
        self.attempt_finished.emit()
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        if not isinstance(exc, CmeError):
            log.error("switching learner failed unexpectedly", exc_info=exc)
        self._set_busy(False)
        self.password_edit.clear()
        if isinstance(exc, SignInRequired):
            self.attempt_finished.emit()
            self._leave_for_sign_in(self.chosen().username, str(exc))
            return
        self.error_label.show_text(error_text(exc))
        self.password_edit.setFocus()
        self.attempt_finished.emit()

    def _leave_for_sign_in(self, username: str, message: str) -> None:
        self.sign_in_requested.emit(username, message)
        self.reject()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        for widget in (self.continue_button, self.other_button, self.learner_combo, self.password_edit):
            widget.setEnabled(not busy)
        self.continue_button.setText("Checking…" if busy else "Continue")

    def reject(self) -> None:
        if self._busy:
            return  # the check is in flight; its answer arrives shortly
        super().reject()
