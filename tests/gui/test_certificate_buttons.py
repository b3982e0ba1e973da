"""The certificate's buttons are the same on the activity's Credit tab and on My credits
(desktop/views/certificate_buttons.py): the same controls, names and keyboard order, enabled
by one rule — the PDF's three once its PDF is here, the signed certificate as soon as there
is a certificate (during a rush it comes before the PDF) — and neither page reads the PDF out
of the cache on the GUI thread: whether it is here comes with the page's rows, and the PDF is
read when the learner opens it, on the task pool. (Open's "Save as…" when nothing opens a
PDF, on both pages: tests/gui/test_certificate_printing.py.)

The real server on loopback holds a certificate's PDF back as in a deadline rush
(`finisher.while_issuing`), not mocked; the one thing wrapped is `Services.certificate_pdf`,
to see which thread reads the PDF."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from desktop.errors import CERTIFICATE_NOT_HERE
from desktop.views import certificate_actions
from desktop.views.activity.page import CREDIT_TAB
from desktop.views.certificate_buttons import CertificateButtons
from desktop.views.learning_text import NOT_HERE_WORDS
from desktop.views.main_window import CREDITS
from tests.credit.conftest import sql
from tests.gui.test_learning_gui import T, make_window, open_activity, ready_to_claim, signed_in
from tests.support.activities import DEMO_ID

pytestmark = pytest.mark.gui

NAMES = ["Open certificate", "Save PDF", "Save signed certificate", "Print"]
WITH_PDF = [True, True, True, True]
SIGNED_ONLY = [False, False, True, False]  # the signed certificate can be saved before its PDF is here


def claimed_and_synced(make_services, server):
    services = signed_in(make_services(server.url))
    ready_to_claim(services)
    services.claim_credit(DEMO_ID, 0.5, 30, True)
    services.sync()
    return services


def pdf_reads_on_the_gui_thread(monkeypatch, services) -> list[str]:
    """The certificates whose PDF was read on the GUI thread (reads elsewhere go through)."""
    on_gui_thread = []
    read = services.certificate_pdf

    def watched(certificate_id):
        if threading.current_thread() is threading.main_thread():
            on_gui_thread.append(certificate_id)
        return read(certificate_id)

    monkeypatch.setattr(services, "certificate_pdf", watched)
    return on_gui_thread


def both_pages(qtbot, services):
    """The window, its activity page's Credit tab and My credits with the claim selected."""
    window = make_window(qtbot, services, courier=False)
    page = open_activity(window)
    page.tabs.setCurrentIndex(CREDIT_TAB)
    credit = page.credit_tab
    qtbot.waitUntil(lambda: credit.status_label.text().startswith("Accepted"), timeout=T)
    window.show_section(CREDITS)
    mine = window.credits_page
    assert mine.select_completion(mine.model.rows[0].completion_id)
    return window, credit, mine


def shown(buttons: CertificateButtons) -> tuple[list[str], list[bool]]:
    return [b.accessibleName() for b in buttons.buttons], [b.isEnabled() for b in buttons.buttons]


def test_both_pages_show_the_same_buttons_for_a_certificate_with_its_pdf_and_read_it_only_to_open_it(
        qtbot, server, make_services, monkeypatch, opened):
    services = claimed_and_synced(make_services, server)
    on_gui_thread = pdf_reads_on_the_gui_thread(monkeypatch, services)
    _window, credit, mine = both_pages(qtbot, services)

    assert isinstance(credit.certificate, CertificateButtons) and isinstance(mine.certificate, CertificateButtons)
    assert shown(credit.certificate) == shown(mine.certificate) == (NAMES, WITH_PDF)
    assert credit.status_label.text() == "Accepted — certificate ready"
    assert on_gui_thread == []  # neither page read the PDF to show its buttons

    certificate_id = mine.model.rows[0].certificate_id
    credit.open_button.click()
    qtbot.waitUntil(lambda: credit.cert_note.text() == certificate_actions.OPENED, timeout=T)
    assert Path(opened[-1].toLocalFile()).read_bytes() == services.credits.certificate_pdf(certificate_id)
    assert on_gui_thread == []  # read for opening, on the task pool


