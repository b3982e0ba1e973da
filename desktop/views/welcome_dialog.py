"""First run: no server configured yet. Offer the demo, or ask for the server's address."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from desktop.config import normalise_server_url
from desktop.errors import CmeError
from desktop.views.widgets import plain_label, server_address_edit
from desktop.views.text import error_text
from desktop.views.tasks import run_task

log = logging.getLogger(__name__)


class WelcomeDialog(QDialog):
    """Accepted with `choice` == "demo" (see `demo_services`) or "server" (address saved)."""

    demo_ready = Signal(object)  # the new Services from the demo launcher

    def __init__(self, services, demo_launcher=None, parent=None):
        super().__init__(parent)
        self.services = services
        self.demo_launcher = demo_launcher
        self.choice: str | None = None
        self.demo_services = None
        self._busy = False
        self.setWindowTitle("Welcome to CME Offline")
        self.setAccessibleName("Welcome")

        intro = plain_label(
            "CME Offline keeps accredited activities on this computer so you can study without a "
            "network, and sends your completions to your provider's credit server later.\n\n"
            + ("To start, enter the address of your provider's server, or try the built-in demo."
               if getattr(services.settings, "demo_allowed", True) is not False else
               "To start, enter the address of your provider's server."),
            self, name="Welcome explanation",
        )

        self.demo_button = QPushButton("Use the demo", self)
        self.demo_button.setAccessibleName("Use the demo")
        self.demo_button.setToolTip("Start a demo credit server on this computer and sign in as a demo learner")
        self.demo_button.setEnabled(demo_launcher is not None)
        if demo_launcher is None:
            self.demo_button.setToolTip("The demo is not available in this installation")
        self.demo_button.clicked.connect(self._use_demo)
        self.demo_allowed = getattr(services.settings, "demo_allowed", True) is not False
        if not self.demo_allowed:  # machine policy: demo_allowed = false hides it
            self.demo_launcher = None
            self.demo_button.setEnabled(False)
            self.demo_button.setVisible(False)

        self.server_edit = server_address_edit(self)
        self.server_edit.returnPressed.connect(self._use_server)
        self.continue_button = QPushButton("Continue and sign in", self)
        self.continue_button.setAccessibleName("Continue and sign in")
        self.continue_button.setToolTip("Save this server address, then sign in")
        self.continue_button.clicked.connect(self._use_server)
        self.later_button = QPushButton("Later", self)
        self.later_button.setAccessibleName("Later")
        self.later_button.setToolTip("Close; you can set the server in Settings at any time")
        self.later_button.clicked.connect(self.reject)

        self.message = QLabel(self)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Welcome message")
        self.message.setToolTip("Progress or problems")
        self.message.setVisible(False)

        server_row = QHBoxLayout()
        server_row.addWidget(self.server_edit, 1)
        server_row.addWidget(self.continue_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.demo_button)
        bottom.addStretch(1)
        bottom.addWidget(self.later_button)

        # The address label sits right on its field: a wrapped label that is given spare
        # height opened a wide gap between them (the spare height now goes to the bottom).
        self.server_label = plain_label("Server address", self, name="Server address", selectable=False)
        self.server_label.setBuddy(self.server_edit)
        server_group = QVBoxLayout()
        server_group.setSpacing(2)
        server_group.addWidget(self.server_label)
        server_group.addLayout(server_row)

        v = QVBoxLayout(self)
        v.addWidget(intro)
        v.addSpacing(6)
        v.addLayout(server_group)
        v.addWidget(self.message)
        v.addStretch(1)
        v.addLayout(bottom)
        height = v.heightForWidth(520) if v.hasHeightForWidth() else self.sizeHint().height()
        self.resize(520, max(height, self.minimumSizeHint().height()))
        self.server_edit.setFocus()

    def _note(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(True)

    def _use_server(self) -> None:
        if self._busy:
            return
        try:
            url = normalise_server_url(self.server_edit.text())
            self.services.set_server_url(url)
        except (CmeError, OSError) as exc:
            self._note(error_text(exc) if isinstance(exc, CmeError) else f"The address could not be saved: {exc}")
            return
        self.choice = "server"
        self.accept()

    def _use_demo(self) -> None:
        if self._busy or self.demo_launcher is None:
            return
        self._set_busy(True)
        self._note("Starting the demo server and signing in… this takes a few seconds.")
        run_task(self, self.demo_launcher, self._demo_started, self._demo_failed)

    def _demo_started(self, services) -> None:
        self._set_busy(False)
        self.choice = "demo"
        self.demo_services = services
        self.demo_ready.emit(services)
        self.accept()

    def _demo_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if not isinstance(exc, CmeError):
            log.error("the demo did not start", exc_info=exc)
        self._note(f"The demo could not start: {exc}" if isinstance(exc, CmeError) else
                   "The demo could not start. Enter your provider's server address instead, "
                   "or try again.")

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.demo_button.setEnabled(not busy and self.demo_launcher is not None)
        self.demo_button.setText("Starting the demo…" if busy else "Use the demo")
        self.continue_button.setEnabled(not busy)
        self.server_edit.setEnabled(not busy)
        self.later_button.setEnabled(not busy)

    def reject(self) -> None:
        if not self._busy:
            super().reject()
