"""Settings, and the My credits page (a placeholder until that feature lands).

The Downloads page lives in downloads_page.py."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.config import normalise_server_url
from desktop.views.activity_page import plain_label
from desktop.views.sign_in_dialog import error_text
from desktop.views.tasks import run_task
from desktop.views.text import profession_name

log = logging.getLogger(__name__)


def placeholder_page(title: str, text: str) -> QWidget:
    page = QWidget()
    page.setAccessibleName(title)
    v = QVBoxLayout(page)
    v.addWidget(plain_label(title, page, name=title, heading=True, selectable=False))
    v.addWidget(plain_label(text, page, name=f"{title}: what this page will do", tip=text))
    v.addStretch(1)
    return page


def credits_page() -> QWidget:
    return placeholder_page(
        "My credits",
        "Credits arrive with offline learning. This page will total your credits per type for "
        "this year and all time, list your completions (waiting to sync, accepted, or refused "
        "with the reason), and open, print or export your certificates and transcript.",
    )


class SettingsPage(QWidget):
    sign_in_requested = Signal()
    settings_changed = Signal()  # server, CA bundle or interval changed
    signed_out = Signal()

    def __init__(self, services, parent=None):
        super().__init__(parent)
        self.services = services
        self._busy = False
        self.setAccessibleName("Settings")

        # ---- account
        account = QGroupBox("Account", self)
        self.learner_label = plain_label("", account, name="Signed-in learner")
        self.sign_in_button = QPushButton("Sign in…", account)
        self.sign_in_button.setAccessibleName("Sign in")
        self.sign_in_button.setToolTip("Sign in to the credit server (another learner may sign in too)")
        self.sign_in_button.clicked.connect(self.sign_in_requested)
        self.sign_out_button = QPushButton("Sign out", account)
        self.sign_out_button.setAccessibleName("Sign out")
        self.sign_out_button.setToolTip("Forget this learner's sign-in on this computer; cached activities stay")
        self.sign_out_button.clicked.connect(self._sign_out)
        self.account_message = plain_label("", account, name="Account message")
        self.account_message.setVisible(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.sign_in_button)
        buttons.addWidget(self.sign_out_button)
        buttons.addStretch(1)
        av = QVBoxLayout(account)
        av.addWidget(self.learner_label)
        av.addLayout(buttons)
        av.addWidget(self.account_message)

        # ---- connection and sync
        connection = QGroupBox("Connection and sync", self)
        self.server_edit = QLineEdit(connection)
        self.server_edit.setPlaceholderText("https://cme.example.org")
        self.server_edit.setAccessibleName("Server address")
        self.server_edit.setToolTip("The address of your provider's credit server")
        self.ca_edit = QLineEdit(connection)
        self.ca_edit.setPlaceholderText("Optional: a PEM file with your organisation's certificate authority")
        self.ca_edit.setAccessibleName("Extra CA bundle")
        self.ca_edit.setToolTip(
            "A PEM file added to the system's trusted certificates, for networks that inspect HTTPS. "
            "Leave empty unless IT gave you one."
        )
        self.ca_browse = QPushButton("Browse…", connection)
        self.ca_browse.setAccessibleName("Choose CA bundle file")
        self.ca_browse.setToolTip("Pick the certificate file IT gave you")
        self.ca_browse.clicked.connect(self._browse_ca)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_edit, 1)
        ca_row.addWidget(self.ca_browse)
        self.interval_spin = QSpinBox(connection)
        self.interval_spin.setRange(1, 24 * 60)
        self.interval_spin.setSuffix(" min")
        self.interval_spin.setMaximumWidth(120)
        self.interval_spin.setAccessibleName("Sync interval")
        self.interval_spin.setToolTip("How often the app syncs with the server while it is open")
        self.save_button = QPushButton("Save", connection)
        self.save_button.setAccessibleName("Save connection settings")
        self.save_button.setToolTip("Apply the server address, CA bundle and sync interval")
        self.save_button.clicked.connect(self.save)
        self.connection_message = plain_label("", connection, name="Connection settings message")
        self.connection_message.setVisible(False)
        form = QFormLayout(connection)
        form.addRow("Server address", self.server_edit)
        form.addRow("Extra CA bundle", ca_row)
        form.addRow("Sync every", self.interval_spin)
        save_row = QHBoxLayout()
        save_row.addWidget(self.save_button)
        save_row.addStretch(1)
        form.addRow("", save_row)
        form.addRow(self.connection_message)

        v = QVBoxLayout(self)
        v.addWidget(plain_label("Settings", self, name="Settings", heading=True, selectable=False))
        v.addWidget(account)
        v.addWidget(connection)
        v.addStretch(1)
        self.refresh()

    def set_services(self, services) -> None:
        self.services = services
        self.refresh()

    def refresh(self) -> None:
        s = self.services
        learner = s.current_learner()
        if learner:
            who = learner.display_name or learner.username
            extra = profession_name(learner.profession)
            self.learner_label.setText(f"Signed in as {who}" + (f" ({extra})" if extra else ""))
        else:
            self.learner_label.setText("Not signed in")
        self.sign_out_button.setEnabled(learner is not None and not self._busy)
        self.sign_in_button.setEnabled(not self._busy)
        self.server_edit.setText(s.server_url or "")
        self.ca_edit.setText(s.settings.extra_ca_bundle or "")
        self.interval_spin.setValue(s.settings.sync_interval_minutes)

    # -------------------------------------------------------------- actions

    def save(self) -> None:
        from pathlib import Path

        s = self.services
        text = self.server_edit.text().strip()
        try:
            url = normalise_server_url(text) if text else None
        except ValueError as exc:
            self._connection_note(error_text(exc))
            return
        ca = self.ca_edit.text().strip() or None
        if ca is not None and not Path(ca).is_file():
            self._connection_note("That CA bundle file does not exist. Check the path, or leave it empty.")
            return
        try:
            if url and url != s.server_url:
                s.set_server_url(url)
            s.update_settings(extra_ca_bundle=ca, sync_interval_minutes=self.interval_spin.value())
        except (OSError, ValueError) as exc:
            log.warning("saving settings failed: %s", exc)
            self._connection_note(f"The settings could not be saved: {exc}")
            return
        self._connection_note("Saved.")
        self.refresh()
        self.settings_changed.emit()

    def _connection_note(self, text: str) -> None:
        self.connection_message.setText(text)
        self.connection_message.setVisible(True)

    def _browse_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a CA bundle", self.ca_edit.text(), "Certificates (*.pem *.crt *.cer);;All files (*)"
        )
        if path:
            self.ca_edit.setText(path)

    def _sign_out(self) -> None:
        if self._busy:
            return
        self._busy = True
        self.sign_out_button.setEnabled(False)
        self.sign_out_button.setText("Signing out…")
        self.account_message.setVisible(False)
        run_task(self, self.services.sign_out, self._signed_out, self._sign_out_failed)

    def _signed_out(self, learner) -> None:
        self._busy = False
        self.sign_out_button.setText("Sign out")
        self.account_message.setText("Signed out. Cached activities stay on this computer.")
        self.account_message.setVisible(True)
        self.refresh()
        self.signed_out.emit()

    def _sign_out_failed(self, exc: BaseException) -> None:
        self._busy = False
        self.sign_out_button.setText("Sign out")
        self.account_message.setText(error_text(exc))
        self.account_message.setVisible(True)
        self.refresh()
