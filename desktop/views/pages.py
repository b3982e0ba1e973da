"""The Settings page.

The Downloads page lives in downloads_page.py, My credits in credits_page.py."""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.config import normalise_server_url
from desktop.diagnostics import as_text
from desktop.views.events import AppEvents
from desktop.views.widgets import plain_label
from desktop.errors import BadServerAddress, CmeError
from desktop.views.sign_in_dialog import error_text
from desktop.views.tasks import run_task
from desktop.views.text import profession_name

log = logging.getLogger(__name__)


class SettingsPage(QWidget):
    sign_in_requested = Signal()
    settings_changed = Signal()  # server, CA bundle or interval changed
    signed_out = Signal()

    def __init__(self, services, parent=None, *, events: AppEvents | None = None):
        super().__init__(parent)
        self.services = services
        self.events = events if events is not None else AppEvents(self)
        self.events.learner_changed.connect(lambda source: None if source is self else self.refresh())
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
        self.proxy_edit = QLineEdit(connection)
        self.proxy_edit.setPlaceholderText("Optional: http://proxy.example.org:8080")
        self.proxy_edit.setAccessibleName("Proxy")
        self.proxy_edit.setToolTip(
            "A proxy for every connection. Leave empty to use the system's proxy settings "
            "(proxy auto-config files are not read)."
        )
        form = QFormLayout(connection)
        form.addRow("Server address", self.server_edit)
        form.addRow("Extra CA bundle", ca_row)
        form.addRow("Proxy", self.proxy_edit)
        form.addRow("Sync every", self.interval_spin)
        save_row = QHBoxLayout()
        save_row.addWidget(self.save_button)
        save_row.addStretch(1)
        form.addRow("", save_row)
        form.addRow(self.connection_message)

        # ---- downloads and storage
        downloads = QGroupBox("Downloads and storage", self)
        self.bandwidth_spin = QSpinBox(downloads)
        self.bandwidth_spin.setRange(0, 10_000_000)
        self.bandwidth_spin.setSingleStep(256)
        self.bandwidth_spin.setSuffix(" kbit/s")
        self.bandwidth_spin.setSpecialValueText("No cap")
        self.bandwidth_spin.setMaximumWidth(160)
        self.bandwidth_spin.setAccessibleName("Bandwidth cap")
        self.bandwidth_spin.setToolTip("The most all downloads together may use (No cap: as fast as the network allows)")
        self.hours_edit = QLineEdit(downloads)
        self.hours_edit.setPlaceholderText("Any time (e.g. 19:00-07:00)")
        self.hours_edit.setAccessibleName("Download hours")
        self.hours_edit.setToolTip("Downloads run only between these local times; outside them they wait")
        self.shared_edit = QLineEdit(downloads)
        self.shared_edit.setPlaceholderText("Optional: a folder IT filled with activity files")
        self.shared_edit.setAccessibleName("Shared content folder")
        self.shared_edit.setToolTip("A read-only folder looked in before anything is downloaded")
        dform = QFormLayout(downloads)
        dform.addRow("Bandwidth cap", self.bandwidth_spin)
        dform.addRow("Download hours", self.hours_edit)
        dform.addRow("Shared content folder", self.shared_edit)
        self.save_button.setToolTip("Apply the connection and download settings")

        # ---- policy and help
        help_box = QGroupBox("Help", self)
        self.policy_label = plain_label("", help_box, name="Machine policy")
        self.diagnostics_button = QPushButton("Copy diagnostics", help_box)
        self.diagnostics_button.setAccessibleName("Copy diagnostics")
        self.diagnostics_button.setToolTip(
            "Copy versions, paths, settings, sync state and recent log lines (never passwords or tokens) "
            "to paste into a message to your IT help desk"
        )
        self.diagnostics_button.clicked.connect(self.copy_diagnostics)
        self.diagnostics_message = plain_label("", help_box, name="Diagnostics message")
        self.diagnostics_message.setVisible(False)
        hv = QVBoxLayout(help_box)
        hv.addWidget(self.policy_label)
        row = QHBoxLayout()
        row.addWidget(self.diagnostics_button)
        row.addWidget(self.diagnostics_message, 1)
        hv.addLayout(row)

        v = QVBoxLayout(self)
        v.addWidget(plain_label("Settings", self, name="Settings", heading=True, selectable=False))
        v.addWidget(account)
        v.addWidget(connection)
        v.addWidget(downloads)
        v.addWidget(help_box)
        v.addStretch(1)
        self._tips = {w: w.toolTip() for w in self._policy_widgets_all()}
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
        self.proxy_edit.setText(s.settings.proxy or "")
        self.bandwidth_spin.setValue(s.settings.bandwidth_cap_kbps or 0)
        self.hours_edit.setText(s.settings.download_hours or "")
        self.shared_edit.setText(s.settings.shared_content_dir or "")
        self._show_locks()

    # -------------------------------------------------------------- machine policy

    def _policy_widgets(self) -> dict[str, list]:
        return {
            "server_url": [self.server_edit],
            "extra_ca_bundle": [self.ca_edit, self.ca_browse],
            "proxy": [self.proxy_edit],
            "bandwidth_cap_kbps": [self.bandwidth_spin],
            "download_hours": [self.hours_edit],
            "shared_content_dir": [self.shared_edit],
        }

    def _policy_widgets_all(self) -> list:
        return [w for ws in self._policy_widgets().values() for w in ws]

    def locked(self) -> dict[str, str]:
        try:
            return self.services.locked_settings()
        except AttributeError:
            return {}

    def _show_locks(self) -> None:
        locked = self.locked()
        for name, widgets in self._policy_widgets().items():
            for w in widgets:
                reason = locked.get(name)
                w.setEnabled(reason is None)
                w.setToolTip(reason if reason else self._tips.get(w, w.toolTip()))
                w.setAccessibleDescription(reason or "")
        policy = getattr(self.services, "policy", None)
        lines = []
        if locked:
            lines.append("Some settings are set by your organisation's policy and cannot be changed here.")
        if policy is not None and policy.problems:
            lines.append("The machine policy has problems (ignored values): " + "; ".join(policy.problems))
        self.policy_label.setText("\n".join(lines))
        self.policy_label.setVisible(bool(lines))

    def copy_diagnostics(self) -> str:
        """Put the diagnostics block on the clipboard; returns it."""
        try:
            text = as_text(self.services.diagnostics())
        except Exception as exc:  # the help desk still gets something
            log.exception("collecting diagnostics failed")
            text = f"Diagnostics could not be collected: {exc}\n"
        QApplication.clipboard().setText(text)
        self.diagnostics_message.setText("Copied. Paste it into your message to the IT help desk.")
        self.diagnostics_message.setVisible(True)
        return text

    # -------------------------------------------------------------- actions

    def save(self) -> None:
        s = self.services
        text = self.server_edit.text().strip()
        try:
            url = normalise_server_url(text) if text else None
        except BadServerAddress as exc:
            self._connection_note(error_text(exc))
            return
        locked = self.locked()
        ca = self.ca_edit.text().strip() or None
        if "extra_ca_bundle" not in locked and ca is not None and not s.file_exists(ca):
            self._connection_note("That CA bundle file does not exist. Check the path, or leave it empty.")
            return
        changes = {
            "extra_ca_bundle": ca,
            "sync_interval_minutes": self.interval_spin.value(),
            "proxy": self.proxy_edit.text().strip() or None,
            "bandwidth_cap_kbps": self.bandwidth_spin.value() or None,
            "download_hours": self.hours_edit.text().strip() or None,
            "shared_content_dir": self.shared_edit.text().strip() or None,
        }
        for name in locked:  # set by policy: never sent back as a change
            changes.pop(name, None)
        try:
            if "server_url" not in locked and url and url != s.server_url:
                s.set_server_url(url)
            s.update_settings(**changes)
        except (OSError, ValueError, CmeError) as exc:  # ValueError: pydantic's, for a value out of range
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
        self.events.learner_changed.emit(self)

    def _sign_out_failed(self, exc: BaseException) -> None:
        self._busy = False
        self.sign_out_button.setText("Sign out")
        self.account_message.setText(error_text(exc))
        self.account_message.setVisible(True)
        self.refresh()
