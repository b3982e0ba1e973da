"""Open, save and print a certificate kept on this computer (offline), for the Credit tab and
My credits (their buttons: certificate_buttons.py).

The PDF is read out of the cache only when the learner opens, saves or prints it, and then
on the task pool, never on the GUI thread (a large blob in a busy database). Opening writes
it to a private temporary folder and hands that file to the system; when nothing on this
computer opens PDF files the learner is told so and offered "Save as…", never told it
opened. Printing goes through the system print dialog: the PDF's pages are rendered with
PDFium (pypdfium2, as PySide6-Essentials has no QtPdf) and drawn on the QPrinter, page by
page, scaled to fit. Dialogs and the system hand-off are module functions so tests can
replace them.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QRectF, QUrl
from PySide6.QtGui import QDesktopServices, QImage, QPainter
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from cmecore.private_files import open_private, private_dir
from desktop.errors import CERTIFICATE_NOT_HERE, CmeError
from desktop.views.file_dialogs import start_path
from desktop.views.tasks import run_task
from desktop.views.text import error_text

log = logging.getLogger(__name__)

NO_VIEWER = ("Nothing on this computer can open PDF files, so the certificate was not shown. "
             "Save it with “Save PDF…” to keep or send it, or install a PDF viewer.")
OPENED = "The certificate was handed to your PDF viewer."
PRINT_DPI_MAX = 300  # enough for text on paper; 600 dpi pages would cost 130 MB each


def open_url(url: QUrl) -> bool:
    """Hand a file or link to the system; False when nothing here will open it (tests replace this)."""
    if url.isLocalFile() and url.toLocalFile().lower().endswith(".pdf") and not pdf_viewer_known():
        return False
    return QDesktopServices.openUrl(url)


def pdf_viewer_known() -> bool:
    """False only when the freedesktop MIME database says no application opens PDF files
    (Qt would start xdg-open, which then fails where nobody sees it). Elsewhere, or when it
    cannot be asked, QDesktopServices' own answer decides."""
    if not sys.platform.startswith("linux") or shutil.which("xdg-mime") is None:
        return True
    try:
        out = subprocess.run(["xdg-mime", "query", "default", "application/pdf"], capture_output=True,
                             text=True, timeout=3, check=False)
    except (OSError, subprocess.SubprocessError):
        return True
    return bool(out.stdout.strip())


def ask_print(parent: QWidget, printer) -> bool:
    """The system print dialog for `printer`; False when cancelled (tests replace this)."""
    from PySide6.QtPrintSupport import QPrintDialog  # start-up speed: only printing needs QtPrintSupport

    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle("Print the certificate")
    return dialog.exec() == QPrintDialog.DialogCode.Accepted


