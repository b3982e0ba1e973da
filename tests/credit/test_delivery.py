"""Delivering completions from the outbox to the real server: accepted with a certificate
kept offline, and every way delivery goes wrong (server error, lost reply, a crash right
after the server stored the batch, a conflicting resubmission, a tampered local grade).
The server's answer is final and the learner always sees it (DOMAIN rules 4, 6, 7)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.credit.conftest import (
    ROOT,
    claim,
    evaluate,
    server_completions,
    sql,
    take_test,
    watch,
)
from tests.support.activities import CORRECT, DEMO_ID, WRONG
from tests.support.fault_proxy import Canned


def test_rule7_claim_pending_then_sync_accepted_certificate_kept_and_verified_offline(server, learner, tmp_path):
    info = claim(learner)
    assert learner.my_credits().rows[0].state == "pending"
    assert learner.my_credits().totals == {}  # pending credits do not count yet

    report = learner.sync()
    done = report.completions
    assert (done.accepted, done.duplicate, done.rejected, done.remaining, done.errors) == (1, 0, 0, 0, [])
    state = learner.learning_state(DEMO_ID)
    c = state.completion
    assert (c.id, c.state, c.passed, c.server_score) == (info.id, "accepted", True, 100.0)
    assert not state.server_grade_differs and not state.can_claim
    assert learner.pending_completions_count() == 0
    (held,) = server_completions(server)
    assert held["id"] == info.id and held["certificate"]["id"] == c.certificate_id

    server.stop()  # offline from here on
    pdf = learner.certificate_pdf(c.certificate_id)
    assert pdf.startswith(b"%PDF")
    (verified,) = sql(learner, "SELECT verified FROM certificates WHERE id = ?", c.certificate_id)
    assert verified == (1,)  # signature checked against the key kept from sign-in
    credential = learner.export_certificate(c.certificate_id, tmp_path / "cert.json")
    assert learner.verify_certificate_file(credential).valid
    assert learner.export_certificate(c.certificate_id, tmp_path / "cert.pdf").read_bytes() == pdf
    doc = json.loads(credential.read_text())
    doc["credentialSubject"]["creditsEarned"] = 5
    (tmp_path / "forged.json").write_text(json.dumps(doc))
    forged = learner.verify_certificate_file(tmp_path / "forged.json")
    assert not forged.valid and "changed" in forged.message
    assert not learner.verify_certificate_file(tmp_path / "cert.pdf").valid  # not a credential at all

    credits = learner.my_credits()
    assert credits.totals == {("AMA PRA Category 1 Credit", c.completed_at.year): 0.5}
    assert credits.totals_all_time == {"AMA PRA Category 1 Credit": 0.5}
    assert credits.rows[0].certificate_id == c.certificate_id
    assert learner.my_credits(year=c.completed_at.year - 1).rows == []
    csv_text = learner.export_credit_transcript(tmp_path / "credits.csv").read_text("utf-8-sig")
    assert "AMA PRA Category 1 Credit,0.5,accepted" in csv_text
    assert learner.export_credit_transcript(tmp_path / "credits.pdf", fmt="pdf").read_bytes().startswith(b"%PDF")


def test_server_error_keeps_the_item_with_its_error_and_it_is_delivered_later(server, fault_proxy, make_services):
    services = make_services(fault_proxy.url)
    services.sign_in("demo", "demo")
    services.sync()
    info = claim(services)
    fault_proxy.answer("/api/v1/completions", Canned(500, b'{"title": "Internal Server Error", "status": 500}',
                                                     {"Content-Type": "application/problem+json"}), method="POST")
    report = services.deliver_completions()
    assert report.remaining == 1 and report.accepted == 0 and "had a problem (500" in report.errors[0]
    c = services.learning_state(DEMO_ID).completion
    assert c.state == "pending" and c.tries == 1 and "500" in c.last_error
    (next_at,) = sql(services, "SELECT next_attempt_at FROM outbox WHERE completion_id = ?", info.id)
    assert next_at[0] is not None  # backing off, kept in the database (survives a restart)
    assert services.deliver_completions().requests == 0  # the backoff is respected…

    fault_proxy.clear()
    restarted = make_services(fault_proxy.url)
    report = restarted.deliver_completions(retry_now=True)  # …unless the learner says "sync now"
    assert (report.accepted, report.remaining) == (1, 0)
    assert restarted.learning_state(DEMO_ID).completion.state == "accepted"
    assert len(server_completions(server)) == 1


def test_lost_reply_is_retried_and_the_server_answers_duplicate_one_record(server, holding_proxy, make_services):
    services = make_services(holding_proxy.url)
    services.sign_in("demo", "demo")
    services.sync()
    info = claim(services)
    holding_proxy.mode = "drop"  # the server stores the batch, the reply never arrives
    report = services.deliver_completions()
    assert holding_proxy.held == [("POST", "/api/v1/completions", 200)]
    assert report.remaining == 1 and "cannot be reached" in report.errors[0]
    assert services.learning_state(DEMO_ID).completion.state == "pending"
    assert len(server_completions(server)) == 1  # stored once already

    holding_proxy.mode = "pass"
    report = services.deliver_completions(retry_now=True)
    assert (report.accepted, report.duplicate, report.rejected, report.remaining) == (1, 1, 0, 0)
    c = services.learning_state(DEMO_ID).completion
    assert c.state == "accepted" and c.certificate_id and services.certificate_pdf(c.certificate_id)
    (held,) = server_completions(server)
    assert held["id"] == info.id and held["certificate"]["id"] == c.certificate_id


def test_sigkill_right_after_the_server_stored_the_batch_then_restart_one_credit(
    server, holding_proxy, make_services, data_dir
):
    services = make_services(holding_proxy.url)
    services.sign_in("demo", "demo")
    services.sync()
    info = claim(services)
    services.close()
    holding_proxy.mode = "hang"
    script = textwrap.dedent(f"""
        from pathlib import Path
        from desktop.config import Paths
        from desktop.services import Services
        Services(Paths(Path({str(data_dir)!r})), server_url={holding_proxy.url!r}).deliver_completions()
        print("FINISHED", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holding_proxy.stored.wait(30), "the delivery never reached the server"
    finally:
        proc.send_signal(signal.SIGKILL)  # the server has stored it; the client dies before hearing back
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    holding_proxy.release.set()
    holding_proxy.mode = "pass"

    again = make_services(holding_proxy.url)
    assert again.pending_completions_count() == 1  # the outbox survived the crash
    report = again.sync().completions
    assert (report.accepted, report.duplicate, report.remaining) == (1, 1, 0)
    (held,) = server_completions(server)  # exactly one credited completion, one certificate
    c = again.learning_state(DEMO_ID).completion
    assert held["id"] == info.id == c.id and held["certificate"]["id"] == c.certificate_id
    assert again.certificate_pdf(c.certificate_id).startswith(b"%PDF")
    assert sql(again, "SELECT count(*) FROM certificates") == [(1,)]


def test_conflicting_resubmission_is_shown_as_rejected_with_the_reason(server, learner):
    info = claim(learner)
    learner.sync()
    # The same id again with other content (a tampered or corrupted copy): the first record stands.
    (payload,) = sql(learner, "SELECT payload FROM completions WHERE id = ?", info.id)
    tampered = json.loads(payload[0]) | {"watched_share": 1.0}
    sql(learner, "UPDATE completions SET payload = ?, state = 'pending', certificate_id = NULL WHERE id = ?",
        json.dumps(tampered), info.id)
    sql(learner, "INSERT INTO outbox (completion_id, learner_id, tries, created_at) "
                 "SELECT id, learner_id, 0, created_at FROM completions WHERE id = ?", info.id)
    report = learner.deliver_completions()
    assert (report.rejected, report.remaining, report.errors) == (1, 0, [])
    c = learner.learning_state(DEMO_ID).completion
    assert c.state == "rejected" and c.reason_code == "conflicting-resubmission"
    assert c.reason.startswith("conflicting resubmission")
    row = learner.my_credits().rows[0]
    assert row.state == "rejected" and row.reason == c.reason  # listed, never silently dropped
    assert len(server_completions(server)) == 1


def test_rule4_tampered_local_grade_the_server_says_fail_and_the_learner_is_told(server, learner):
    learner.acknowledge_disclosures(DEMO_ID)
    watch(learner, 0.9)
    failed = take_test(learner, WRONG)
    assert not failed.passed
    sql(learner, "UPDATE attempts SET local_score = 100, local_passed = 1 WHERE id = ?", failed.attempt_id)
    evaluate(learner)
    assert learner.learning_state(DEMO_ID).can_claim  # this computer believes the edit
    first = learner.claim_credit(DEMO_ID, 0.5, 30, True)
    report = learner.sync().completions
    assert (report.rejected, report.accepted) == (1, 0)
    state = learner.learning_state(DEMO_ID)
    c = state.completion
    assert c.id == first.id and c.state == "rejected" and c.reason_code == "not-passed"
    assert c.passed is False and c.server_score == 0.0 and "Your device had marked it as passed" in c.reason
    assert state.server_grade_differs  # both grades kept; the UI says the server's grade differs
    assert state.attempts[0].local_passed is True and not state.passed  # the server's verdict counts
    assert state.assessment_unlocked and not state.can_claim

    take_test(learner, CORRECT)  # retake: attempt 2
    second = learner.claim_credit(DEMO_ID, 0.5, 30, True)
    assert second.id != first.id and second.attempts_sent == 2
    assert learner.sync().completions.accepted == 1
    (held,) = server_completions(server)
    assert held["id"] == second.id
    rows = learner.my_credits().rows
    assert sorted(r.state for r in rows) == ["accepted", "rejected"]


def test_sync_reports_catalog_and_completions_and_a_catalog_failure_hides_neither(server, fault_proxy, make_services):
    services = make_services(fault_proxy.url)
    services.sign_in("demo", "demo")
    services.sync()
    claim(services)
    fault_proxy.answer("/api/v1/catalog", Canned(503, b"{}"))
    from desktop.errors import ServerFailed

    with pytest.raises(ServerFailed) as err:
        services.sync()
    assert err.value.completions.accepted == 1  # delivered although the catalog failed
    assert services.learning_state(DEMO_ID).completion.state == "accepted"
