"""The Evaluation & credit tab: the evaluation (rule 5), then the claim (rules 6 and 8).

The evaluation form is built from the activity's questions (ratings 1..scale, free text,
up to three commitments to change, an optional reminder), saved as typed (debounced, off
the GUI thread, in order) and restored when the tab opens again. The claim form offers
what the learner's profession may claim (`ClaimOptions`): AMA PRA credit in 0.25 steps
with attested minutes; a statement of participation; or a pharmacist's fixed contact
hours with the UAN (refused, with what to do, when the NABP e-Profile ID or birth date
is missing). Attestation and reporting consent are asked with every claim.

After Claim the tab says "Waiting to sync"; after a sync, "Accepted — certificate ready"
with Open / Save / Print, or "Refused by the server: <reason>" — never silently.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cmecore.rules.claims import supported_by_minutes
from desktop.views import certificate_actions
from desktop.views.widgets import plain_label
from desktop.views.learning_text import LOCKED, credits_text, local_time, locked_text
from desktop.views.tasks import discard_writes, run_write

SAVE_DELAY_MS = 700
MAX_COMMITMENTS = 3

ATTEST_AMA = "I claim only the credit commensurate with the extent of my participation in the activity."
ATTEST_OTHER = "I took part in this activity as recorded here."
CONSENT = {
    "ama": "The provider may report this credit to ACCME's PARS / CME Passport for my licensing and certifying "
           "boards. Reported: my name, board ID, birth date (month and day), licence state and number, the activity "
           "and the credits claimed.",
    "pharmacy": "The provider may report this credit to NABP CPE Monitor. Reported: my NABP e-Profile ID, birth date "
                "(month and day), the activity's UAN, the contact hours and the date. Without it, CPE Monitor is not "
                "told and the official statement of credit does not exist.",
    "participation": "The provider may report my participation to the accrediting bodies it reports to. Reported: my "
                     "name, the activity, the hours and the date.",
}


class CreditTab(QWidget):
    changed = Signal()  # the evaluation was submitted or a claim was made: the page re-reads the state
    draft_saved = Signal()
    claim_finished = Signal(object)  # CompletionInfo, or the exception

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAccessibleName("Evaluation and credit")
        self.services = None
        self.activity_id: str | None = None
        self.state = None
        self.questions: list = []
        self.draft = None  # the EvaluationDraft as last saved or restored
        self.rating_boxes: dict[str, QComboBox] = {}
        self.text_edits: dict[str, QPlainTextEdit] = {}
        self.commitment_edits: list[QLineEdit] = []
        self.reminder_check: QCheckBox | None = None
        self.reminder_spin: QSpinBox | None = None
        self._loading = False
        self._generation = 0
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save_draft)

        self.status_label = plain_label("", self, name="Credit status", heading=True)
        self.note_label = plain_label("", self, name="What to do next")

        # ---- evaluation (built per activity)
        self.eval_box = QGroupBox("Evaluation", self)
        self.eval_box.setAccessibleName("Evaluation")
        self.eval_box.setToolTip("Your evaluation of this activity (tied to you, sent with your claim)")
        self.eval_form_holder = QVBoxLayout()
        self.eval_note = plain_label("", self.eval_box, name="Evaluation status")
        self.eval_submit = QPushButton("Submit evaluation", self.eval_box)
        self.eval_submit.setAccessibleName("Submit evaluation")
        self.eval_submit.setToolTip("Finish the evaluation (required questions must be answered); it is sent "
                                    "with your claim")
        self.eval_submit.clicked.connect(self.submit_evaluation)
        ev = QVBoxLayout(self.eval_box)
        ev.addLayout(self.eval_form_holder)
        row = QHBoxLayout()
        row.addWidget(self.eval_submit)
        row.addWidget(self.eval_note, 1)
        ev.addLayout(row)
        self.eval_form: QWidget | None = None

        # ---- claim
        self.claim_box = QGroupBox("Claim credit", self)
        self.claim_box.setAccessibleName("Claim credit")
        self.claim_box.setToolTip("Claim the credit your profession may claim for this activity")
        self.claim_reason = plain_label("", self.claim_box, name="Why you cannot claim yet")
        self.claim_reason.setStyleSheet("font-weight: bold;")
        self.credit_type_label = plain_label("", self.claim_box, name="Credit type")
        self.statement_label = plain_label("", self.claim_box, name="Accreditation statement")
        self.credits_combo = QComboBox(self.claim_box)
        self.credits_combo.setAccessibleName("Credits claimed")
        self.credits_combo.setToolTip("Claim only the credit commensurate with your participation (steps of 0.25)")
        self.credits_combo.view().setAccessibleName("Credit amounts")
        self.credits_combo.view().setToolTip("Credit amounts in steps of 0.25")
        self.credits_combo.setMaximumWidth(320)
        self.credits_combo.currentIndexChanged.connect(self._show_supported)
        self.supported_label = plain_label("", self.claim_box, name="What your attested time supports")
        self.hours_label = plain_label("", self.claim_box, name="Contact hours")
        self.uan_label = plain_label("", self.claim_box, name="Universal Activity Number")
        self.minutes_spin = QSpinBox(self.claim_box)
        self.minutes_spin.setRange(0, 100_000)
        self.minutes_spin.setSuffix(" min")
        self.minutes_spin.setMaximumWidth(140)
        self.minutes_spin.setAccessibleName("Attested minutes")
        self.minutes_spin.setToolTip("The time you actually spent on the activity (prefilled from what you watched)")
        self._minutes_touched = self._setting_minutes = False
        self.minutes_spin.valueChanged.connect(self._minutes_changed)
        self.attest_check = QCheckBox(ATTEST_AMA, self.claim_box)
        self.attest_check.setAccessibleName("Attestation")
        self.attest_check.setToolTip("Required: you attest your participation")
        self.attest_check.toggled.connect(self._update_claim_button)
        self.consent_check = QCheckBox("Report this credit for me", self.claim_box)
        self.consent_check.setAccessibleName("Reporting consent")
        self.consent_check.setToolTip("Your permission to report this credit, recorded with this claim")
        self.consent_label = plain_label("", self.claim_box, name="What is reported")
        self.window_warning = plain_label("", self.claim_box, name="Reporting window warning")
        self.window_warning.setStyleSheet("color: #b26a00; font-weight: bold;")
        self.ids_label = plain_label("", self.claim_box, name="Pharmacist profile problem")
        self.ids_label.setStyleSheet("color: #c62828; font-weight: bold;")
        self.claim_button = QPushButton("Claim credit", self.claim_box)
        self.claim_button.setAccessibleName("Claim credit")
        self.claim_button.setToolTip("Record your claim; it is sent to the credit server at the next sync")
        self.claim_button.clicked.connect(self.claim)
        self.claim_note = plain_label("", self.claim_box, name="Claim message")
        self.form = QFormLayout()
        self.form.addRow("Credits", self.credits_combo)
        self.form.addRow("Contact hours", self.hours_label)
        self.form.addRow("UAN", self.uan_label)
        self.form.addRow("Time spent", self.minutes_spin)
        self.form.addRow("", self.supported_label)
        cv = QVBoxLayout(self.claim_box)
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

        # ---- certificate
        self.cert_box = QGroupBox("Certificate", self)
        self.cert_box.setAccessibleName("Certificate")
        self.cert_box.setToolTip("Your certificate, kept on this computer for offline printing")
        self.open_button = self._button("Open certificate", "Open the certificate PDF in your PDF viewer",
                                        self.open_certificate)
        self.save_button = self._button("Save PDF…", "Save the certificate PDF",
                                        lambda: self._save(signed=False))
        self.save_json_button = self._button("Save signed certificate…",
                                             "Save the signed certificate (JSON) that anyone can verify",
                                             lambda: self._save(signed=True))
        self.print_button = self._button("Print…", "Print the certificate", self.print_certificate)
        self.cert_note = plain_label("", self.cert_box, name="Certificate message")
        cb = QVBoxLayout(self.cert_box)
        row = QHBoxLayout()
        for b in (self.open_button, self.save_button, self.save_json_button, self.print_button):
            b.setParent(self.cert_box)
            row.addWidget(b)
        row.addStretch(1)
        cb.addLayout(row)
        cb.addWidget(self.cert_note)

        body = QWidget()
        body.setMaximumWidth(1000)
        v = QVBoxLayout(body)
        v.addWidget(self.status_label)
        v.addWidget(self.note_label)
        v.addWidget(self.cert_box)
        v.addWidget(self.eval_box)
        v.addWidget(self.claim_box)
        v.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        scroll.setAccessibleName("Evaluation and credit")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self.show_state(None, None, None, "")

    def _button(self, text: str, tip: str, slot) -> QPushButton:
        b = QPushButton(text, self)
        b.setAccessibleName(text.rstrip("…"))
        b.setToolTip(tip)
        b.clicked.connect(slot)
        return b

    # -------------------------------------------------------------- evaluation form

    def set_activity(self, services, activity_id: str | None) -> None:
        """Another activity or learner: rebuild the form and restore what was saved."""
        self._generation += 1
        self._save_timer.stop()
        discard_writes(self)
        self.services, self.activity_id = services, activity_id
        self._minutes_touched = False
        self.questions = []
        if services is not None and activity_id is not None:
            try:
                self.questions = services.evaluation_questions(activity_id)
            except Exception:  # not signed in, activity gone: the form stays empty
                self.questions = []
        self._build_form()
        self._restore()

    def _build_form(self) -> None:
        if self.eval_form is not None:
            self.eval_form.setParent(None)
            self.eval_form.deleteLater()
        self.rating_boxes, self.text_edits, self.commitment_edits = {}, {}, []
        self.reminder_check = self.reminder_spin = None
        form = QWidget(self.eval_box)
        v = QVBoxLayout(form)
        v.setContentsMargins(0, 0, 0, 0)
        for i, q in enumerate(self.questions, 1):
            label = plain_label(f"{i}. {q.text}" + (" (required)" if q.required else ""), form,
                                name=f"Evaluation question {i}")
            v.addWidget(label)
            if q.kind == "rating":
                box = QComboBox(form)
                box.addItem("Choose a rating…", None)
                for n in range(1, q.scale + 1):
                    words = " — lowest" if n == 1 else " — highest" if n == q.scale else ""
                    box.addItem(f"{n}{words}", n)
                box.setAccessibleName(f"Rating for question {i}")
                box.setToolTip(f"Rate from 1 (lowest) to {q.scale} (highest)")
                box.view().setAccessibleName(f"Ratings for question {i}")
                box.view().setToolTip(f"Ratings from 1 to {q.scale}")
                box.currentIndexChanged.connect(self._edited)
                box.setMaximumWidth(220)
                self.rating_boxes[q.id] = box
                v.addWidget(box)
            elif q.kind == "text":
                edit = QPlainTextEdit(form)
                edit.setAccessibleName(f"Answer to question {i}")
                edit.setToolTip("Your answer (saved as you type)")
                edit.setMaximumHeight(80)
                edit.textChanged.connect(self._edited)
                self.text_edits[q.id] = edit
                v.addWidget(edit)
            else:  # commitment to change: up to three statements, an optional reminder
                for n in range(1, MAX_COMMITMENTS + 1):
                    edit = QLineEdit(form)
                    edit.setPlaceholderText(f"Commitment to change {n}" + (" (optional)" if n > 1 else ""))
                    edit.setAccessibleName(f"Commitment to change {n}")
                    edit.setToolTip("Something you will do differently in your practice (up to three)")
                    edit.setMaxLength(2000)
                    edit.textChanged.connect(self._edited)
                    self.commitment_edits.append(edit)
                    v.addWidget(edit)
                row = QHBoxLayout()
                self.reminder_check = QCheckBox("Remind me about my commitments in", form)
                self.reminder_check.setAccessibleName("Remind me about my commitments")
                self.reminder_check.setToolTip("A reminder some weeks from now, to check how the change went")
                self.reminder_check.toggled.connect(self._edited)
                self.reminder_spin = QSpinBox(form)
                self.reminder_spin.setRange(1, 52)
                self.reminder_spin.setValue(6)
                self.reminder_spin.setSuffix(" weeks")
                self.reminder_spin.setAccessibleName("Reminder in weeks")
                self.reminder_spin.setToolTip("How many weeks from now (1 to 52)")
                self.reminder_spin.valueChanged.connect(self._edited)
                row.addWidget(self.reminder_check)
                row.addWidget(self.reminder_spin)
                row.addStretch(1)
                v.addLayout(row)
        if not self.questions:
            v.addWidget(plain_label("This activity has no evaluation.", form, name="No evaluation"))
        self.eval_form = form
        self.eval_form_holder.addWidget(form)

    def _restore(self) -> None:
        draft = None
        if self.services is not None and self.activity_id is not None and self.questions:
            try:
                draft = self.services.evaluation(self.activity_id)
            except Exception:
                draft = None
        self._loading = True
        try:
            if draft is not None:
                for qid, box in self.rating_boxes.items():
                    value = draft.ratings.get(qid)
                    box.setCurrentIndex(box.findData(value) if value is not None else 0)
                for qid, edit in self.text_edits.items():
                    edit.setPlainText(draft.texts.get(qid, ""))
                for i, edit in enumerate(self.commitment_edits):
                    edit.setText(draft.commitments[i] if i < len(draft.commitments) else "")
                if self.reminder_check is not None:
                    self.reminder_check.setChecked(draft.reminder_weeks is not None)
                    if draft.reminder_weeks:
                        self.reminder_spin.setValue(draft.reminder_weeks)
        finally:
            self._loading = False
        self.draft = draft

    def responses(self) -> tuple[dict, dict, list, int | None]:
        ratings = {qid: box.currentData() for qid, box in self.rating_boxes.items() if box.currentData() is not None}
        texts = {qid: e.toPlainText() for qid, e in self.text_edits.items() if e.toPlainText().strip()}
        commitments = [e.text() for e in self.commitment_edits if e.text().strip()]
        weeks = self.reminder_spin.value() if self.reminder_check is not None and self.reminder_check.isChecked() \
            else None
        return ratings, texts, commitments, weeks

    def _edited(self, *_args) -> None:
        if self._loading:
            return
        self.eval_note.setText("Editing…")
        self._save_timer.start()

    def save_draft(self) -> None:
        """Save what is typed so far (off the GUI thread)."""
        self._save_timer.stop()
        if self.services is None or self.activity_id is None or not self.questions:
            return
        services, activity_id, gen = self.services, self.activity_id, self._generation
        ratings, texts, commitments, weeks = self.responses()

        def done(draft) -> None:
            if gen == self._generation:
                self.draft = draft
                self.eval_note.setText("Draft saved.")
                self.draft_saved.emit()

        run_write(self, lambda: services.save_evaluation(activity_id, ratings, texts, commitments, weeks),
                  done, lambda exc: self._eval_failed(exc, gen))

    def submit_evaluation(self) -> None:
        if self.services is None or self.activity_id is None:
            return
        self._save_timer.stop()
        services, activity_id, gen = self.services, self.activity_id, self._generation
        ratings, texts, commitments, weeks = self.responses()
        self.eval_submit.setEnabled(False)

        def done(draft) -> None:
            if gen == self._generation:
                self.draft = draft
                self.eval_note.setText("Evaluation submitted. Thank you.")
                self.changed.emit()

        def failed(exc) -> None:
            self.eval_submit.setEnabled(True)
            self._eval_failed(exc, gen)

        run_write(self, lambda: services.save_evaluation(activity_id, ratings, texts, commitments, weeks, submit=True),
                  done, failed)

    def _eval_failed(self, exc: BaseException, gen: int) -> None:
        if gen == self._generation:
            self.eval_note.setText(f"⚠ {locked_text(exc)}")

    # -------------------------------------------------------------- state

    def show_state(self, services, activity_id: str | None, state, note: str = "") -> None:
        if activity_id != self.activity_id or services is not self.services:
            self.set_activity(services, activity_id)
        self.state = state
        if state is None:
            self.status_label.setText("")
            self.status_label.setVisible(False)
            self.note_label.setText(note)
            for box in (self.eval_box, self.claim_box, self.cert_box):
                box.setVisible(False)
            return
        c = state.completion
        sent = c is not None and c.state in ("pending", "accepted")
        # evaluation
        self.eval_box.setVisible(state.has_evaluation and state.acknowledged_at is not None)
        editable = not state.evaluation_done and not sent and state.acknowledged_at is not None
        if self.eval_form is not None:
            self.eval_form.setEnabled(editable)
        self.eval_submit.setVisible(editable)
        self.eval_submit.setEnabled(editable)
        if state.evaluation_done and (self.draft is None or self.draft.submitted_at is None):
            self._restore()  # submitted elsewhere (another window, the CLI): show what was sent
        if state.evaluation_done:
            when = local_time(self.draft.submitted_at) if self.draft is not None else ""
            self.eval_note.setText(f"Evaluation submitted{' on ' + when if when and when != '—' else ''}.")
        # status, certificate
        self._show_completion(state)
        self.status_label.setVisible(bool(self.status_label.text()))
        # claim form
        self._show_claim(state)

    def _show_completion(self, state) -> None:
        c = state.completion
        self.cert_box.setVisible(c is not None and c.state == "accepted")
        if c is None:
            self.status_label.setText("")
            self.note_label.setText(self._steps(state))
            return
        amount = f"{credits_text(c.credits_claimed)} {c.credit_type}"
        if c.state == "pending":
            self.status_label.setText("Waiting to sync")
            extra = f" The last try did not get through: {c.last_error}" if c.last_error else ""
            self.note_label.setText(f"Your claim for {amount} is saved on this computer and goes to the credit "
                                    f"server at the next sync (Sync now, Ctrl+R).{extra}")
        elif c.state == "accepted":
            self.status_label.setText("Accepted — certificate ready")
            ready = c.certificate_id and self.services.certificate_pdf(c.certificate_id) is not None
            self.note_label.setText(f"The credit server accepted your claim for {amount}."
                                    + ("" if ready else " The certificate arrives at the next sync."))
            for b in (self.open_button, self.save_button, self.save_json_button, self.print_button):
                b.setEnabled(bool(ready))
        else:
            self.status_label.setText(f"Refused by the server: {c.reason or 'no reason given'}")
            self.note_label.setText(
                "Your claim was not accepted. " + ("You can claim again below." if state.can_claim else
                                                   state.claim_reason))

    def _steps(self, state) -> str:
        if state.acknowledged_at is None:
            return LOCKED
        steps = []
        if state.has_assessment and not state.passed:
            steps.append(f"pass the post-test ({state.passing_score}% or more)")
        if state.has_evaluation and not state.evaluation_done:
            steps.append("complete the evaluation")
        steps.append("claim your credit")
        return "To earn credit: " + ", then ".join(steps) + "."

    def _show_claim(self, state) -> None:
        o = state.claim_options
        c = state.completion
        if c is not None and c.state in ("pending", "accepted"):
            self.claim_box.setVisible(False)
            return
        self.claim_box.setVisible(state.acknowledged_at is not None or not state.available)
        kind = o.kind
        self.claim_reason.setText(state.claim_reason)
        self.claim_reason.setVisible(bool(state.claim_reason))
        self.credit_type_label.setText(f"Your credit: {o.credit_type}" if o.credit_type else
                                       "This activity offers no credit for your profession.")
        self.statement_label.setText(o.statement)
        self.statement_label.setVisible(bool(o.statement))
        ama = kind == "ama"
        self.credits_combo.blockSignals(True)
        previous = self.credits_combo.currentData()
        self.credits_combo.clear()
        for value in o.choices:
            self.credits_combo.addItem(f"{credits_text(value)} {o.credit_type}", value)
        if self.credits_combo.count():
            index = self.credits_combo.findData(previous)
            self.credits_combo.setCurrentIndex(index if index >= 0 else self.credits_combo.count() - 1)
        self.credits_combo.blockSignals(False)
        hours = o.fixed_contact_hours if kind == "pharmacy" else (o.choices[0] if o.choices else None)
        hours_text = ""
        if hours is not None and not ama:
            hours_text = f"{credits_text(hours)} contact hours ({hours / 10:g} CEU)"
            if kind == "participation":
                hours_text = f"A statement of participation for {credits_text(hours)} contact hours"
        self.hours_label.setText(hours_text)
        self.uan_label.setText(o.uan or "")
        self._set_row(self.credits_combo, ama)
        self._set_row(self.hours_label, bool(hours_text))
        self._set_row(self.uan_label, bool(o.uan))
        self._set_row(self.minutes_spin, kind in ("ama", "participation"))
        self._set_row(self.supported_label, ama)
        if not self._minutes_touched:  # prefilled from the watched time until the learner changes it
            self._setting_minutes = True
            self.minutes_spin.setValue(o.suggested_minutes)
            self._setting_minutes = False
        self.attest_check.setText(ATTEST_AMA if ama else ATTEST_OTHER)
        self.consent_check.setText("Report this credit to PARS / CME Passport" if ama else
                                   "Report this credit to NABP CPE Monitor" if kind == "pharmacy" else
                                   "Report my participation")
        self.consent_label.setText(CONSENT.get(kind or "", ""))
        missing_ids = o.missing_pharmacist_ids
        self.ids_label.setText(
            "Your profile has no NABP e-Profile ID or birth date (MMDD), so a pharmacist's claim would be refused. "
            "Ask your provider to add them to your profile, sync, and claim again." if missing_ids else "")
        self.ids_label.setVisible(missing_ids)
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
        if o is None or o.kind != "ama" or self.credits_combo.currentData() is None:
            self.supported_label.setText("")
            return
        minutes, credits = self.minutes_spin.value(), float(self.credits_combo.currentData())
        supported = supported_by_minutes(minutes)
        if credits > supported + 1e-9:
            spent = f"{minutes} minute{'s' * (minutes != 1)}"
            self.supported_label.setText(f"⚠ {spent} support at most {supported:g} credits: enter the time "
                                         "you actually spent, or claim less.")
        else:
            self.supported_label.setText("")

    def _set_row(self, field: QWidget, visible: bool) -> None:
        self.form.setRowVisible(field, visible)

    def _update_claim_button(self, *_args) -> None:
        state = self.state
        ok = bool(state and state.can_claim and self.attest_check.isChecked())
        self.claim_button.setEnabled(ok)
        if state is not None and state.can_claim and not self.attest_check.isChecked():
            self.claim_button.setToolTip("Tick the attestation first")
        else:
            self.claim_button.setToolTip("Record your claim; it is sent to the credit server at the next sync")

    # -------------------------------------------------------------- claim

    def claim_values(self) -> tuple[float, int | None, bool]:
        o = self.state.claim_options
        if o.kind == "ama":
            credits = float(self.credits_combo.currentData())
        elif o.kind == "pharmacy":
            credits = float(o.fixed_contact_hours)
        else:
            credits = float(o.choices[0]) if o.choices else 0.0
        minutes = self.minutes_spin.value() if o.kind in ("ama", "participation") and self.minutes_spin.value() \
            else None
        return credits, minutes, self.consent_check.isChecked()

    def claim(self) -> None:
        if self.services is None or self.activity_id is None or self.state is None or not self.state.can_claim:
            return
        if not self.attest_check.isChecked():
            self.claim_note.setText("Tick the attestation first.")
            return
        credits, minutes, consent = self.claim_values()
        services, activity_id, gen = self.services, self.activity_id, self._generation
        self.claim_button.setEnabled(False)
        self.claim_note.setText("Recording your claim…")

        def done(info) -> None:
            if gen == self._generation:
                self.claim_note.setText("")
                self.attest_check.setChecked(False)
                self.changed.emit()
            self.claim_finished.emit(info)

        def failed(exc) -> None:
            if gen == self._generation:
                self.claim_note.setText(f"⚠ Refused: {locked_text(exc)}")
                self._update_claim_button()
            self.claim_finished.emit(exc)

        run_write(self, lambda: services.claim_credit(activity_id, credits, minutes, consent), done, failed)

    # -------------------------------------------------------------- certificate

    def _certificate_id(self) -> str | None:
        c = self.state.completion if self.state else None
        return c.certificate_id if c is not None else None

    def open_certificate(self):
        cert = self._certificate_id()
        if cert is None:
            return None
        path, message = certificate_actions.open_certificate(self.services, cert)
        self.cert_note.setText(message)
        return path

    def _save(self, *, signed: bool) -> None:
        cert = self._certificate_id()
        if cert is not None:
            certificate_actions.save_certificate_as(self, self.services, cert, signed=signed,
                                                    on_message=self.cert_note.setText)

    def print_certificate(self) -> None:
        cert = self._certificate_id()
        if cert is not None:
            self.cert_note.setText(certificate_actions.print_certificate(self, self.services, cert))
