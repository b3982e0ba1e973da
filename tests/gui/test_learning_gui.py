"""Earning credit offline in the GUI, against the real reference server on loopback (real
SQLite, the real keyring file backend, offscreen Qt). The demo activity: pass mark 75%,
5 questions with shuffled options, unlimited attempts, 80% of the video to watch, an
evaluation with a commitment to change. DOMAIN rules are named where a test checks one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from desktop.errors import WrongCredentials
from desktop.views import certificate_actions
from desktop.views.activity.page import ASSESSMENT_TAB, CREDIT_TAB, LOCKED_TABS, OVERVIEW_TAB, WATCH_TAB
from desktop.views.learning_text import ACK_BUTTON, LOCKED
from desktop.views.main_window import CREDITS, MainWindow
from tests.gui.test_run_gui import _unexplained_controls
from tests.server.credit_support import publish
from tests.support.activities import CORRECT, DEMO_ID, WRONG, activity_doc, today

pytestmark = pytest.mark.gui

VIDEO_MS = 60_000
T = 20_000  # ms to wait for a worker or the server


def make_window(qtbot, services, *, courier: bool = True) -> MainWindow:
    """`courier=False`: claims wait for "Sync now" (tests of the waiting state and of Sync now;
    sending at once and when the server is back: tests/gui/test_status_and_delivery.py)."""
    if not courier:
        services.syncing.start_courier = lambda **_options: None
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    if services.current_learner() is not None:  # the start-up sync runs first: let it finish
        with qtbot.waitSignal(window.sync_finished, timeout=T):
            window.show()
    else:
        window.show()
    return window


def sign_in_gui(qtbot, window, username: str, password: str) -> None:
    """Sign in through the dialog; the window's sync that follows is awaited."""
    dialog = window.open_sign_in()
    dialog.username_edit.setText(username)
    dialog.password_edit.setText(password)
    with qtbot.waitSignal(window.sync_finished, timeout=T, check_params_cb=lambda r: not isinstance(r, Exception)):
        dialog.sign_in_button.click()


def signed_in(services, username="demo", password="demo"):
    services.sign_in(username, password)
    services.sync()
    return services


def watch(services, share: float, activity_id: str = DEMO_ID) -> None:
    services.save_watch_progress(activity_id, int(VIDEO_MS * share), VIDEO_MS, [(0, int(VIDEO_MS * share))])


def ready_to_claim(services, activity_id: str = DEMO_ID) -> None:
    """Rules 1, 4, 5 done through the services (for the tests that are about the claim form)."""
    services.acknowledge_disclosures(activity_id)
    watch(services, 0.9, activity_id)
    view = services.start_attempt(activity_id)
    for qid, options in CORRECT.items():
        services.save_answer(view.id, qid, options)
    services.submit_attempt(view.id)
    services.save_evaluation(activity_id, {"e1": 5, "e2": 4}, {}, ["Ask for a 7-day home log"], submit=True)


