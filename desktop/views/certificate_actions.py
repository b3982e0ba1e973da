"""Open, save and print a certificate kept on this computer (offline), for the credit tab
and My credits.

Opening writes the cached PDF to a private temporary folder and hands it to the system's
PDF viewer. Printing renders the PDF with QtPdf when this Qt has it (PySide6-Essentials
does not); otherwise the PDF opens in the system viewer to print from there, and the
learner is told so. Dialogs and the system hand-off are module functions so tests can
replace them.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QPainter
from PySide6.QtWidgets import QFileDialog, QWidget

from desktop.views.tasks import run_task

log = logging.getLogger(__name__)


def open_url(url: QUrl) -> bool:
    """Hand a file or link to the system (tests replace this)."""
    return QDesktopServices.openUrl(url)


def ask_save_path(parent: QWidget, title: str, suggested: str, filters: str) -> str:
    """A save-file dialog; '' when cancelled (tests replace this)."""
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, filters)
    return path


def ask_open_path(parent: QWidget, title: str, filters: str) -> str:
    """An open-file dialog; '' when cancelled (tests replace this)."""
    path, _ = QFileDialog.getOpenFileName(parent, title, "", filters)
    return path


def certificate_dir() -> Path:
    """A folder only this OS user can read, under the system's temporary folder."""
    path = Path(tempfile.gettempdir()) / f"cme-offline-certificates-{_user_tag()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _user_tag() -> str:
    try:
        return str(os.getuid())
    except AttributeError:  # Windows: the temp folder is already per user
        return "user"


def write_temp_pdf(services, certificate_id: str) -> Path | None:
    """The certificate's PDF written to the private temp folder, or None if not on this computer."""
    pdf = services.certificate_pdf(certificate_id)
    if not pdf:
        return None
    path = certificate_dir() / f"certificate-{certificate_id}.pdf"
    tmp = path.with_suffix(".pdf.part")
    tmp.write_bytes(pdf)
    os.replace(tmp, path)
    return path


def open_certificate(services, certificate_id: str) -> tuple[Path | None, str]:
    """Open the PDF in the system viewer; (path, message for the learner)."""
    path = write_temp_pdf(services, certificate_id)
    if path is None:
        return None, "This certificate is not on this computer yet. Sync, then try again."
    if not open_url(QUrl.fromLocalFile(str(path))):
        return path, f"No PDF viewer could be started. The certificate is at {path}."
    return path, "The certificate opened in your PDF viewer."


def qtpdf_available() -> bool:
    try:
        from PySide6 import QtPdf, QtPrintSupport  # noqa: F401
    except ImportError:
        return False
    return True


def print_certificate(parent: QWidget, services, certificate_id: str) -> str:
    """Print with Qt if it can render PDFs; else open the system viewer. Returns what happened."""
    if not qtpdf_available():
        path, message = open_certificate(services, certificate_id)
        if path is None:
            return message
        return ("This app cannot print PDFs by itself, so the certificate opened in your PDF viewer: "
                "print it from there (Ctrl+P).")
    path = write_temp_pdf(services, certificate_id)
    if path is None:
        return "This certificate is not on this computer yet. Sync, then try again."
    return _print_with_qtpdf(parent, path)  # pragma: no cover (needs PySide6-Addons)


def _print_with_qtpdf(parent: QWidget, path: Path) -> str:  # pragma: no cover
    from PySide6.QtPdf import QPdfDocument  # optional dependency (PySide6-Addons), only when printing
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter  # optional dependency, with QtPdf

    doc = QPdfDocument(parent)
    doc.load(str(path))
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dialog = QPrintDialog(printer, parent)
    if dialog.exec() != QPrintDialog.DialogCode.Accepted:
        return "Printing cancelled."
    painter = QPainter(printer)
    try:
        for page in range(doc.pageCount()):
            if page:
                printer.newPage()
            rect = painter.viewport()
            size = doc.pagePointSize(page).toSize().scaled(rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
            image = doc.render(page, size)
            painter.drawImage(0, 0, image)
    finally:
        painter.end()
    return "Sent to the printer."


def save_certificate_as(parent: QWidget, services, certificate_id: str, *, signed: bool, on_message) -> None:
    """Ask where, then write the PDF (or the signed JSON credential) off the GUI thread."""
    if signed:
        path = ask_save_path(parent, "Save the signed certificate", f"certificate-{certificate_id}.json",
                             "Signed certificate (*.json)")
    else:
        path = ask_save_path(parent, "Save the certificate", f"certificate-{certificate_id}.pdf", "PDF (*.pdf)")
    if not path:
        return
    if signed and not path.lower().endswith(".json"):
        path += ".json"
    if not signed and not path.lower().endswith(".pdf"):
        path += ".pdf"
    on_message("Saving…")
    run_task(parent, lambda: services.export_certificate(certificate_id, path),
             lambda p: on_message(f"Saved to {p}."),
             lambda exc: on_message(f"Could not save: {exc}"))
