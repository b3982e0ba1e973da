"""Several learners on one workstation (DESIGN "Storage"): each sees only their own records,
signing in as another keeps the first signed in, and everyone's completions are delivered
with their own token; a learner who signed out keeps theirs until they sign in again."""

from __future__ import annotations

import pytest

from desktop.errors import ContentLocked, NotSignedIn, SessionLocked, SignInRequired
from tests.credit.conftest import claim, server_completions, watch
from tests.support.activities import DEMO_ID
from tests.support.queries import queries_on


def test_second_learner_sees_none_of_the_firsts_records_and_the_first_delivers_later(server, make_services):
    server.add_learner("bob", "pw", profession="physician", display_name="Dr. Bob")
    services = make_services(server.url)
    dana = services.sign_in("demo", "demo")
    services.sync()
    services.enqueue_downloads([DEMO_ID])
    assert services.run_downloads().ok
    dana_claim = claim(services)

    bob = services.sign_in("bob", "pw")  # Dana stays signed in
    assert services.current_learner().id == bob.id
    assert {x.username for x in services.learners()} == {"demo", "bob"}
    state = services.learning_state(DEMO_ID)
    assert state.acknowledged_at is None and state.attempts == [] and state.completion is None
    assert not state.evaluation_done and state.watched_share == 0.0
    assert services.watch_progress(DEMO_ID) is None
    assert services.my_credits().rows == []
    with pytest.raises(ContentLocked):
        services.media_file(DEMO_ID)  # Dana's acknowledgement is hers
    assert services.pending_completions_count() == 1  # on this machine…
    assert services.pending_completions_count(learner_only=True) == 0  # …none of them Bob's
    assert next(r for r in services.library_rows() if r.id == DEMO_ID).media_state.value == "present"

    report = services.sync().completions  # Bob syncs; Dana's claim goes with Dana's token
    assert (report.accepted, report.remaining) == (1, 0)
    assert [c["id"] for c in server_completions(server, "demo", "demo")] == [dana_claim.id]
    assert server_completions(server, "bob", "pw") == []
    assert services.my_credits().rows == []

    services.switch_learner(dana.id, "demo")
    assert services.learning_state(DEMO_ID).completion.state == "accepted"
    cert = services.learning_state(DEMO_ID).completion.certificate_id
    assert services.certificate_pdf(cert).startswith(b"%PDF")
    services.switch_learner(bob.id, "pw")
    assert services.certificate_pdf(cert) is None  # never another learner's certificate


def test_a_learner_who_signed_out_keeps_pending_claims_until_signing_in_again(server, make_services):
    server.add_learner("bob", "pw", profession="physician", display_name="Dr. Bob")
    services = make_services(server.url)
    dana = services.sign_in("demo", "demo")
    services.sync()
    services.enqueue_downloads([DEMO_ID])
    assert services.run_downloads().ok
    dana_claim = claim(services)
    services.sign_out()  # Dana leaves; her claim stays on this computer, and the shared downloads too
    assert next(r for r in services.library_rows() if r.id == DEMO_ID).media_state.value == "present"

    bob = services.sign_in("bob", "pw")
    watch(services, 0.5)
    report = services.sync().completions
    assert (report.accepted, report.remaining, report.errors) == (0, 1, [])
    assert "demo" in report.notes[0] and "signs in again" in report.notes[0]
    assert server_completions(server, "demo", "demo") == []
    with pytest.raises(SignInRequired):
        services.switch_learner(dana.id, "demo")  # her token is gone: she must sign in herself

    services.sign_in("demo", "demo")
    assert services.learning_state(DEMO_ID).completion.id == dana_claim.id  # her records are all still here
    services.switch_learner(bob.id, "pw")
    assert services.learning_state(DEMO_ID).watched_share == pytest.approx(0.5)
    assert services.sync().completions.accepted == 1
    assert [c["id"] for c in server_completions(server, "demo", "demo")] == [dana_claim.id]


def test_cli_credits_json_and_sync_reports_completions(server, data_dir, make_services, monkeypatch, capsys):
    import io
    import json
    import sys

    from desktop.app import main

    services = make_services(server.url)
    services.sign_in("demo", "demo")
    services.sync()
    info = claim(services)
    services.close()

    def run(*args):
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        code = main([*args, "--data-dir", str(data_dir), "--server", server.url])
        return code, capsys.readouterr().out

    code, out = run("credits", "--json")
    data = json.loads(out)
    assert code == 0 and data["learner"] == "demo" and data["pending"] == 1
    assert [(r["completion_id"], r["state"]) for r in data["rows"]] == [(info.id, "pending")]
    assert data["totals"] == [] and data["totals_all_time"] == {}

    code, out = run("sync", "--json")
    sync = json.loads(out)
    assert code == 0 and sync["ok"]
    assert {k: sync["completions"][k] for k in ("accepted", "duplicate", "rejected", "remaining")} == {
        "accepted": 1, "duplicate": 0, "rejected": 0, "remaining": 0}

    code, out = run("credits", "--json")
    data = json.loads(out)
    (row,) = data["rows"]
    assert row["state"] == "accepted" and len(row["certificate_id"]) == 32 and row["credits"] == 0.5
    assert data["totals"] == [{"credit_type": "AMA PRA Category 1 Credit", "year": int(row["date"][:4]),
                               "credits": 0.5}]
    code, out = run("credits")
    assert code == 0 and "[accepted]" in out and "Total" in out


def test_cli_sync_exits_non_zero_only_when_delivery_failed(server, fault_proxy, data_dir, make_services,
                                                           monkeypatch, capsys):
    import io
    import sys

    from desktop.app import main
    from tests.support.fault_proxy import Canned

    services = make_services(fault_proxy.url)
    services.sign_in("demo", "demo")
    services.sync()
    claim(services)
    services.close()
    fault_proxy.answer("/api/v1/completions", Canned(502, b""), method="POST")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code = main(["sync", "--data-dir", str(data_dir), "--server", fault_proxy.url])
    out, err = capsys.readouterr()
    assert code == 1 and "1 waiting" in out and "kept for the next sync" in err


def test_after_every_change_of_learner_the_next_request_carries_the_new_learners_token(server, make_services):
    """The current learner is kept in memory between requests, and never outlives a change:
    sign-in, switch, lock, sign-out, here or in another process on the same cache (the CLI)."""
    server.add_learner("bob", "pw", profession="physician", display_name="Dr. Bob")
    services = make_services(server.url)
    account, api = services.connection.account(), services.connection.api()

    def whose_token() -> str:
        return account.authorized(api.me).username  # the server says whose token it was

    dana = services.sign_in("demo", "demo")
    assert whose_token() == "demo"
    with queries_on(services.db.path) as seen:
        assert {whose_token() for _ in range(5)} == {"demo"}
    assert not [q for q in seen if "learners" in q]  # held, not read again for each request

    bob = services.sign_in("bob", "pw")
    assert whose_token() == "bob"
    services.switch_learner(dana.id, "demo")
    assert whose_token() == "demo"
    services.account.lock()
    with pytest.raises(SessionLocked):
        whose_token()
    services.switch_learner(bob.id, "pw")
    assert whose_token() == "bob"

    other_process = make_services(server.url)  # its own database connections, as the CLI would have
    other_process.switch_learner(dana.id, "demo")
    assert whose_token() == "demo"
    other_process.account.sign_out()  # Dana signs out there: nobody is current here either
    with pytest.raises(SessionLocked):
        whose_token()
    services.switch_learner(bob.id, "pw")
    services.sign_out()
    with pytest.raises(NotSignedIn):
        whose_token()
