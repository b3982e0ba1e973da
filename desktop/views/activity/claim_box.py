"""The claim on the Evaluation & credit tab (DOMAIN rules 6 and 8).

The form offers what the learner's profession may claim (`ClaimOptions`; what each kind
asks and says is desktop/learning/claim_form.py): AMA PRA credit in 0.25 steps with
attested minutes; a statement of participation; or a pharmacist's fixed contact hours with
the UAN (refused, with what to do, when the NABP e-Profile ID or birth date is missing).
Attestation and reporting consent are asked with every claim. The claim is recorded on the
app's writer and sent at the next sync.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.learning.claim_form import ATTEST_AMA, claim_amount, claim_form, unsupported_credits
from desktop.views.focus import focus_text, holds_focus
from desktop.views.learning_text import locked_text
from desktop.views.tasks import discard_writes, run_write
from desktop.views.widgets import plain_label
from desktop.views.theme import set_tone

CLAIM_TIP = "Record your claim; it is sent to the credit server at the next sync"


class ClaimBox(QGroupBox):
    claimed = Signal()  # a claim was recorded: the page re-reads the learning state
    claim_finished = Signal(object)  # CompletionInfo, or the exception

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Claim credit", parent)
        self.services = None
        self.activity_id: str | None = None
        self.state = None
        self._generation = 0  # bumped per activity or learner: late outcomes are dropped
        self.setAccessibleName("Claim credit")
        self.setToolTip("Claim the credit your profession may claim for this activity")
        self.claim_reason = plain_label("", self, name="Why you cannot claim yet")
        self.claim_reason.setStyleSheet("font-weight: bold;")
        self.credit_type_label = plain_label("", self, name="Credit type")
        self.statement_label = plain_label("", self, name="Accreditation statement")
        self.credits_combo = QComboBox(self)
        self.credits_combo.setAccessibleName("Credits claimed")
        self.credits_combo.setToolTip("Claim only the credit commensurate with your participation (steps of 0.25)")
        self.credits_combo.view().setAccessibleName("Credit amounts")
        self.credits_combo.view().setToolTip("Credit amounts in steps of 0.25")
        self.credits_combo.setMaximumWidth(320)
        self.credits_combo.currentIndexChanged.connect(self._show_supported)
        self.supported_label = plain_label("", self, name="What your attested time supports")
        self.hours_label = plain_label("", self, name="Contact hours")
        self.uan_label = plain_label("", self, name="Universal Activity Number")
        self.minutes_spin = QSpinBox(self)
        self.minutes_spin.setRange(0, 100_000)
        self.minutes_spin.setSuffix(" min")
        self.minutes_spin.setMaximumWidth(140)
        self.minutes_spin.setAccessibleName("Attested minutes")
        self.minutes_spin.setToolTip("The time you actually spent on the activity (prefilled with the time measured on "
                                     "this computer while the video played and you answered the post-test)")
        self._minutes_touched = self._setting_minutes = False
        self.minutes_spin.valueChanged.connect(self._minutes_changed)
        self.attest_check = QCheckBox(ATTEST_AMA, self)
        self.attest_check.setAccessibleName("Attestation")
        self.attest_check.setToolTip("Required: you attest your participation")
        self.attest_check.toggled.connect(self._update_claim_button)
        self.consent_check = QCheckBox("Report this credit for me", self)
        self.consent_check.setAccessibleName("Reporting consent")
        self.consent_check.setToolTip("Your permission to report this credit, recorded with this claim")
        self.consent_label = plain_label("", self, name="What is reported")
        self.window_warning = plain_label("", self, name="Reporting window warning")
        set_tone(self.window_warning, "warning")
        self.ids_label = plain_label("", self, name="Pharmacist profile problem")
        set_tone(self.ids_label, "error")
        self.claim_button = QPushButton("Claim credit", self)
        self.claim_button.setAccessibleName("Claim credit")
        self.claim_button.setToolTip(CLAIM_TIP)
        self.claim_button.clicked.connect(self.claim)
        self.claim_note = plain_label("", self, name="Claim message")
        self.form = QFormLayout()
        self.form.addRow("Credits", self.credits_combo)
        self.form.addRow("Contact hours", self.hours_label)
        self.form.addRow("UAN", self.uan_label)
        self.form.addRow("Time spent", self.minutes_spin)
        self.form.addRow("", self.supported_label)
        cv = QVBoxLayout(self)
        cv.addWidget(self.claim_reason)
        cv.addWidget(self.credit_type_label)
        cv.addWidget(self.statement_label)
        cv.addWidget(self.ids_label)
        cv.addWidget(self.window_warning)
        cv.addLayout(self.form)
        cv.addWidget(self.attest_check)
        cv.addWidget(self.consent_check)
        cv.addWidget(self.consent_label)
        row = QHBoxLayout()
        row.addWidget(self.claim_button)
        row.addWidget(self.claim_note, 1)
        cv.addLayout(row)


    def set_activity(self, services, activity_id: str | None) -> None:
        """Another activity or learner: forget what was typed, drop unsent writes."""
        self._generation += 1
        discard_writes(self)
        self.services, self.activity_id = services, activity_id
        self._minutes_touched = False

    def show_state(self, state) -> None:
        """The form for where the learner stands (a LearningState)."""
        self.state = state
        o = state.claim_options
        c = state.completion
        if c is not None and c.state in ("pending", "accepted"):
            self.setVisible(False)
            return
        self.setVisible(state.acknowledged_at is not None or not state.available)
        form = claim_form(o, state.reported_ids)
        self.claim_reason.setText(state.claim_reason)
        self.claim_reason.setVisible(bool(state.claim_reason))
        self.credit_type_label.setText(form.credit_type)
        self.statement_label.setText(o.statement)
        self.statement_label.setVisible(bool(o.statement))
        self.credits_combo.blockSignals(True)
        previous = self.credits_combo.currentData()
        self.credits_combo.clear()
        for value, text in form.choices:
            self.credits_combo.addItem(text, value)
        if self.credits_combo.count():
            index = self.credits_combo.findData(previous)
            self.credits_combo.setCurrentIndex(index if index >= 0 else self.credits_combo.count() - 1)
        self.credits_combo.blockSignals(False)
        self.hours_label.setText(form.hours)
        self.uan_label.setText(o.uan or "")
        self.form.setRowVisible(self.credits_combo, form.asks_credits)
        self.form.setRowVisible(self.hours_label, bool(form.hours))
        self.form.setRowVisible(self.uan_label, bool(o.uan))
        self.form.setRowVisible(self.minutes_spin, form.asks_minutes)
        self.form.setRowVisible(self.supported_label, form.asks_credits)
        if not self._minutes_touched:  # prefilled from the time really spent until the learner changes it
            self._setting_minutes = True
            self.minutes_spin.setValue(o.suggested_minutes)
            self._setting_minutes = False
        self.attest_check.setText(form.attestation)
        self.consent_check.setText(form.consent_choice)
        self.consent_label.setText(form.consent)
        self.ids_label.setText(form.missing_ids)
        self.ids_label.setVisible(bool(form.missing_ids))
        warning = state.reporting_window_warning
        self.window_warning.setText(warning or "")
        self.window_warning.setVisible(bool(warning))
        for w in (self.credits_combo, self.minutes_spin, self.attest_check, self.consent_check):
            w.setEnabled(state.can_claim)
        self._show_supported()
        self._update_claim_button()

    def _minutes_changed(self, _value: int) -> None:
        if not self._setting_minutes:
            self._minutes_touched = True
        self._show_supported()

    def _show_supported(self, *_args) -> None:
        """AMA PRA credit: the attested time must support the credits claimed (minutes / 60, to 0.25)."""
        o = self.state.claim_options if self.state is not None else None
        if o is None or not claim_form(o).asks_credits or self.credits_combo.currentData() is None:
            self.supported_label.setText("")
            return
        self.supported_label.setText(unsupported_credits(self.minutes_spin.value(),
                                                         float(self.credits_combo.currentData())))

    def _update_claim_button(self, *_args) -> None:
        state = self.state
        ok = bool(state and state.can_claim and self.attest_check.isChecked())
        self.claim_button.setEnabled(ok)
        if state is not None and state.can_claim and not self.attest_check.isChecked():
            self.claim_button.setToolTip("Tick the attestation first")
        else:
            self.claim_button.setToolTip(CLAIM_TIP)

    def claim_values(self) -> tuple[float, int | None, bool]:
        credits, minutes = claim_amount(self.state.claim_options, self.credits_combo.currentData(),
                                        self.minutes_spin.value())
        return credits, minutes, self.consent_check.isChecked()

    def claim(self) -> None:
        if self.services is None or self.activity_id is None or self.state is None or not self.state.can_claim:
            return
        if not self.attest_check.isChecked():
            self.claim_note.setText("Tick the attestation first.")
            return
        credits, minutes, consent = self.claim_values()
        services, activity_id, gen = self.services, self.activity_id, self._generation
        self.claim_note.setText("Recording your claim…")
        if holds_focus(self.claim_button):
            focus_text(self.claim_note, after=self.claim_button)  # then the tab's status ("Waiting to sync"): CreditTab
        self.claim_button.setEnabled(False)

        def done(info) -> None:
            if gen == self._generation:
                self.claim_note.setText("")
                self.attest_check.setChecked(False)
                self.claimed.emit()
            self.claim_finished.emit(info)

        def failed(exc) -> None:
            if gen == self._generation:
                self.claim_note.setText(f"⚠ Refused: {locked_text(exc)}")
                self._update_claim_button()
            self.claim_finished.emit(exc)

        run_write(self, lambda: services.claim_credit(activity_id, credits, minutes, consent), done, failed)
