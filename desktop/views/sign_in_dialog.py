"""Sign in to the credit server; failures are shown in the dialog, in plain words."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
)

from desktop.config import normalise_server_url
from desktop.errors import BadServerAddress, CmeError
from desktop.views.tasks import run_task
from desktop.views.text import error_text
from desktop.views.widgets import ErrorBox, dialog_column, line_edit, server_address_edit

log = logging.getLogger(__name__)


class SignInDialog(QDialog):
    signed_in = Signal(object)  # LearnerInfo
    attempt_finished = Signal()  # after each try, success or not (for tests and callers)

    def __init__(self, services, parent=None, *, message: str | None = None):
        super().__init__(parent)
        self.services = services
        self.learner = None
        self._busy = False
        self.setWindowTitle("Sign in — CME Offline")
        self.setAccessibleName("Sign in")

        self.intro = QLabel(self)
        self.intro.setTextFormat(Qt.TextFormat.PlainText)
        self.intro.setWordWrap(True)
        self.intro.setText(message or "Sign in with the account your CME provider gave you.")
        self.intro.setAccessibleName("Sign-in explanation")
        self.intro.setToolTip("Why you are asked to sign in")

        self.server_edit = server_address_edit(self, services.server_url or "")
        learner = services.current_learner()
        self.username_edit = line_edit(self, "Username", "Your username on the credit server",
                                       text=learner.username if learner else "")
        self.password_edit = line_edit(self, "Password", "Your password; it is sent to the server and never "
                                       "stored here", password=True)

        self.error_label = ErrorBox(self, "Sign-in problem")

        form = QFormLayout()
        form.addRow("Server address", self.server_edit)
        form.addRow("Username", self.username_edit)
        form.addRow("Password", self.password_edit)

        self.buttons = QDialogButtonBox(self)
        self.sign_in_button = self.buttons.addButton("Sign in", QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_in_button.setDefault(True)
        self.sign_in_button.setAccessibleName("Sign in")
        self.sign_in_button.setToolTip("Sign in to the credit server")
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAccessibleName("Cancel")
        self.cancel_button.setToolTip("Close without signing in; you can keep studying offline")
        self.sign_in_button.clicked.connect(self.attempt)
        self.cancel_button.clicked.connect(self.reject)

        dialog_column(self, self.intro, form, self.error_label, self.buttons)
        (self.password_edit if self.username_edit.text() and self.server_edit.text() else
         self.server_edit if not self.server_edit.text() else self.username_edit).setFocus()

    # -------------------------------------------------------------- actions

    def attempt(self) -> None:
        if self._busy:
            return
        username = self.username_edit.text().strip()
        password = self.password_edit.text()
        try:
            url = normalise_server_url(self.server_edit.text())
        except BadServerAddress as exc:
            self.error_label.show_text(error_text(exc))
            self.server_edit.setFocus()
            self.attempt_finished.emit()
            return
        if not username or not password:
            self.error_label.show_text("Enter your username and password.")
            (self.username_edit if not username else self.password_edit).setFocus()
            self.attempt_finished.emit()
            return
        services = self.services
        change_server = url != services.server_url

        def work():
            if change_server:
                services.set_server_url(url)
            return services.sign_in(username, password)

        self._set_busy(True)
        self.error_label.setVisible(False)
        run_task(self, work, self._succeeded, self._failed)

    def _succeeded(self, learner) -> None:
        self._set_busy(False)
        self.learner = learner
        self.password_edit.clear()
        self.signed_in.emit(learner)
        self.attempt_finished.emit()
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        if not isinstance(exc, CmeError):
            log.error("sign-in failed unexpectedly", exc_info=exc)
        self._set_busy(False)
        self.error_label.show_text(error_text(exc))
        self.password_edit.selectAll()
        self.password_edit.setFocus()
        self.attempt_finished.emit()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.sign_in_button.setEnabled(not busy)
        self.sign_in_button.setText("Signing in…" if busy else "Sign in")
        for edit in (self.server_edit, self.username_edit, self.password_edit):
            edit.setEnabled(not busy)

    def reject(self) -> None:
        if self._busy:
            return  # the attempt is in flight; its answer arrives shortly
        super().reject()
