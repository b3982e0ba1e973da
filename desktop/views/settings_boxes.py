"""The Settings page's parts that act at once, with no Save: the account (sign in and out),
the appearance (light or dark, applied and remembered as chosen), and help (diagnostics).

The fields that wait for Save (server, sync, downloads) are the page's own (pages.py).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.diagnostics import as_text
from desktop.views.tasks import run_task
from desktop.views.text import error_text, profession_name
from desktop.views.theme import app_theme
from desktop.views.widgets import plain_label, push_button
from desktop.views.window_prefs import WindowPrefs

log = logging.getLogger(__name__)

THEME_CHOICES = (("system", "Same as the system"), ("light", "Light"), ("dark", "Dark"))


class AccountBox(QGroupBox):
    """Who is signed in, Sign in… and Sign out (on a worker: it asks the server)."""

    sign_in_requested = Signal()
    signed_out = Signal()

    def __init__(self, services, parent: QWidget | None = None):
        super().__init__("Account", parent)
        self.services = services
        self.busy = False
        self.learner_label = plain_label("", self, name="Signed-in learner")
        self.sign_in_button = push_button(self, "Sign in…", "Sign in to the credit server (another learner may "
                                          "sign in too)", self.sign_in_requested)
        self.sign_out_button = push_button(self, "Sign out", "Forget this learner's sign-in on this computer; "
                                           "cached activities stay", self._sign_out)
        self.message = plain_label("", self, name="Account message")
        self.message.setVisible(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.sign_in_button)
        buttons.addWidget(self.sign_out_button)
        buttons.addStretch(1)
        v = QVBoxLayout(self)
        v.addWidget(self.learner_label)
        v.addLayout(buttons)
        v.addWidget(self.message)

    def refresh(self) -> None:
        learner = self.services.current_learner()
        if learner:
            who = learner.display_name or learner.username
            extra = profession_name(learner.profession)
            self.learner_label.setText(f"Signed in as {who}" + (f" ({extra})" if extra else ""))
        else:
            self.learner_label.setText("Not signed in")
        self.sign_out_button.setEnabled(learner is not None and not self.busy)
        self.sign_in_button.setEnabled(not self.busy)

    def _sign_out(self) -> None:
        if self.busy:
            return
        self.busy = True
        self.sign_out_button.setEnabled(False)
        self.sign_out_button.setText("Signing out…")
        self.message.setVisible(False)
        run_task(self, self.services.sign_out, self._signed_out, self._sign_out_failed)

    def _signed_out(self, _learner) -> None:
        self._done("Signed out. Cached activities stay on this computer.")
        self.signed_out.emit()

    def _sign_out_failed(self, exc: BaseException) -> None:
        self._done(error_text(exc))

    def _done(self, message: str) -> None:
        self.busy = False
        self.sign_out_button.setText("Sign out")
        self.message.setText(message)
        self.message.setVisible(True)
        self.refresh()


class AppearanceBox(QGroupBox):
    """Light or dark: applied and remembered as soon as it is chosen (window.ini)."""

    def __init__(self, prefs: WindowPrefs, parent: QWidget | None = None):
        super().__init__("Appearance", parent)
        self.prefs = prefs
        self.theme_combo = QComboBox(self)
        for value, text in THEME_CHOICES:
            self.theme_combo.addItem(text, value)
        self.theme_combo.setAccessibleName("Colours")
        self.theme_combo.setToolTip("Light or dark colours, or the same as the system's setting. "
                                    "Applies at once.")
        self.theme_combo.view().setAccessibleName("Colours")
        self.theme_combo.view().setToolTip("Light, dark, or the same as the system")
        self.theme_combo.setCurrentIndex(max(self.theme_combo.findData(prefs.theme), 0))
        self.theme_combo.currentIndexChanged.connect(self._theme_chosen)
        self.theme_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("Colours", self.theme_combo)
        form.addRow(plain_label("Applies at once; nothing to save.", self, name="Appearance note",
                                selectable=False))

    def _theme_chosen(self, _index: int) -> None:
        choice = self.theme_combo.currentData()
        app_theme().apply(choice)
        try:
            self.prefs.theme = choice
        except OSError as exc:  # shown for this session, not remembered
            log.warning("the colour choice could not be saved: %s", exc)


class HelpBox(QGroupBox):
    """The machine policy's notes and "Copy diagnostics" for the IT help desk."""

    def __init__(self, services, parent: QWidget | None = None):
        super().__init__("Help", parent)
        self.services = services
        self.policy_label = plain_label("", self, name="Machine policy")
        self.diagnostics_button = push_button(
            self, "Copy diagnostics",
            "Copy versions, paths, settings, sync state and recent log lines (never passwords or tokens) "
            "to paste into a message to your IT help desk", self.copy_diagnostics)
        self.diagnostics_message = plain_label("", self, name="Diagnostics message")
        self.diagnostics_message.setVisible(False)
        v = QVBoxLayout(self)
        v.addWidget(self.policy_label)
        row = QHBoxLayout()
        row.addWidget(self.diagnostics_button)
        row.addWidget(self.diagnostics_message, 1)
        row.addStretch(0)
        self.diagnostics_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        v.addLayout(row)

    def show_policy(self, locked: dict[str, str]) -> None:
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