def test_both_pages_show_the_same_buttons_while_the_pdf_is_not_here_and_save_the_signed_form(
        qtbot, server, make_services, monkeypatch, tmp_path):
    with server.app.state.finisher.while_issuing():  # a rush: the server holds the PDF back
        services = claimed_and_synced(make_services, server)
        on_gui_thread = pdf_reads_on_the_gui_thread(monkeypatch, services)
        _window, credit, mine = both_pages(qtbot, services)

        assert shown(credit.certificate) == shown(mine.certificate) == (NAMES, SIGNED_ONLY)
        assert credit.status_label.text() == NOT_HERE_WORDS and CERTIFICATE_NOT_HERE in credit.note_label.text()
        assert mine.model.index(0, 4).data() == NOT_HERE_WORDS
        assert on_gui_thread == []

        for buttons, message, name in ((credit.certificate, credit.cert_note, "tab"),
                                       (mine.certificate, mine.message, "mine")):
            target = tmp_path / f"signed-{name}.json"
            monkeypatch.setattr(certificate_actions, "ask_save_path", lambda *a, target=target: str(target))
            buttons.save_json_button.click()
            qtbot.waitUntil(lambda message=message: message.text().startswith("Saved to"), timeout=T)
            assert services.verify_certificate_file(target).valid


def test_a_certificate_not_kept_here_at_all_shows_the_same_state_on_both_pages_without_raising(
        qtbot, server, make_services, monkeypatch, tmp_path):
    services = claimed_and_synced(make_services, server)
    window, credit, mine = both_pages(qtbot, services)
    sql(services, "DELETE FROM certificates")  # lost, as a crash or a tamperer would lose it
    on_gui_thread = pdf_reads_on_the_gui_thread(monkeypatch, services)
    window.events.learning_changed.emit(None)  # both pages read the learner's records again

    qtbot.waitUntil(lambda: credit.status_label.text() == NOT_HERE_WORDS, timeout=T)
    assert mine.select_completion(mine.model.rows[0].completion_id)
    assert shown(credit.certificate) == shown(mine.certificate) == (NAMES, SIGNED_ONLY)
    assert on_gui_thread == []
    monkeypatch.setattr(certificate_actions, "ask_save_path", lambda *a: str(tmp_path / "signed.json"))
    credit.save_json_button.click()
    qtbot.waitUntil(lambda: credit.cert_note.text() == f"Could not save the certificate. {CERTIFICATE_NOT_HERE}", timeout=T)
    mine.certificate.open()  # as a double click on the row does
    qtbot.waitUntil(lambda: mine.message.text() == CERTIFICATE_NOT_HERE, timeout=T)


def test_a_certificate_opened_just_before_the_learner_leaves_does_not_open_for_the_next(
        qtbot, server, make_services, monkeypatch, opened):
    """The PDF is read on the task pool: if the learner is locked out (idle lock, a switch)
    before it is read, nothing of theirs opens or is said on the screen the next person sees."""
    services = claimed_and_synced(make_services, server)
    _window, credit, mine = both_pages(qtbot, services)
    reading, go_on = threading.Event(), threading.Event()
    write = certificate_actions.write_temp_pdf

    def held(*args):  # the PDF read while the learner is here, handed back after they left
        path = write(*args)
        reading.set()
        assert go_on.wait(T / 1000)
        return path

    handed_back = []
    hand_over = certificate_actions._hand_over

    def watched(*args):
        handed_back.append(True)
        return hand_over(*args)

    monkeypatch.setattr(certificate_actions, "write_temp_pdf", held)
    monkeypatch.setattr(certificate_actions, "_hand_over", watched)
    mine.open_button.click()
    assert reading.wait(T / 1000)
    services.lock()  # the learner walked away; the idle lock took the screen
    go_on.set()
    qtbot.waitUntil(lambda: bool(handed_back), timeout=T)  # the read came back to the GUI thread
    assert opened == []
    assert mine.message.text() != certificate_actions.OPENED