def click(qtbot, button) -> None:
    """A real mouse click on a radio button / check box (on its indicator) or a push button."""
    qtbot.waitUntil(button.isVisible, timeout=T)
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(8, button.height() // 2))


def open_activity(window, activity_id: str = DEMO_ID):
    window.open_activity(activity_id)
    return window.activity_page


def take_attempt(qtbot, tab, key: dict) -> object:
    """Answer every question by clicking the option widgets, page by page, then submit."""
    questions = tab.question_page
    n = len(questions.view.questions)
    for i in range(n):
        q = questions.view.questions[questions.index]
        assert questions.progress_label.text() == f"Question {i + 1} of {n}"
        # One answer: exclusive radio buttons; several: check boxes.
        assert all(b.autoExclusive() == (q.kind == "single") for _oid, b in questions.option_buttons)
        for oid, button in questions.option_buttons:
            if oid in key[q.id]:
                with qtbot.waitSignal(tab.answer_saved, timeout=T):
                    click(qtbot, button)
        if i < n - 1:
            click(qtbot, questions.next_button)
    assert not questions.unanswered()
    with qtbot.waitSignal(tab.submitted, timeout=T) as result:
        click(qtbot, questions.submit_button)
    return result.args[0]


# ---------------------------------------------------------------------------------------------


def test_the_whole_learner_path_in_the_gui(qtbot, server, make_services, opened):
    services = make_services(server.url)
    window = make_window(qtbot, services, courier=False)
    sign_in_gui(qtbot, window, "demo", "demo")
    page = open_activity(window)

    # Rule 1: content locked until the disclosures are acknowledged.
    assert all(not page.tabs.isTabEnabled(i) for i in LOCKED_TABS)
    assert "Locked" in page.tabs.tabToolTip(WATCH_TAB)
    assert page.watch_tab.video_column.message.text() == LOCKED and page.summaries_tab.note.text() == LOCKED
    assert page.overview.ack_button.isVisible() and page.overview.ack_button.accessibleName() == ACK_BUTTON
    assert page.overview.ack_button.toolTip()
    page.open_at(5_000)  # a search hit into a locked activity stays on the Overview
    assert page.tabs.currentIndex() == OVERVIEW_TAB
    with qtbot.waitSignal(page.events.learning_changed, timeout=T):
        qtbot.mouseClick(page.overview.ack_button, Qt.MouseButton.LeftButton)
    assert all(page.tabs.isTabEnabled(i) for i in LOCKED_TABS)
    assert page.overview.gate_label.text().startswith("✓ You acknowledged the disclosures on ")
    assert not page.overview.ack_button.isVisible()
    assert services.learning_state(DEMO_ID).acknowledged_at is not None
    assert page.watch_tab.video_column.message.text() != LOCKED

    # Rule 4: the pass mark is shown before starting; the post-test waits for 80% watched.
    tab = page.assessment_tab
    page.tabs.setCurrentIndex(ASSESSMENT_TAB)
    assert tab.pass_label.text() == "Pass mark: 75%"
    assert "unlimited" in tab.attempts_label.text()
    assert tab.lock_label.text() == "Watch at least 80% of the video (you have watched 0%)."
    assert not tab.start_button.isEnabled()
    watch(services, 0.35)
    page.tabs.setCurrentIndex(OVERVIEW_TAB)
    page.tabs.setCurrentIndex(ASSESSMENT_TAB)
    assert tab.lock_label.text() == "Watch at least 80% of the video (you have watched 35%)."
    watch(services, 0.85)
    page.tabs.setCurrentIndex(OVERVIEW_TAB)
    page.tabs.setCurrentIndex(ASSESSMENT_TAB)
    assert not tab.lock_label.isVisible() and tab.start_button.isEnabled()

    # Fail once…
    with qtbot.waitSignal(tab.changed, timeout=T):
        click(qtbot, tab.start_button)
    assert tab.stack.currentWidget() is tab.question_page
    assert not _unexplained_controls(window)
    result = take_attempt(qtbot, tab, WRONG)
    assert not result.passed and result.score == 0
    assert tab.result_page.score_label.text() == "Attempt 1: 0% — Not passed (pass mark 75%)"
    texts = [w.text() for w in tab.result_page.body.findChildren(type(tab.result_page.score_label))]
    assert sum(t.startswith("Right answer: ") for t in texts) == 5
    assert any(t.startswith("Why: Office readings higher than home readings") for t in texts)
    assert "Right answer: The white-coat effect" in texts
    assert tab.result_page.retake_button.isVisible() and not tab.result_page.to_credit_button.isVisible()

    # …retake and pass; every attempt is kept.
    with qtbot.waitSignal(tab.changed, timeout=T):
        click(qtbot, tab.result_page.retake_button)
    assert tab.question_page.view.number == 2 and tab.question_page.progress_label.text() == "Question 1 of 5"
    result = take_attempt(qtbot, tab, CORRECT)
    assert result.passed and result.score == 100
    assert not tab.result_page.retake_button.isVisible() and tab.result_page.to_credit_button.isVisible()
    assert tab.attempts_table.rowCount() == 2
    assert [tab.attempts_table.item(r, 4).text() for r in range(2)] == ["Passed", "Not passed"]
    click(qtbot, tab.result_page.to_credit_button)
    assert page.tabs.currentIndex() == CREDIT_TAB

    # Rule 5: the evaluation with a commitment to change, saved as typed and restored.
    credit = page.credit_tab
    assert not credit.claim.claim_button.isEnabled()
    assert "Complete the evaluation first" in credit.claim.claim_reason.text()
    credit.evaluation.rating_boxes["e1"].setCurrentIndex(credit.evaluation.rating_boxes["e1"].findData(5))
    credit.evaluation.rating_boxes["e2"].setCurrentIndex(credit.evaluation.rating_boxes["e2"].findData(4))
    with qtbot.waitSignal(credit.evaluation.draft_saved, timeout=T):
        qtbot.keyClicks(credit.evaluation.commitment_edits[0], "Ask for a 7-day home log")
        credit.evaluation.reminder_check.setChecked(True)
    credit.set_activity(services, DEMO_ID)  # as when the tab opens again
    assert credit.evaluation.rating_boxes["e1"].currentData() == 5 and credit.evaluation.rating_boxes["e2"].currentData() == 4
    assert credit.evaluation.commitment_edits[0].text() == "Ask for a 7-day home log"
    assert credit.evaluation.reminder_check.isChecked() and credit.evaluation.reminder_spin.value() == 6
    page.refresh_learning()
    with qtbot.waitSignal(credit.changed, timeout=T):
        click(qtbot, credit.evaluation.eval_submit)
    assert services.evaluation(DEMO_ID).submitted_at is not None
    assert not credit.evaluation.eval_form.isEnabled()

    # Rules 6 and 8: 0.5 AMA PRA credit, attested time, attestation and reporting consent.
    assert credit.claim.claim_reason.text() == ""
    assert [credit.claim.credits_combo.itemData(i) for i in range(credit.claim.credits_combo.count())] == [0.25, 0.5]
    assert credit.claim.minutes_spin.value() == 1  # prefilled from 51 s watched
    assert "PARS" in credit.claim.consent_label.text() and "board ID" in credit.claim.consent_label.text()
    assert not credit.claim.claim_button.isEnabled()  # attestation first
    credit.claim.credits_combo.setCurrentIndex(credit.claim.credits_combo.findData(0.5))
    # 1 minute supports nothing, and there is nothing below 0.25 to claim: how long it needs.
    told = credit.claim.supported_label.text()
    assert "needs 8 minutes or more" in told and "0 credits" not in told and "claim less" not in told, told
    credit.claim.minutes_spin.setValue(30)
    assert credit.claim.supported_label.text() == ""
    click(qtbot, credit.claim.attest_check)
    click(qtbot, credit.claim.consent_check)
    assert credit.claim.attest_check.text().startswith("I claim only the credit commensurate")
    assert not _unexplained_controls(window)
    with qtbot.waitSignal(credit.claim_finished, timeout=T) as claimed:
        click(qtbot, credit.claim.claim_button)
    info = claimed.args[0]
    assert info.state == "pending" and info.credits_claimed == 0.5
    assert credit.status_label.text() == "Waiting to sync"
    assert "1 completion waiting to sync" in window.status_text()
    window.show_section(CREDITS)
    row = window.credits_page.model.rows[0]
    assert (row.state, row.credits) == ("pending", 0.5)
    assert window.credits_page.model.index(0, 4).data() == "Waiting to sync"
    assert "waiting to sync" in window.credits_page.totals_label.text()

    # Sync now: accepted, the certificate with the claimed credits (rule 7), opened offline.
    with qtbot.waitSignal(window.sync_finished, timeout=T):
        window.sync_button.click()
    assert "waiting to sync" not in window.status_text()
    assert credit.status_label.text() == "Accepted — certificate ready"
    assert credit.open_button.isEnabled()
    page_credits = window.credits_page
    row = page_credits.model.rows[0]
    assert (row.state, row.credits, row.credit_type) == ("accepted", 0.5, "AMA PRA Category 1 Credit")
    assert page_credits.model.index(0, 4).data() == "Accepted"
    assert "0.5 AMA PRA Category 1 Credit" in page_credits.totals_label.text()
    assert page_credits.select_completion(row.completion_id)
    assert page_credits.open_button.isEnabled()
    click(qtbot, page_credits.open_button)
    qtbot.waitUntil(lambda: page_credits.message.text() == certificate_actions.OPENED, timeout=T)
    path = Path(opened[-1].toLocalFile())
    assert path.name == f"certificate-{row.certificate_id}.pdf"
    assert path.read_bytes().startswith(b"%PDF")
    assert not _unexplained_controls(window)


def test_save_verify_and_export_from_my_credits(qtbot, server, make_services, monkeypatch, tmp_path, opened):
    services = signed_in(make_services(server.url))
    ready_to_claim(services)
    services.claim_credit(DEMO_ID, 0.5, 30, True)
    services.sync()
    window = make_window(qtbot, services)
    window.show_section(CREDITS)
    page = window.credits_page
    assert page.select_completion(page.model.rows[0].completion_id)
    # Where certificates are listed: how current their revocation status is (fetched at that sync).
    assert page.status_label.text().startswith("Revocation status as of") and "(today)" in page.status_label.text()
    target = tmp_path / "out" / "cert"
    monkeypatch.setattr(certificate_actions, "ask_save_path", lambda *a: str(target))
    page.save_json_button.click()
    qtbot.waitUntil(lambda: page.message.text().startswith("Saved to"), timeout=T)
    signed = target.with_suffix(".json")
    assert signed.is_file()
    monkeypatch.setattr(certificate_actions, "ask_open_path", lambda *a: str(signed))
    page.verify_button.click()
    qtbot.waitUntil(lambda: page.message.text().startswith(("✓", "✗")), timeout=T)
    assert page.last_verify.valid and page.message.text().startswith("✓ Valid: 0.5")
    assert "OB 3.0 eddsa-rdfc-2022" in page.message.text() and "Not revoked as of" in page.message.text()
    signed.write_text(signed.read_text().replace('"creditsEarned": 0.5', '"creditsEarned": 5'))
    page.verify_button.click()
    qtbot.waitUntil(lambda: page.message.text().startswith("✗"), timeout=T)
    assert not page.last_verify.valid
    csv_path = tmp_path / "transcript"
    monkeypatch.setattr(certificate_actions, "ask_save_path", lambda *a: str(csv_path))
    page.csv_button.click()
    qtbot.waitUntil(lambda: page.message.text().startswith("Saved your credit transcript"), timeout=T)
    assert "AMA PRA Category 1 Credit" in csv_path.with_suffix(".csv").read_text()
    monkeypatch.setattr(certificate_actions, "ask_print", lambda parent, printer: False)
    page.print_button.click()  # the system print dialog (tests/gui/test_certificate_printing.py prints)
    qtbot.waitUntil(lambda: page.message.text() == "Printing cancelled.", timeout=T)


def test_pharmacist_sees_contact_hours_and_uan(qtbot, server, make_services):
    services = signed_in(make_services(server.url), "pharm", "demo")
    ready_to_claim(services)
    window = make_window(qtbot, services)
    page = open_activity(window)
    page.tabs.setCurrentIndex(CREDIT_TAB)
    credit = page.credit_tab
    assert credit.claim.credit_type_label.text() == "Your credit: ACPE contact hours"
    assert credit.claim.hours_label.text() == "0.5 contact hours (0.05 CEU)"
    assert credit.claim.uan_label.text() == "0000-9999-26-001-H01-P"
    assert not credit.claim.credits_combo.isVisible() and credit.claim.hours_label.isVisible()
    assert "CPE Monitor" in credit.claim.consent_label.text() and "NABP e-Profile ID" in credit.claim.consent_label.text()
    assert not credit.claim.ids_label.isVisible()
    click(qtbot, credit.claim.attest_check)
    click(qtbot, credit.claim.consent_check)
    with qtbot.waitSignal(credit.claim_finished, timeout=T) as claimed:
        click(qtbot, credit.claim.claim_button)
    assert claimed.args[0].credits_claimed == 0.5 and claimed.args[0].credit_type == "ACPE contact hours"
    assert credit.status_label.text() == "Waiting to sync"


def test_pharmacist_without_nabp_id_is_refused_with_what_to_do(qtbot, server, make_services):
    server.add_learner("rx", "pw", profession="pharmacist", display_name="Pat Pharmacist")
    services = signed_in(make_services(server.url), "rx", "pw")
    ready_to_claim(services)
    window = make_window(qtbot, services)
    page = open_activity(window)
    page.tabs.setCurrentIndex(CREDIT_TAB)
    credit = page.credit_tab
    assert credit.claim.ids_label.isVisible() and "NABP e-Profile ID" in credit.claim.ids_label.text()
    assert "provider" in credit.claim.ids_label.text()
    assert "NABP e-Profile ID" in credit.claim.claim_reason.text()
    assert not credit.claim.attest_check.isEnabled() and not credit.claim.claim_button.isEnabled()
    credit.claim.attest_check.setChecked(True)
    credit.claim._update_claim_button()
    assert not credit.claim.claim_button.isEnabled()
    assert services.learning_state(DEMO_ID).completion is None


def test_an_expired_activity_can_be_read_but_not_started(qtbot, server, make_services, tmp_path):
    doc = activity_doc("expired-bp", title="An activity that is over", release=today() - timedelta(days=400),
                       termination=today() - timedelta(days=2))
    publish(server, tmp_path, doc)
    services = signed_in(make_services(server.url))
    window = make_window(qtbot, services)
    page = open_activity(window, "expired-bp")
    assert page.detail.id == "expired-bp"
    state = page.state
    assert not state.available and not state.can_acknowledge
    assert page.overview.availability_label.isVisible() and state.availability_reason in page.overview.availability_label.text()
    assert not page.overview.ack_button.isEnabled()
    assert state.availability_reason in page.overview.gate_label.text()
    assert all(not page.tabs.isTabEnabled(i) for i in LOCKED_TABS)
    assert not page.assessment_tab.start_button.isEnabled()
    page.acknowledge()  # even if asked directly, the services refuse (rule 3) and the page says why
    qtbot.waitUntil(lambda: page.overview.gate_label.text().startswith("⚠"), timeout=T)
    assert services.learning_state("expired-bp").acknowledged_at is None


def test_learner_b_switched_in_sees_none_of_as_records(qtbot, server, make_services):
    server.add_learner("bob", "pw", profession="physician", display_name="Dr. Bob")
    services = signed_in(make_services(server.url))
    dana = services.current_learner()
    ready_to_claim(services)
    services.claim_credit(DEMO_ID, 0.5, 30, True)
    window = make_window(qtbot, services)
    page = open_activity(window)
    assert page.unlocked() and page.assessment_tab.attempts_table.rowCount() == 1
    assert len(window.credits_page.model.rows) == 1

    # "Sign in as another learner": Dana stays signed in.
    window.learner_button.rebuild()
    window.learner_button.sign_in_action.trigger()
    dialog = window.sign_in_dialog
    assert dialog is not None and dialog.username_edit.text() == ""
    dialog.username_edit.setText("bob")
    dialog.password_edit.setText("pw")
    with qtbot.waitSignal(window.sync_finished, timeout=T):
        dialog.sign_in_button.click()
    assert services.current_learner().username == "bob"
    assert window.learner_button.accessibleDescription() == "Current learner: Dr. Bob"
    assert not page.unlocked() and all(not page.tabs.isTabEnabled(i) for i in LOCKED_TABS)
    assert page.overview.ack_button.isEnabled() and page.assessment_tab.attempts_table.rowCount() == 0
    assert window.credits_page.model.rows == []
    assert "none yet" in window.credits_page.totals_label.text()

    # Switch back to Dana from the learner menu: her password is asked for (a kept sign-in is not proof).
    actions = window.learner_button.rebuild()
    assert sorted(a.text() for a in actions) == ["Dr. Bob (Physician)", "Dr. Dana Demo (Physician)"]
    assert [a.isChecked() for a in actions if a.text().startswith("Dr. Bob")] == [True]
    to_dana = next(a for a in actions if a.data() == dana.id)
    to_dana.trigger()
    proof = window.learner_button.switch_dialog
    assert proof is not None and proof.chosen().id == dana.id
    proof.password_edit.setText("not Dana's password")
    with qtbot.waitSignal(proof.attempt_finished, timeout=T):
        proof.continue_button.click()
    assert proof.error_label.isVisible() and proof.error_label.text() == str(WrongCredentials())
    assert services.current_learner().username == "bob"  # refused: nothing of Dana's is shown
    assert window.credits_page.model.rows == [] and page.assessment_tab.attempts_table.rowCount() == 0
    proof.password_edit.setText("demo")
    with qtbot.waitSignal(window.learner_button.switched, timeout=T):
        proof.continue_button.click()
    assert services.current_learner().id == dana.id
    assert page.unlocked() and page.assessment_tab.attempts_table.rowCount() == 1
    # Bob's sync delivered Dana's claim too, with her own token; the certificate is hers.
    assert page.credit_tab.status_label.text() == "Accepted — certificate ready"
    assert [r.state for r in window.credits_page.model.rows] == ["accepted"]


def test_switching_to_a_learner_whose_sign_in_ended_asks_her_password_and_signs_her_in_again(
        qtbot, server, make_services):
    server.add_learner("bob", "pw", profession="physician", display_name="Dr. Bob")
    services = signed_in(make_services(server.url))
    dana = services.current_learner()
    services.sign_in("bob", "pw")
    from desktop.sync.credentials import TokenVault

    TokenVault(services.server_url).delete(dana.username)  # her refresh token is gone from the keyring
    window = make_window(qtbot, services)
    to_dana = next(a for a in window.learner_button.rebuild() if a.data() == dana.id)
    to_dana.trigger()
    proof = window.learner_button.switch_dialog
    proof.password_edit.setText("demo")
    with qtbot.waitSignal(window.learner_button.switched, timeout=T):
        proof.continue_button.click()  # online, her password is a fresh sign-in
    assert services.current_learner().username == "demo"
    assert TokenVault(services.server_url).load("demo")


def test_switching_offline_to_a_learner_whose_sign_in_ended_opens_the_sign_in_dialog(
        qtbot, start_server, make_services):
    server = start_server()
    server.add_learner("bob", "pw", profession="physician", display_name="Dr. Bob")
    services = signed_in(make_services(server.url))
    dana = services.current_learner()
    services.sign_in("bob", "pw")
    from desktop.sync.credentials import TokenVault

    TokenVault(services.server_url).delete(dana.username)
    server.stop()
    window = make_window(qtbot, services)
    next(a for a in window.learner_button.rebuild() if a.data() == dana.id).trigger()
    proof = window.learner_button.switch_dialog
    proof.password_edit.setText("demo")
    proof.continue_button.click()
    qtbot.waitUntil(lambda: window.sign_in_dialog is not None, timeout=T)
    assert window.sign_in_dialog.username_edit.text() == "demo"
    assert services.current_learner().username == "bob"
    window.sign_in_dialog.reject()


def test_opening_an_unacknowledged_activity_never_raises(qtbot, make_services):
    from tests.player.demo_media import install_demo

    services = make_services("http://127.0.0.1:9")
    activity_id = install_demo(services, acknowledge=False)
    window = make_window(qtbot, services)
    page = open_activity(window, activity_id)
    assert page.watch_tab.locked_reason == LOCKED and page.watch_tab.player is None
    assert page.watch_tab.transcript_panel.transcript is None and page.summaries_tab.note.text() == LOCKED
    assert page.assessment_tab.lock_label.text() == LOCKED
    page.watch_tab.hide()
    page.watch_tab.show()  # showEvent looks for the video again: still locked, no exception
    page.open_at(10_000)
    assert page.tabs.currentIndex() == OVERVIEW_TAB
    window.show_section(CREDITS)


def test_no_one_signed_in_sees_a_sign_in_message_not_an_error(qtbot, make_services):
    from tests.player.demo_media import install_demo

    services = make_services("http://127.0.0.1:9")
    activity_id = install_demo(services, sign_in=False)
    window = make_window(qtbot, services)
    page = open_activity(window, activity_id)
    assert page.state is None and "Sign in" in page.overview.gate_label.text()
    assert not page.overview.ack_button.isEnabled()
    assert "Sign in" in page.watch_tab.video_column.message.text()
    window.show_section(CREDITS)
    assert window.credits_page.totals_label.text() == "Sign in to see your credits."


def test_a_claim_the_server_refuses_is_shown_with_its_reason(qtbot, server, make_services):
    """Rule 4: the server re-grades; a refusal is never silent (tab, My credits, notification)."""
    from tests.credit.conftest import sql

    services = signed_in(make_services(server.url))
    services.acknowledge_disclosures(DEMO_ID)
    watch(services, 0.9)
    view = services.start_attempt(DEMO_ID)
    for qid, options in WRONG.items():
        services.save_answer(view.id, qid, options)
    failed = services.submit_attempt(view.id)
    sql(services, "UPDATE attempts SET local_score = 100, local_passed = 1 WHERE id = ?", failed.attempt_id)
    services.save_evaluation(DEMO_ID, {"e1": 5, "e2": 4}, {}, [], submit=True)
    window = make_window(qtbot, services, courier=False)
    page = open_activity(window)
    page.tabs.setCurrentIndex(CREDIT_TAB)
    credit = page.credit_tab
    click(qtbot, credit.claim.attest_check)
    credit.claim.minutes_spin.setValue(30)
    with qtbot.waitSignal(credit.claim_finished, timeout=T):
        click(qtbot, credit.claim.claim_button)
    assert credit.status_label.text() == "Waiting to sync"
    with qtbot.waitSignal(window.sync_finished, timeout=T):
        window.sync_button.click()
    assert credit.status_label.text().startswith("Refused by the server: ")
    assert "Your device had marked it as passed" in credit.status_label.text()
    assert window.last_notification and "refused by the server" in window.last_notification
    notice = page.assessment_tab.server_notice
    assert not notice.isHidden() and "graded your answers differently" in notice.text()
    assert page.assessment_tab.start_button.isEnabled()  # the learner may retake
    window.show_section(CREDITS)
    assert window.credits_page.model.index(0, 4).data().startswith("Refused: ")


def test_pharmacist_sees_the_cpe_monitor_reporting_window_warning(qtbot, server, make_services):
    from dataclasses import replace

    services = signed_in(make_services(server.url), "pharm", "demo")
    ready_to_claim(services)
    window = make_window(qtbot, services)
    page = open_activity(window)
    page.tabs.setCurrentIndex(CREDIT_TAB)
    credit = page.credit_tab
    assert credit.claim.window_warning.isHidden()  # took part today: no warning yet
    warning = "Your provider must report pharmacy credit to CPE Monitor within 60 days"
    credit.show_state(services, DEMO_ID, replace(page.state, reporting_window_warning=warning))
    assert credit.claim.window_warning.isVisible() and credit.claim.window_warning.text() == warning


def test_sync_now_sends_a_claim_whose_last_delivery_failed(qtbot, server, make_services):
    """'Sync now' delivers waiting completions at once, even right after a failed try (which
    otherwise backs off for 30 s or more)."""
    from tests.support.socket_proxy import SocketProxy

    proxy = SocketProxy(server.url)
    try:
        services = signed_in(make_services(proxy.url))
        ready_to_claim(services)
        services.claim_credit(DEMO_ID, 0.5, 30, True)
        proxy.add(path_prefix="/api/v1/completions", method="POST", answer=(503, {}, b"busy"))
        assert services.sync().completions.remaining == 1  # the try failed: the claim backs off
        window = make_window(qtbot, services, courier=False)  # its start-up sync honours the backoff
        assert "1 completion waiting to sync" in window.status_text()
        with qtbot.waitSignal(window.sync_finished, timeout=T) as done:
            window.sync_button.click()
        assert done.args[0].completions.accepted == 1
        assert "waiting to sync" not in window.status_text()
        window.show_section(CREDITS)
        assert [r.state for r in window.credits_page.model.rows] == ["accepted"]
        assert "accepted" in window.last_notification
    finally:
        proxy.stop()