def ask_save_instead(parent: QWidget, text: str) -> bool:
    """Offer "Save as…" when the certificate could not be opened; True to save (tests replace this)."""
    box = QMessageBox(QMessageBox.Icon.Information, "Open certificate", text, QMessageBox.StandardButton.Cancel, parent)
    save = box.addButton("Save as…", QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(save)
    box.exec()
    return box.clickedButton() is save


def ask_save_path(parent: QWidget, title: str, suggested: str, filters: str) -> str:
    """A save-file dialog, opening in Documents with `suggested` as the name; '' when
    cancelled (tests replace this)."""
    path, _ = QFileDialog.getSaveFileName(parent, title, start_path(suggested), filters)
    return path


def ask_open_path(parent: QWidget, title: str, filters: str) -> str:
    """An open-file dialog, opening in Documents; '' when cancelled (tests replace this)."""
    path, _ = QFileDialog.getOpenFileName(parent, title, start_path(), filters)
    return path


def certificate_dir() -> Path:
    """A folder only this OS user can read, under the system's temporary folder."""
    path = Path(tempfile.gettempdir()) / f"cme-offline-certificates-{_user_tag()}"
    private_dir(path)
    if hasattr(os, "getuid") and (path.is_symlink() or path.stat().st_uid != os.getuid()):
        # another account made that name first in the shared /tmp: use a fresh folder of our own
        return Path(tempfile.mkdtemp(prefix="cme-offline-certificates-"))
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
    with os.fdopen(open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "wb") as fh:
        fh.write(pdf)
    os.replace(tmp, path)
    return path


def _failure(action: str, exc: BaseException) -> str:
    """Words for a failed open or print (the cause in the log when the services did not name it)."""
    if not isinstance(exc, CmeError):
        log.error("could not %s a certificate", action, exc_info=exc)
    return f"Could not {action} the certificate. {error_text(exc)}"


def _save_failure(path: str, exc: BaseException) -> str:
    """A folder the learner chose may refuse the file: say where and why in the OS's words."""
    if isinstance(exc, OSError):
        return f"Could not save to {path}: {exc.strerror or exc}."
    return _failure("save", exc)


NO_VIEWER_QUESTION = ("Nothing on this computer can open PDF files, so the certificate was not shown. "
                      "Save it somewhere to keep or send it?")
OPENING = "Opening the certificate…"


def _always() -> bool:
    return True


def open_or_offer_save(parent: QWidget, services, certificate_id: str, on_message, still=_always) -> None:
    """Write the PDF out on the task pool, then hand it to the system viewer; when nothing here
    can open it, say so and offer "Save as…". `on_message` gets what happened, in words;
    nothing is shown or said when it is done unless `still()` (e.g. the same learner is here)."""
    on_message(OPENING)
    run_task(parent, lambda: write_temp_pdf(services, certificate_id),
             lambda path: _hand_over(parent, services, certificate_id, path, on_message, still),
             lambda exc: still() and on_message(_failure("open", exc)))


def _hand_over(parent: QWidget, services, certificate_id: str, path: Path | None, on_message, still) -> None:
    if not still():  # another learner is here now: their screen shows nothing of this one's
        return
    if path is None:
        on_message(CERTIFICATE_NOT_HERE)
        return
    if open_url(QUrl.fromLocalFile(str(path))):
        on_message(OPENED)
        return
    on_message(NO_VIEWER)
    if ask_save_instead(parent, NO_VIEWER_QUESTION):
        save_certificate_as(parent, services, certificate_id, signed=False, on_message=on_message, still=still)


def print_certificate(parent: QWidget, services, certificate_id: str, on_message, still=_always) -> None:
    """Read the PDF on the task pool, then print it through the system print dialog;
    `on_message` gets what happened, in words for the learner (nothing unless `still()`)."""
    run_task(parent, lambda: services.certificate_pdf(certificate_id),
             lambda pdf: still() and on_message(print_document(parent, certificate_id, pdf)),
             lambda exc: still() and on_message(_failure("print", exc)))


def print_document(parent: QWidget, certificate_id: str, pdf: bytes | None) -> str:
    """Print `pdf` through the system print dialog; returns what happened, in words.

    On the GUI thread: the dialog is modal, and a one-page certificate renders in a moment."""
    from PySide6.QtPrintSupport import QPrinter  # start-up speed: only printing needs QtPrintSupport

    if not pdf:
        return CERTIFICATE_NOT_HERE
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(f"certificate-{certificate_id}")
    printer.setPageOrientation(page_orientation(pdf))
    if not ask_print(parent, printer):
        return "Printing cancelled."
    pages = print_pdf(pdf, printer)
    if pages == 0:
        return "The certificate could not be printed: the printer could not be started."
    if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat:
        return f"Printed to the file {printer.outputFileName()}."
    where = printer.printerName() or "the printer"
    return f"Sent the certificate ({pages} page{'s' * (pages != 1)}) to {where}."


def page_orientation(pdf: bytes):
    """Landscape when the PDF's first page is wider than tall."""
    import pypdfium2  # start-up speed: PDFium loads only when a certificate is printed
    from PySide6.QtGui import QPageLayout  # start-up speed, as above

    doc = pypdfium2.PdfDocument(pdf)
    try:
        width, height = doc[0].get_size()
    finally:
        doc.close()
    return QPageLayout.Orientation.Landscape if width > height else QPageLayout.Orientation.Portrait


def print_pdf(pdf: bytes, printer) -> int:
    """Draw every page of `pdf` on `printer`, each scaled to fit its page and centred; the
    number of pages printed (0 when the printer could not be started)."""
    import pypdfium2  # start-up speed: PDFium loads only when a certificate is printed

    doc = pypdfium2.PdfDocument(pdf)
    painter = QPainter()
    if not painter.begin(printer):
        doc.close()
        return 0
    try:
        dpi = min(printer.resolution(), PRINT_DPI_MAX)
        for index in range(len(doc)):
            if index:
                printer.newPage()
            page = doc[index]
            bitmap = page.render(scale=dpi / 72, rev_byteorder=True, prefer_bgrx=True, optimize_mode="print")
            image = QImage(bitmap.buffer, bitmap.width, bitmap.height, bitmap.stride, QImage.Format.Format_RGBX8888)
            painter.drawImage(_fitted(painter.viewport().size(), image.size()), image)
        return len(doc)
    finally:
        painter.end()
        doc.close()


def _fitted(area, size) -> QRectF:
    """`size` scaled to fit `area`, keeping its shape, centred."""
    scale = min(area.width() / size.width(), area.height() / size.height())
    w, h = size.width() * scale, size.height() * scale
    return QRectF((area.width() - w) / 2, (area.height() - h) / 2, w, h)


def save_certificate_as(parent: QWidget, services, certificate_id: str, *, signed: bool, on_message,
                        still=_always) -> None:
    """Ask where, then write the PDF (or the signed JSON credential) off the GUI thread (what
    happened said only if `still()`)."""
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
             lambda p: still() and on_message(f"Saved to {p}."),
             lambda exc: still() and on_message(_save_failure(path, exc)))
