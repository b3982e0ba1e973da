"""Reporting to a learning record store: each accepted completion reaches a real LRS (Ralph,
tests/support/ralph.py) as cmi5-style xAPI statements with fixed ids, so a resend changes
nothing; statements queued while the LRS is down arrive when it comes back; a statement the
LRS refuses is kept with the reason; the password comes only from an owner-only file."""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from creditserver.cli import main
from creditserver.lrs import LrsConfig, enqueue_statements, lrs_config, queue_status
from creditserver.lrs.outbox import claim
from creditserver.lrs.sender import LrsSender
from creditserver.lrs.statements import STATEMENT_NAMESPACE, XapiReporting, iso_duration, statement_id
from creditserver.models import Completion, XapiOutboxItem, utcnow
from creditserver.runner import RunningServer
from tests.support.activities import CORRECT, WRONG, activity_doc
from tests.support.fault_proxy import Canned, FaultProxy
from tests.support.ralph import RalphLrs
from tests.support.servers import data_options

from .conftest import client_for
from .credit_support import completion, post, publish, signed_in

PUBLIC = "https://cme.example.org"
ACTIVITY = "xapi-talk"
VERB = "http://adlnet.gov/expapi/verbs/"


def fast(config: LrsConfig) -> LrsConfig:
    """The sender's timings shortened for a test (5 s to 300 s in service)."""
    return dataclasses.replace(config, poll_s=0.05, retry_min_s=0.2, retry_max_s=1.0)


def config_for(lrs_url: str, ralph: RalphLrs, tmp_path: Path, send: str | None = None) -> LrsConfig:
    auth = ralph.write_auth_file(tmp_path / "lrs-auth")
    config = lrs_config(lrs_url, auth, send, PUBLIC)
    assert config is not None
    return fast(config)


def accept_one(server: RunningServer, tmp_path: Path, **overrides) -> dict:
    """Publish the activity, then one completion by the demo physician (a failed attempt,
    then a passed one); returns the item sent."""
    publish(server, tmp_path, activity_doc(ACTIVITY))
    item = completion(ACTIVITY, answers=[WRONG, CORRECT], **overrides)
    with client_for(server) as api:
        [result] = post(api, signed_in(api, "demo"), item)
    assert result["status"] == "accepted", result
    return item


def outbox_status(server: RunningServer):
    return queue_status(server.app.state.db)


