"""The Settings page: what the learner types stays until it is saved or discarded.

One Save for the page, at its foot, for the fields that change how the app talks to the
server and downloads (server, CA bundle, proxy, sync interval, bandwidth, hours, shared
folder, the preferred video quality and whether to ask before each download): those are
checked together, so a half-typed address is never applied. Until
then the page says "Unsaved changes", keeps the typed values when anything else refreshes
it, and asks (Save / Discard / Stay) before the window leaves it or closes
(`may_leave`). The account, the colours and diagnostics act at once (settings_boxes.py).

The Downloads page lives in downloads_page.py, My credits in credits_page.py."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cmecore.renditions import QUALITY_LABELS, RANK, Quality
from desktop.config import normalise_server_url
from desktop.errors import BadServerAddress, CmeError
from desktop.views.events import AppEvents
from desktop.views.file_dialogs import start_path
from desktop.views.quality_choice import QUALITY_TIPS, maximum_note
from desktop.views.settings_boxes import AccountBox, AppearanceBox, HelpBox
from desktop.views.text import error_text
from desktop.views.widgets import line_edit, plain_label, push_button, server_address_edit
from desktop.views.window_prefs import WindowPrefs

log = logging.getLogger(__name__)

SAVE, DISCARD, STAY = "save", "discard", "stay"


def ask_about_unsaved_changes(parent: QWidget) -> str:
    """Save, discard or stay? (a seam: tests replace it instead of clicking a modal box)."""
    box = QMessageBox(QMessageBox.Icon.Question, "Unsaved settings",
                      "You changed settings without saving them. Save them now?",
                      QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                      | QMessageBox.StandardButton.Cancel, parent)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    box.button(QMessageBox.StandardButton.Cancel).setText("Stay on Settings")
    answer = box.exec()
    return {QMessageBox.StandardButton.Save: SAVE, QMessageBox.StandardButton.Discard: DISCARD}.get(
        QMessageBox.StandardButton(answer), STAY)


def _spin(parent: QWidget, name: str, tip: str, low: int, high: int, suffix: str, width: int) -> QSpinBox:
    spin = QSpinBox(parent)
    spin.setRange(low, high)
    spin.setSuffix(suffix)
    spin.setMaximumWidth(width)
    spin.setAccessibleName(name)
    spin.setToolTip(tip)
    return spin


def ask_to_change_server(parent: QWidget, learner: str, url: str, old: str) -> bool:
    """Change the server, which leaves `learner` signed in to `old` only? Cancel is the
    default (a seam: tests replace it instead of clicking a modal box)."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Change the server?",
                      f"{learner} is signed in to {old}, not to {url}: after the change no one is signed in "
                      f"here until you sign in to {url}. {learner} stays signed in to {old} on this computer "
                      "(changing back needs no password; use Sign out first if others use this computer).",
                      QMessageBox.StandardButton.Cancel, parent)
    change = box.addButton("Change server", QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is change


def choose_ca_bundle(parent: QWidget, edit: QLineEdit) -> None:
    """The file dialog for the CA bundle, from the one typed (else Documents) into `edit`."""
    path, _ = QFileDialog.getOpenFileName(parent, "Choose a CA bundle", start_path(edit.text().strip()),
                                          "Certificates (*.pem *.crt *.cer);;All files (*)")
    if path:
        edit.setText(path)


def saved_note(before, after, new_server: str | None, old_server: str | None = None) -> str:
    """What saving did, in a line: above all, who is signed in now."""
    if new_server is None:
        return "Saved."
    if after is not None:
        return f"Saved. Signed in to {new_server} as {after.display_name or after.username}."
    if before is not None:
        return (f"Saved. No one is signed in to {new_server}: sign in there to sync. "
                f"{before.display_name or before.username} is still signed in to {old_server}.")
    return f"Saved. Sign in to {new_server} to sync."


class SettingsPage(QWidget):
    sign_in_requested = Signal()
    settings_changed = Signal()  # server, CA bundle or interval changed
    signed_out = Signal()
    unsaved_changed = Signal(bool)  # the fields differ from what is saved (or no longer do)

    def __init__(self, services, parent=None, *, events: AppEvents | None = None, prefs: WindowPrefs | None = None):
        super().__init__(parent)
        self.services = services
        self.events = events if events is not None else AppEvents(self)
        self.events.learner_changed.connect(lambda source: None if source is self else self.refresh())
        self._saved: dict | None = None  # the fields' values as last loaded or saved
        self.setAccessibleName("Settings")

        inner = QWidget(self)
        self.account = AccountBox(services, inner)
        self.account.sign_in_requested.connect(self.sign_in_requested)
        self.account.signed_out.connect(self._signed_out)
        self.learner_label, self.account_message = self.account.learner_label, self.account.message
        self.sign_in_button, self.sign_out_button = self.account.sign_in_button, self.account.sign_out_button
        connection, downloads = self._build_fields(inner)
        self.appearance = AppearanceBox(prefs or WindowPrefs(None), inner)
        self.help = HelpBox(services, inner)
        self.policy_label = self.help.policy_label
        self.diagnostics_button, self.diagnostics_message = self.help.diagnostics_button, self.help.diagnostics_message

        self.save_button = push_button(self, "Save", "Apply the server, sync and download settings above",
                                       self.save, name="Save settings")
        self.save_button.setDefault(True)
        self.discard_button = push_button(self, "Discard changes", "Put back the settings as last saved",
                                          self.discard)
        self.unsaved_label = plain_label("Unsaved changes", self, name="Unsaved changes", selectable=False)
        self.connection_message = plain_label("", self, name="Settings message")
        self.connection_message.setVisible(False)
        save_row = QHBoxLayout()
        save_row.addWidget(self.save_button)
        save_row.addWidget(self.discard_button)
        save_row.addSpacing(8)
        save_row.addWidget(self.unsaved_label)
        save_row.addWidget(self.connection_message, 1)
        save_row.addStretch(0)
        for button in (self.save_button, self.discard_button):
            button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)

        v = QVBoxLayout(inner)
        for part in (self.account, connection, downloads, self.appearance, self.help):
            v.addWidget(part)
        v.addStretch(1)
        scroll = QScrollArea(self)  # at 1024×700 or 2× scaling the page is taller than the window
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setAccessibleName("Settings")
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no invisible Tab stop; PageDown still scrolls
        page = QVBoxLayout(self)
        page.addWidget(plain_label("Settings", self, name="Settings", heading=True, selectable=False))
        page.addWidget(scroll, 1)
        page.addLayout(save_row)
        self._tips = {w: w.toolTip() for w in self._policy_widgets_all()}
        for edit in self._fields():
            _changed_signal(edit).connect(self._edited)
            if isinstance(edit, QLineEdit):  # Enter saves, as the default button promises
                edit.returnPressed.connect(lambda: self.has_unsaved_changes() and self.save())
        self.refresh()

    def _build_fields(self, parent: QWidget) -> tuple[QGroupBox, QGroupBox]:
        connection = QGroupBox("Connection and sync", parent)
        self.server_edit = server_address_edit(connection)
        self.ca_edit = line_edit(connection, "Extra CA bundle",
                                 "A PEM file added to the system's trusted certificates, for networks that "
                                 "inspect HTTPS. Leave empty unless IT gave you one.",
                                 placeholder="Optional: a PEM file with your organisation's certificate authority")
        self.ca_browse = push_button(connection, "Browse…", "Pick the certificate file IT gave you",
                                     lambda: choose_ca_bundle(self, self.ca_edit),
                                     name="Browse for the CA bundle file")
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_edit, 1)
        ca_row.addWidget(self.ca_browse)
        self.proxy_edit = line_edit(connection, "Proxy", "A proxy for every connection. Leave empty to use the "
                                    "system's proxy settings (proxy auto-config files are not read).",
                                    placeholder="Optional: http://proxy.example.org:8080")
        self.interval_spin = _spin(connection, "Sync interval", "How often the app syncs with the server while "
                                   "it is open", 1, 24 * 60, " min", 120)
        form = QFormLayout(connection)
        form.addRow("Server address", self.server_edit)
        form.addRow("Extra CA bundle", ca_row)
        form.addRow("Proxy", self.proxy_edit)
        form.addRow("Sync every", self.interval_spin)

        downloads = QGroupBox("Downloads and storage", parent)
        self.bandwidth_spin = _spin(downloads, "Bandwidth cap", "The most all downloads together may use "
                                    "(No cap: as fast as the network allows)", 0, 10_000_000, " kbit/s", 160)
        self.bandwidth_spin.setSingleStep(256)
        self.bandwidth_spin.setSpecialValueText("No cap")
        self.hours_edit = line_edit(downloads, "Download hours",
                                    "Downloads run only between these local times; outside them they wait",
                                    placeholder="Any time (e.g. 19:00-07:00)")
        self.shared_edit = line_edit(downloads, "Shared content folder",
                                     "A read-only folder looked in before anything is downloaded",
                                     placeholder="Optional: a folder IT filled with activity files")
        self.quality_combo = QComboBox(downloads)
        self.quality_combo.setAccessibleName("Preferred video quality")
        self.quality_combo.setToolTip("Which form of each video to download: Best (the provider's own), Small "
                                      "(slides stay legible) or Audio only (with the transcript full width)")
        self.quality_combo.view().setAccessibleName("Video qualities")
        self.quality_combo.view().setToolTip("Best, Small or Audio only")
        self.quality_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.quality_combo.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.ask_check = QCheckBox("Ask each time before downloading", downloads)
        self.ask_check.setAccessibleName("Ask each time before downloading")
        self.ask_check.setToolTip("Before each download, show the forms of the video with their sizes and let "
                                  "me choose")
        self.quality_note = plain_label("", downloads, name="Video quality limit", selectable=False)
        self.quality_note.setVisible(False)
        dform = QFormLayout(downloads)
        dform.addRow("Bandwidth cap", self.bandwidth_spin)
        dform.addRow("Download hours", self.hours_edit)
        dform.addRow("Shared content folder", self.shared_edit)
        dform.addRow("Video quality", self.quality_combo)
        dform.addRow("", self.ask_check)
        dform.addRow("", self.quality_note)
        return connection, downloads

    def _offer_qualities(self) -> None:
        """Only the qualities the machine policy allows (its maximum leaves out the larger
        ones, and the note says why): never a choice that would do nothing."""
        maximum = self.services.config.quality_maximum()
        allowed = [q for q in Quality if maximum is None or RANK[q] >= RANK[maximum]]
        combo = self.quality_combo
        combo.blockSignals(True)
        combo.clear()
        for q in allowed:
            combo.addItem(QUALITY_LABELS[q], q)
            combo.setItemData(combo.count() - 1, QUALITY_TIPS[q], Qt.ItemDataRole.ToolTipRole)
        combo.blockSignals(False)
        note = maximum_note(maximum)
        self.quality_note.setText(note)
        self.quality_note.setVisible(bool(note))

    def set_services(self, services) -> None:
        """Another Services (the demo's): its settings replace whatever was typed."""
        self.services = self.account.services = self.help.services = services
        self._load_fields()
        self.refresh()

    def refresh(self) -> None:
        """The account and the policy as they are now; the fields too, unless they hold unsaved edits."""
        self.account.refresh()
        if not self.has_unsaved_changes():
            self._load_fields()
        self._show_locks()

    # -------------------------------------------------------------- unsaved changes

    def _fields(self) -> list:
        return [self.server_edit, self.ca_edit, self.proxy_edit, self.interval_spin, self.bandwidth_spin,
                self.hours_edit, self.shared_edit, self.quality_combo, self.ask_check]

    def _values(self) -> dict:
        return {w.accessibleName(): _value(w) for w in self._fields()}

    def _load_fields(self) -> None:
        s = self.services
        self._offer_qualities()
        values = {
            self.server_edit: s.server_url or "", self.ca_edit: s.settings.extra_ca_bundle or "",
            self.proxy_edit: s.settings.proxy or "", self.interval_spin: s.settings.sync_interval_minutes,
            self.bandwidth_spin: s.settings.bandwidth_cap_kbps or 0, self.hours_edit: s.settings.download_hours or "",
            self.shared_edit: s.settings.shared_content_dir or "",
            self.quality_combo: s.config.download_quality() or Quality.best, self.ask_check: s.settings.ask_quality,
        }
        for widget, value in values.items():
            widget.blockSignals(True)
            _set_value(widget, value)
            widget.blockSignals(False)
        self._saved = self._values()
        self._edited()

    def has_unsaved_changes(self) -> bool:
        return self._saved is not None and self._values() != self._saved

    def _edited(self) -> None:
        unsaved = self.has_unsaved_changes()
        self.unsaved_label.setVisible(unsaved)
        self.save_button.setEnabled(unsaved)
        self.discard_button.setEnabled(unsaved)
        if unsaved:
            self.connection_message.setVisible(False)
        self.unsaved_changed.emit(unsaved)

    def discard(self) -> None:
        self._load_fields()
        self.connection_message.setVisible(False)

    def may_leave(self) -> bool:
        """Whether the window may show something else: yes when nothing is unsaved, else as
        the learner answers (saved, or discarded; staying or a failed save keeps the page)."""
        if not self.has_unsaved_changes():
            return True
        answer = ask_about_unsaved_changes(self)
        if answer == SAVE:
            return self.save()
        if answer == DISCARD:
            self.discard()
            return True
        return False

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
        self.help.show_policy(locked)

    def copy_diagnostics(self) -> str:
        """Put the diagnostics block on the clipboard; returns it."""
        return self.help.copy_diagnostics()

    # -------------------------------------------------------------- actions

    def save(self) -> bool:
        """Check and apply the fields together; True when saved (else the message says why)."""
        s = self.services
        text = self.server_edit.text().strip()
        try:
            url = normalise_server_url(text) if text else None
        except BadServerAddress as exc:
            self._connection_note(error_text(exc))
            return False
        locked = self.locked()
        ca = self.ca_edit.text().strip() or None
        if "extra_ca_bundle" not in locked and ca is not None and not s.file_exists(ca):
            self._connection_note("That CA bundle file does not exist. Check the path, or leave it empty.")
            return False
        changes = {
            "extra_ca_bundle": ca,
            "sync_interval_minutes": self.interval_spin.value(),
            "proxy": self.proxy_edit.text().strip() or None,
            "bandwidth_cap_kbps": self.bandwidth_spin.value() or None,
            "download_hours": self.hours_edit.text().strip() or None,
            "shared_content_dir": self.shared_edit.text().strip() or None,
            "ask_quality": self.ask_check.isChecked(),
        }
        quality = self.quality_combo.currentData()
        if quality is not None and quality != self._saved.get(self.quality_combo.accessibleName()):
            changes["download_quality"] = quality  # unchanged: the policy's default keeps applying
        for name in locked:  # set by policy: never sent back as a change
            changes.pop(name, None)
        new_server = url if "server_url" not in locked and url and url != s.server_url else None
        learner = s.current_learner() if new_server else None
        old_server = s.server_url
        if learner is not None and not ask_to_change_server(self, learner.display_name or learner.username, url,
                                                            old_server):
            self._connection_note(f"Not saved. The app still uses {old_server}.")
            return False
        try:  # the other settings first: one they refuse leaves the server as it was
            s.update_settings(**changes)
            if new_server:
                s.set_server_url(url)
        except (OSError, ValueError, CmeError) as exc:  # ValueError: pydantic's, for a value out of range
            log.warning("saving settings failed: %s", exc)
            self._connection_note(f"The settings could not be saved: {exc}")
            return False
        self._load_fields()
        self._connection_note(saved_note(learner, s.current_learner(), new_server, old_server))
        self.refresh()
        self.settings_changed.emit()
        return True

    def _connection_note(self, text: str) -> None:
        self.connection_message.setText(text)
        self.connection_message.setVisible(True)

    def _signed_out(self) -> None:
        self.signed_out.emit()
        self.events.learner_changed.emit(self)


def _changed_signal(widget):
    """The signal a field sends when the learner edits it."""
    if isinstance(widget, QLineEdit):
        return widget.textChanged
    if isinstance(widget, QComboBox):
        return widget.currentIndexChanged
    if isinstance(widget, QCheckBox):
        return widget.toggled
    return widget.valueChanged


def _value(widget):
    if isinstance(widget, QLineEdit):
        return widget.text()
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    return widget.value()


def _set_value(widget, value) -> None:
    if isinstance(widget, QLineEdit):
        widget.setText(value)
    elif isinstance(widget, QComboBox):
        widget.setCurrentIndex(max(0, widget.findData(value)))
    elif isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    else:
        widget.setValue(value)
