"""The certificate's buttons, built once for the Credit tab and My credits so both offer the
same things under the same rules: Open certificate, Save PDF…, Save signed certificate…,
Print…, in that keyboard order.

One rule for what is enabled: the PDF's three once its PDF is here; the signed certificate
as soon as the claim has a certificate, since during a rush it comes before the PDF (saving
says so if it is not here either). One behaviour (certificate_actions): opening offers
"Save as…" when nothing here opens a PDF and never says "opened" unless something was.
Whether the PDF is here comes from the page's row (a CompletionInfo or a CreditRow, which the
services fill without reading the PDF); the PDF itself is read only when the learner opens,
saves or prints it, on the task pool.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QWidget

from desktop.views import certificate_actions
from desktop.views.widgets import push_button


class CertificateButtons:
    """The four buttons on `parent` and what they do for the certificate `show` names.

    `what` names the certificate in the tooltips ("the certificate", "the selected
    certificate"); `on_message` shows what happened, in words; `none_chosen` is said when
    one is pressed (or the page asks to open) with no certificate to act on."""

    def __init__(self, parent: QWidget, on_message: Callable[[str], None], *, what: str = "the certificate",
                 none_chosen: str = ""):
        self.parent = parent
        self.on_message = on_message
        self.none_chosen = none_chosen
        self.services = None
        self.certificate_id: str | None = None
        self.open_button = push_button(parent, "Open certificate", f"Open {what} in your PDF viewer (works offline)",
                                       self.open)
        self.save_button = push_button(parent, "Save PDF…", f"Save {what} as a PDF", lambda: self.save(signed=False))
        self.save_json_button = push_button(parent, "Save signed certificate…",
                                            f"Save {what}'s signed form (JSON), which anyone can verify without "
                                            "the server", lambda: self.save(signed=True))
        self.print_button = push_button(parent, "Print…", f"Print {what}", self.print_certificate)
        self.row = QHBoxLayout()
        for button in self.buttons:
            self.row.addWidget(button)
        self.row.addStretch(1)
        self.show(None, None, pdf_here=False)

    @property
    def buttons(self) -> tuple:
        """Open, Save PDF, Save signed, Print: the keyboard order."""
        return self.open_button, self.save_button, self.save_json_button, self.print_button

    def show(self, services, certificate_id: str | None, *, pdf_here: bool) -> None:
        """Act on this certificate (None: none), whose PDF is kept here or not yet."""
        self.services, self.certificate_id = services, certificate_id
        has_certificate = services is not None and certificate_id is not None
        for button in (self.open_button, self.save_button, self.print_button):
            button.setEnabled(has_certificate and pdf_here)
        self.save_json_button.setEnabled(has_certificate)

    def _chosen(self) -> str | None:
        if self.services is None or self.certificate_id is None:
            if self.none_chosen:
                self.on_message(self.none_chosen)
            return None
        return self.certificate_id

    def _still(self, certificate_id: str):
        """Whether what was asked for this certificate may still be shown: the same services,
        certificate and learner (not switched, signed out or locked since) — the PDF is read
        on the task pool, and one learner's certificate never opens on another's screen."""
        services = self.services
        asked_by = services.current_learner()
        learner_id = asked_by.id if asked_by is not None else None

        def still() -> bool:
            now = services.current_learner()
            return (self.services is services and self.certificate_id == certificate_id
                    and now is not None and now.id == learner_id)
        return still

    def open(self) -> None:
        certificate_id = self._chosen()
        if certificate_id is not None:
            certificate_actions.open_or_offer_save(self.parent, self.services, certificate_id, self.on_message,
                                                   self._still(certificate_id))

    def save(self, *, signed: bool) -> None:
        certificate_id = self._chosen()
        if certificate_id is not None:
            certificate_actions.save_certificate_as(self.parent, self.services, certificate_id, signed=signed,
                                                    on_message=self.on_message, still=self._still(certificate_id))

    def print_certificate(self) -> None:
        certificate_id = self._chosen()
        if certificate_id is not None:
            certificate_actions.print_certificate(self.parent, self.services, certificate_id, self.on_message,
                                                  self._still(certificate_id))