def wait_for_status(server: RunningServer, done, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        status = outbox_status(server)
        if done(status) or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def lrs_cli(server: RunningServer, *args: str) -> list[str]:
    return ["lrs", *args, *data_options(server)]


def test_an_accepted_completion_reaches_the_lrs_as_cmi5_statements_and_a_resend_changes_nothing(
    ralph, start_server, tmp_path, capsys
):
    ralph.start()
    server = start_server(public_url=PUBLIC, lrs=config_for(ralph.url, ralph, tmp_path))
    item = accept_one(server, tmp_path)

    stored = {s["id"]: s for s in ralph.wait_for(2)}
    completed_id, passed_id = item["id"], str(uuid.uuid5(STATEMENT_NAMESPACE, f"{item['id']}/passed"))
    assert set(stored) == {completed_id, passed_id}
    with server.app.state.db.session() as s:
        learner_id = s.get(Completion, item["id"]).learner_id
    learner = {"objectType": "Agent", "account": {"homePage": PUBLIC, "name": learner_id}}
    activity_iri = f"{PUBLIC}/activities/{ACTIVITY}"
    completed, passed = stored[completed_id], stored[passed_id]
    for st in (completed, passed):
        assert st["actor"] == learner
        assert "mbox" not in st["actor"] and "name" not in st["actor"]  # no email, no name leaves the server
        assert st["object"]["id"] == activity_iri
        assert st["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/course"
        assert st["object"]["definition"]["name"]["en-US"] == activity_doc(ACTIVITY)["title"]
        assert st["timestamp"].startswith(item["completed_at_corrected"][:19])
        assert st["result"]["duration"] == "PT30M"  # the claim's attested 30 minutes
    assert completed["verb"]["id"] == VERB + "completed" and completed["result"]["completion"] is True
    assert passed["verb"]["id"] == VERB + "passed" and passed["result"]["success"] is True
    assert passed["result"]["score"] == {"scaled": 1.0, "raw": 100.0, "min": 0.0, "max": 100.0}

    assert main(lrs_cli(server, "status")) == 0
    assert "xAPI statements: 0 queued, 2 sent, 0 refused" in capsys.readouterr().out

    # Sent again (every one), the LRS keeps what it has: same ids, same count.
    assert main(lrs_cli(server, "retry", "--all")) == 0
    assert "queued 2 statements again" in capsys.readouterr().out
    status = wait_for_status(server, lambda st: st.counts.get("sent") == 2)
    assert status.counts == {"sent": 2}, status
    again = ralph.statements()
    assert sorted(s["id"] for s in again) == sorted(stored)
    assert {s["id"]: s["stored"] for s in again} == {i: s["stored"] for i, s in stored.items()}


def test_statements_queued_while_the_lrs_is_down_arrive_when_it_starts_even_after_a_restart(
    ralph, start_server, tmp_path
):
    # The provider turned on attempts and the watched share too.
    server = start_server(public_url=PUBLIC, lrs=config_for(ralph.url, ralph, tmp_path, "attempts,watched"))
    item = accept_one(server, tmp_path)

    down = wait_for_status(server, lambda st: bool(st.problems))
    assert down.counts == {"queued": 5}, down
    assert "no answer from the LRS" in down.problems[0][2]
    with client_for(server) as api:  # the same completion again: a duplicate queues nothing
        [again] = post(api, signed_in(api, "demo"), item)
    assert again["status"] == "duplicate"
    assert outbox_status(server).counts == {"queued": 5}

    # The server restarts meanwhile: the queue is in its database, not in the process.
    server.stop()
    server = start_server(again=server, public_url=PUBLIC, lrs=server.app.state.lrs_sender.config)
    assert outbox_status(server).counts == {"queued": 5}

    ralph.start()
    stored = ralph.wait_for(5)
    by_verb: dict[str, list[dict]] = {}
    for st in stored:
        by_verb.setdefault(st["verb"]["id"].removeprefix(VERB), []).append(st)
    assert sorted((v, len(s)) for v, s in by_verb.items()) == [("completed", 1), ("failed", 1), ("passed", 2), ("progressed", 1)]
    [progressed] = by_verb["progressed"]
    assert progressed["result"]["extensions"]["https://w3id.org/xapi/cmi5/result/extensions/progress"] == 93
    [failed] = by_verb["failed"]
    assert failed["object"]["id"] == f"{PUBLIC}/activities/{ACTIVITY}/post-test"
    assert failed["result"]["score"]["raw"] == 0.0 and failed["result"]["success"] is False
    assert failed["result"]["duration"] == "PT50S"
    assert failed["context"]["contextActivities"]["parent"][0]["id"] == f"{PUBLIC}/activities/{ACTIVITY}"
    assert wait_for_status(server, lambda st: st.counts.get("sent") == 5).counts == {"sent": 5}


def test_a_statement_the_lrs_refuses_is_kept_with_the_reason_and_sent_after_a_retry(
    ralph, start_server, tmp_path, capsys
):
    ralph.start()
    proxy = FaultProxy(f"http://127.0.0.1:{ralph.port}")
    try:
        proxy.answer("/xAPI/statements", Canned(400, b'{"detail":"Invalid statement"}', {"Content-Type": "application/json"}))
        server = start_server(public_url=PUBLIC, lrs=config_for(proxy.url + "/xAPI", ralph, tmp_path))
        accept_one(server, tmp_path)

        refused = wait_for_status(server, lambda st: st.counts.get("refused") == 2)
        assert refused.counts == {"refused": 2}, refused
        assert all("the LRS answered 400" in reason and "Invalid statement" in reason for _, _, reason in refused.problems)
        puts = [r for r in proxy.requests if r[0] == "PUT"]
        assert len(puts) == 2  # each tried once: a refusal is not retried
        assert main(lrs_cli(server, "status")) == 0
        out = capsys.readouterr().out
        assert "0 queued, 0 sent, 2 refused" in out and "the LRS answered 400" in out

        proxy.clear()  # the provider fixed what the LRS objected to, and asks for a retry
        assert main(lrs_cli(server, "retry")) == 0
        assert len(ralph.wait_for(2)) == 2
        assert wait_for_status(server, lambda st: st.counts.get("sent") == 2).counts == {"sent": 2}
    finally:
        proxy.stop()


def test_two_senders_never_hold_the_same_statement(start_server, tmp_path):
    """Several server processes share one database; each claim is a lease no other can take."""
    server = start_server()
    accept_one(server, tmp_path)
    with server.app.state.db.session() as s:
        rows = s.query(Completion).all()
        assert enqueue_statements(s, rows, XapiReporting(PUBLIC, frozenset({"attempts", "watched"}))) == 5
    start = threading.Barrier(2)
    held: dict[str, list[str]] = {}

    def sender(owner: str) -> None:
        start.wait()
        held[owner] = [c.statement_id for c in claim(server.app.state.db, owner, limit=3, lease_s=60)]

    threads = [threading.Thread(target=sender, args=(owner,)) for owner in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not set(held["a"]) & set(held["b"])
    assert len(held["a"]) + len(held["b"]) == 5
    assert claim(server.app.state.db, "c", limit=10, lease_s=60) == []  # all leased


def test_while_the_lrs_is_unreachable_the_sender_waits_longer_each_time_up_to_five_minutes(start_server, tmp_path):
    server = start_server()
    accept_one(server, tmp_path)
    db = server.app.state.db
    with db.session() as s:
        enqueue_statements(s, s.query(Completion).all(), XapiReporting(PUBLIC))
    with socket.socket() as closed:  # a loopback port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    sender = LrsSender(db, LrsConfig(f"http://127.0.0.1:{port}/xAPI", "u", "p", XapiReporting(PUBLIC)))
    try:
        waits = []
        for _ in range(8):
            waits.append(sender.deliver_due())
            with db.session() as s:  # due again now, rather than after the wait
                s.execute(update(XapiOutboxItem).values(next_try_at=utcnow() - timedelta(seconds=1)))
    finally:
        sender.close()
    assert waits == [5, 10, 20, 40, 80, 160, 300, 300]
    status = outbox_status(server)
    assert status.counts == {"queued": 2}  # never given up on
    assert all("no answer from the LRS" in reason for _, _, reason in status.problems)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--lrs-url", "https://lrs.example.org/xAPI"], "--lrs-url needs --lrs-auth-file"),
        (["--lrs-url", "https://lrs.example.org/xAPI", "--lrs-auth-file", "{auth}"], "--lrs-url needs --public-url"),
        (["--lrs-url", "http://lrs.example.org/xAPI", "--lrs-auth-file", "{auth}", "--public-url", PUBLIC],
         "only over https://"),
        (["--lrs-url", "https://u:p@lrs.example.org/xAPI", "--lrs-auth-file", "{auth}", "--public-url", PUBLIC],
         "not in the address"),
        (["--lrs-url", "https://lrs.example.org/xAPI", "--lrs-auth-file", "{open}", "--public-url", PUBLIC],
         "chmod 600"),
        (["--lrs-url", "https://lrs.example.org/xAPI", "--lrs-auth-file", "{auth}", "--public-url", PUBLIC,
          "--lrs-send", "everything"], "--lrs-send: unknown everything"),
        (["--lrs-send", "attempts"], "need --lrs-url"),
    ],
)
def test_serve_refuses_lrs_settings_it_cannot_use_and_says_why(tmp_path, capsys, options, expected):
    auth = tmp_path / "auth"
    auth.write_text("cme:secret\n")
    auth.chmod(0o600)
    open_file = tmp_path / "open"
    open_file.write_text("cme:secret\n")
    open_file.chmod(0o644)
    args = [a.format(auth=auth, open=open_file) for a in options]
    assert main(["--data-dir", str(tmp_path / "data"), *args]) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert "secret" not in err


def test_statement_ids_are_fixed_by_the_completion():
    cid = str(uuid.uuid4())
    assert statement_id(cid, "completed") == cid
    assert statement_id(cid, "passed") == statement_id(cid, "passed") != statement_id(cid, "failed")
    assert uuid.UUID(statement_id(cid, "passed")).version == 5


@pytest.mark.parametrize(("seconds", "text"), [(0, "PT0S"), (50, "PT50S"), (1800, "PT30M"), (3725, "PT1H2M5S"), (7200, "PT2H")])
def test_durations_are_iso_8601(seconds, text):
    assert iso_duration(seconds) == text


def test_the_auth_file_is_read_from_its_first_line_only(tmp_path):
    auth = tmp_path / "auth"
    auth.write_text("\n  reporter:pa:ss  \n")
    os.chmod(auth, 0o600)
    config = lrs_config("https://lrs.example.org/xAPI/", auth, "watched", PUBLIC + "/")
    assert config is not None
    assert (config.url, config.username, config.password) == ("https://lrs.example.org/xAPI", "reporter", "pa:ss")
    assert config.reporting == XapiReporting(PUBLIC, frozenset({"watched"}))
    assert "pa:ss" not in repr(config)
    assert httpx.URL(config.url).scheme == "https"


def test_prune_removes_statements_the_lrs_took_long_ago_and_keeps_every_one_not_yet_sent(start_server, tmp_path, capsys):
    """The outbox would grow by five rows per completion forever: `prune` drops sent rows past
    the retention period; queued and refused ones stay, however old, until they are sent."""
    server = start_server()
    accept_one(server, tmp_path)
    now = utcnow()
    with server.app.state.db.session() as s:
        assert enqueue_statements(s, s.query(Completion).all(),
                                  XapiReporting(PUBLIC, frozenset({"attempts", "watched"}))) == 5
        ids = sorted(s.scalars(select(XapiOutboxItem.statement_id)))
        ages = {ids[0]: ("sent", 40), ids[1]: ("sent", 31), ids[2]: ("sent", 10), ids[3]: ("queued", 400),
                ids[4]: ("refused", 400)}
        for statement, (state, days) in ages.items():
            s.execute(update(XapiOutboxItem).where(XapiOutboxItem.statement_id == statement).values(
                state=state, created_at=now - timedelta(days=days),
                sent_at=now - timedelta(days=days) if state == "sent" else None))

    assert main(["prune", *data_options(server), "--sent-statement-days", "30"]) == 0

    assert "and 2 xAPI statements sent long ago" in capsys.readouterr().out
    with server.app.state.db.session() as s:
        assert sorted(s.scalars(select(XapiOutboxItem.statement_id))) == ids[2:]
    assert main(["prune", *data_options(server), "--sent-statement-days", "-1"]) == 2
    assert "--sent-statement-days: must be between 0 and" in capsys.readouterr().err
