"""The Evaluation & credit tab: the evaluation (rule 5), then the claim (rules 6 and 8).

Four parts, top to bottom: where the claim stands (with the certificate once accepted),
"Your commitments" once a reminder was asked for (activity/commitments_box.py), the
evaluation (activity/evaluation_box.py) and the claim form (activity/claim_box.py).
After Claim the tab says "Waiting to sync"; after a sync, "Accepted — certificate ready"
with the certificate's buttons (certificate_buttons.py, the same as on My credits), or
"Refused by the server: <reason>" — never silently.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGroupBox, QScrollArea, QVBoxLayout, QWidget

from desktop.learning.claim_form import next_steps
from desktop.views.activity.claim_box import ClaimBox
from desktop.views.activity.commitments_box import CommitmentsBox
from desktop.views.activity.evaluation_box import EvaluationBox
from cmecore.rules.wording import credits_text
from desktop.errors import CERTIFICATE_NOT_HERE
from desktop.views.certificate_buttons import CertificateButtons
from desktop.views.focus import focus_text, holds_focus, order_tab_chain
from desktop.views.learning_text import LOCKED, NOT_HERE_WORDS
from desktop.views.widgets import plain_label


class CreditTab(QWidget):
    changed = Signal()  # the evaluation was submitted or a claim was made: the page re-reads the state
    claim_finished = Signal(object)  # CompletionInfo, or the exception

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAccessibleName("Evaluation and credit")
        self.services = None
        self.activity_id: str | None = None
        self.state = None
        self._status_takes_focus = False  # a claim was just made by keyboard: say its status there

        self.status_label = plain_label("", self, name="Credit status", heading=True)
        self.note_label = plain_label("", self, name="What to do next")
        self.evaluation = EvaluationBox(self)
        self.evaluation.submitted.connect(self.changed)
        self.claim = ClaimBox(self)
        self.claim.claimed.connect(self._claimed)
        self.claim.claim_finished.connect(self.claim_finished)
        self.commitments = CommitmentsBox(self)  # rule 5: the commitments and their reminder

        # ---- certificate
        self.cert_box = QGroupBox("Certificate", self)
        self.cert_box.setAccessibleName("Certificate")
        self.cert_box.setToolTip("Your certificate, kept on this computer for offline printing")
        self.certificate = CertificateButtons(self.cert_box, lambda text: self.cert_note.setText(text))
        self.open_button, self.save_button, self.save_json_button, self.print_button = self.certificate.buttons
        self.cert_note = plain_label("", self.cert_box, name="Certificate message")
        cb = QVBoxLayout(self.cert_box)
        cb.addLayout(self.certificate.row)
        cb.addWidget(self.cert_note)

        body = QWidget()
        body.setMaximumWidth(1000)
        v = QVBoxLayout(body)
        v.addWidget(self.status_label)
        v.addWidget(self.note_label)
        v.addWidget(self.cert_box)
        v.addWidget(self.commitments)
        v.addWidget(self.evaluation)
        v.addWidget(self.claim)
        v.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        scroll.setAccessibleName("Evaluation and credit")
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no invisible Tab stop; PageDown still scrolls
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self.show_state(None, None, None, "")

    # -------------------------------------------------------------- state

    def set_activity(self, services, activity_id: str | None) -> None:
        """Another activity or learner: rebuild the evaluation and restore what was saved."""
        self.services, self.activity_id = services, activity_id
        self.evaluation.set_activity(services, activity_id)
        self.claim.set_activity(services, activity_id)
        order_tab_chain(self)  # the evaluation's form is new: Tab in reading order, Submit after it

    def _claimed(self) -> None:
        self._status_takes_focus = holds_focus(self.claim)
        self.changed.emit()

    def show_state(self, services, activity_id: str | None, state, note: str = "") -> None:
        if activity_id != self.activity_id or services is not self.services:
            self.set_activity(services, activity_id)
        self.state = state
        if state is None:
            self.status_label.setText("")
            self.status_label.setVisible(False)
            self.note_label.setText(note)
            for box in (self.evaluation, self.claim, self.cert_box, self.commitments):
                box.setVisible(False)
            return
        c = state.completion
        self.evaluation.show_state(state, sent=c is not None and c.state in ("pending", "accepted"))
        self._show_completion(state)
        self.status_label.setVisible(bool(self.status_label.text()))
        self.claim.show_state(state)
        self.commitments.show_reminder(services, activity_id)
        order_tab_chain(self)  # the commitments box may have new controls
        if self._status_takes_focus and self.status_label.isVisible():
            self._status_takes_focus = False
            focus_text(self.status_label)  # "Waiting to sync", and what happens next

    def _show_completion(self, state) -> None:
        c = state.completion
        accepted = c is not None and c.state == "accepted"
        self.cert_box.setVisible(accepted)
        self.certificate.show(self.services, c.certificate_id if accepted else None,
                              pdf_here=accepted and c.certificate_here)
        if c is None:
            self.status_label.setText("")
            self.note_label.setText(LOCKED if state.acknowledged_at is None else next_steps(state))
            return
        amount = f"{credits_text(c.credits_claimed)} {c.credit_type}"
        if c.state == "pending":
            self.status_label.setText("Waiting to sync")
            extra = f" The last try did not get through: {c.last_error}" if c.last_error else ""
            self.note_label.setText(f"Your claim for {amount} is saved on this computer and goes to the credit "
                                    f"server at the next sync (Sync now, Ctrl+R).{extra}")
        elif c.state == "accepted":
            ready = bool(c.certificate_id) and c.certificate_here
            self.status_label.setText("Accepted — certificate ready" if ready else NOT_HERE_WORDS)
            self.note_label.setText(f"The credit server accepted your claim for {amount}."
                                    + ("" if ready else f" {CERTIFICATE_NOT_HERE}"))
        else:
            self.status_label.setText(f"Refused by the server: {c.reason or 'no reason given'}")
            self.note_label.setText(
                "Your claim was not accepted. " + ("You can claim again below." if state.can_claim else
                                                   state.claim_reason))
