"""My credits shows one learner's things only: after a switch to another learner, the last
one's verify result, message and selection are gone, and a check still running for them
says nothing when it ends. Real reference server, real switch dialog, offscreen Qt."""

from __future__ import annotations

import pytest

from desktop.views import certificate_actions
from desktop.views.main_window import CREDITS
from desktop.views.tasks import wait_for_tasks
from tests.gui.test_learning_gui import T, make_window, signed_in

pytestmark = pytest.mark.gui


def switch_to(qtbot, window, learner, password: str) -> None:
    next(a for a in window.learner_button.rebuild() if a.data() == learner.id).trigger()
    proof = window.learner_button.switch_dialog
    proof.password_edit.setText(password)
    with qtbot.waitSignal(window.learner_button.switched, timeout=T):
        proof.continue_button.click()


def test_a_verify_result_does_not_stay_for_the_next_learner(qtbot, server, make_services, monkeypatch, tmp_path):
    server.add_learner("bob", "pw", profession="physician", display_name="Dr. Bob")
    services = signed_in(make_services(server.url))
    dana = services.current_learner()
    services.sign_in("bob", "pw")
    bob = services.current_learner()
    window = make_window(qtbot, services)
    window.show_section(CREDITS)
    page = window.credits_page
    forged = tmp_path / "certificate.json"
    forged.write_text('{"not": "a certificate"}')
    monkeypatch.setattr(certificate_actions, "ask_open_path", lambda *a: str(forged))

    page.verify_button.click()
    qtbot.waitUntil(lambda: page.message.text() not in ("", "Checking…"), timeout=T)
    switch_to(qtbot, window, dana, "demo")
    assert services.current_learner().id == dana.id
    assert page.message.text() == "" and page.last_verify is None
    assert page.selected_row() is None

    # A check started for Dana, then a switch to Bob: whichever ends first, Bob sees nothing of it.
    page.verify_button.click()
    switch_to(qtbot, window, bob, "pw")
    assert wait_for_tasks(T)
    qtbot.waitUntil(lambda: page.message.text() == "", timeout=T)
    assert page.last_verify is None
