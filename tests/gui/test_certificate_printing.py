"""Printing and opening a certificate kept on this computer, honestly (issue 9): "Print…"
goes through the system print dialog and puts the certificate's pages on the printer, scaled
to fit; "Open certificate", on My credits and on the activity's Credit tab alike, never
claims a viewer opened it when none can, and offers "Save as…". The printer here is Qt's own
PDF output; the certificate comes from the real server on loopback."""

from __future__ import annotations

import io
import os
import sys
import stat

import pypdfium2
import pytest
from PIL import ImageOps
from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinter

from desktop.views import certificate_actions
from desktop.views.activity.page import CREDIT_TAB
from desktop.views.main_window import CREDITS
from tests.gui.test_learning_gui import T, make_window, open_activity, ready_to_claim, signed_in
from tests.support.activities import DEMO_ID

pytestmark = pytest.mark.gui


@pytest.fixture
def credits_page(qtbot, server, make_services):
    services = signed_in(make_services(server.url))
    ready_to_claim(services)
    services.claim_credit(DEMO_ID, 0.5, 30, True)
    services.sync()
    window = make_window(qtbot, services)
    window.show_section(CREDITS)
    page = window.credits_page
    assert page.select_completion(page.model.rows[0].completion_id)
    return page


@pytest.fixture(params=("my credits", "credit tab"))
def certificate_page(request, qtbot, credits_page):
    """(the certificate's buttons, the label that says what happened) on My credits or on the
    activity's Credit tab."""
    if request.param == "my credits":
        return credits_page.certificate, credits_page.message
    page = open_activity(credits_page.window())
    page.tabs.setCurrentIndex(CREDIT_TAB)
    credit = page.credit_tab
    qtbot.waitUntil(credit.open_button.isEnabled, timeout=T)
    return credit.certificate, credit.cert_note


def certificate_bytes(page) -> bytes:
    return page.services.certificate_pdf(page.model.rows[0].certificate_id)


def inked(pdf: bytes, index: int = 0):
    """A page rendered grey and cropped to its ink: what is drawn, wherever the paper's margins put it."""
    page = pypdfium2.PdfDocument(pdf)[index].render(scale=1.5).to_pil().convert("L")
    return page.crop(ImageOps.invert(page).getbbox())


def test_print_sends_every_page_of_the_certificate_through_the_print_dialog_scaled_to_fit(
        credits_page, monkeypatch, tmp_path, qtbot):
    out = tmp_path / "printed.pdf"
    dialogs = []

    def print_to_file(parent, printer):  # the user picks "Print to file (PDF)" in the dialog
        dialogs.append(printer.pageLayout().orientation())
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(out))
        return True

    monkeypatch.setattr(certificate_actions, "ask_print", print_to_file)
    credits_page.print_button.click()

    qtbot.waitUntil(lambda: credits_page.message.text() == f"Printed to the file {out}.", timeout=T)
    assert len(dialogs) == 1 and dialogs[0].name == "Landscape"  # set up for the certificate's shape
    printed, original = out.read_bytes(), certificate_bytes(credits_page)
    reader = PdfReader(io.BytesIO(printed))
    assert len(reader.pages) == len(PdfReader(io.BytesIO(original)).pages) == 1
    box = reader.pages[0].mediabox
    assert box.width > box.height  # landscape paper
    # The page drawn on the printer is the certificate, whole and in its shape, only scaled.
    drawn, certificate = inked(printed), inked(original)
    assert drawn.width / drawn.height == pytest.approx(certificate.width / certificate.height, rel=0.02)
    paper_w, paper_h = (side * 1.5 for side in pypdfium2.PdfDocument(printed)[0].get_size())
    assert max(drawn.width / paper_w, drawn.height / paper_h) > 0.85  # scaled up to the paper, not a corner of it
    a = drawn.resize((176, 136)).get_flattened_data()
    b = certificate.resize((176, 136)).get_flattened_data()
    difference = sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)
    assert difference < 8, difference


def test_cancelling_the_print_dialog_prints_nothing_and_says_so(certificate_page, monkeypatch, qtbot):
    buttons, message = certificate_page
    monkeypatch.setattr(certificate_actions, "ask_print", lambda parent, printer: False)
    buttons.print_button.click()
    qtbot.waitUntil(lambda: message.text() == "Printing cancelled.", timeout=T)


def test_print_pdf_scales_each_page_to_fit_the_paper(qapp, tmp_path):
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    for n in (1, 2, 3):
        pdf.add_page()
        pdf.set_font("helvetica", size=40)
        pdf.cell(0, 20, f"Page {n}")
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "three.pdf"))
    assert certificate_actions.print_pdf(bytes(pdf.output()), printer) == 3
    assert len(PdfReader(tmp_path / "three.pdf").pages) == 3


def test_open_says_when_nothing_can_open_a_pdf_and_offers_save_as(
        certificate_page, credits_page, monkeypatch, tmp_path, qtbot):
    buttons, message = certificate_page
    monkeypatch.setattr(certificate_actions, "open_url", lambda url: False)  # no PDF viewer here
    offered = []
    monkeypatch.setattr(certificate_actions, "ask_save_instead", lambda parent, text: offered.append(text) or True)
    target = tmp_path / "kept" / "my-certificate.pdf"
    monkeypatch.setattr(certificate_actions, "ask_save_path", lambda *a: str(target))

    buttons.open_button.click()
    qtbot.waitUntil(lambda: message.text().startswith("Saved to"), timeout=T)
    assert len(offered) == 1 and "Nothing on this computer can open PDF files" in offered[0]
    assert target.read_bytes() == certificate_bytes(credits_page)
    assert "viewer" not in message.text()


def test_open_never_claims_a_viewer_opened_it_when_none_can(certificate_page, monkeypatch, qtbot):
    buttons, message = certificate_page
    monkeypatch.setattr(certificate_actions, "open_url", lambda url: False)
    monkeypatch.setattr(certificate_actions, "ask_save_instead", lambda parent, text: False)
    buttons.open_button.click()
    qtbot.waitUntil(lambda: message.text() == certificate_actions.NO_VIEWER, timeout=T)


def _fake_xdg_mime(folder, answer: str) -> None:
    script = folder / "xdg-mime"
    script.write_text(f"#!/bin/sh\nprintf '%s' '{answer}'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the freedesktop MIME database is Linux's")
def test_no_pdf_application_in_the_mime_database_means_no_viewer(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    _fake_xdg_mime(tmp_path, "")
    assert not certificate_actions.pdf_viewer_known()
    from PySide6.QtCore import QUrl

    assert not certificate_actions.open_url(QUrl.fromLocalFile(str(tmp_path / "c.pdf")))
    _fake_xdg_mime(tmp_path, "org.gnome.Evince.desktop\n")
    assert certificate_actions.pdf_viewer_known()
