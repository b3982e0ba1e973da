"""The server against an attacker and a careless admin (issue 11, item 3), over loopback
on the suite's database (SQLite; PostgreSQL in the second pass): sign-in throttling,
password hashing, one form per username, body size, bad items alone in a batch, huge Range
numbers, options checked at start."""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import select

from creditserver.app import create_app
from creditserver.auth import LearnerExists
from creditserver.cli import main
from creditserver.db import default_url
from creditserver.models import CompletionRejection, Learner, SignInFailures
from creditserver.passwords import normalise_username, verify_password
from creditserver.throttle import ThrottleSettings
from tests.support.learners import add_ward, sign_in_burst

from .conftest import client_for
from .credit_support import completion, count_rows, signed_in

TOO_MANY = "https://cme-offline.example/problems/too-many-sign-ins"


def _token(client: httpx.Client, username: str, password: str) -> httpx.Response:
    return client.post("/auth/token", json={"username": username, "password": password, "device_name": "t"})


# ---------------------------------------------------------------- throttling


def test_failed_sign_ins_lock_the_username_with_growing_delays_even_for_the_right_password(start_server):
    server = start_server(sign_in_throttle=ThrottleSettings(free_failures_per_username=3, first_delay_s=1))
    with client_for(server) as api:
        assert [_token(api, "demo", f"guess {i}").status_code for i in range(3)] == [401, 401, 401]

        locked = _token(api, "demo", "demo")  # the right password, during the lockout
        assert locked.status_code == 429
        assert locked.json()["type"] == TOO_MANY and locked.headers["Retry-After"] == "1"
        assert "access_token" not in locked.text

        time.sleep(int(locked.headers["Retry-After"]))
        assert _token(api, "demo", "guess 4").status_code == 401  # allowed again, and counted
        longer = _token(api, "demo", "demo")
        assert longer.status_code == 429 and longer.headers["Retry-After"] == "2"  # the delay doubled

        time.sleep(int(longer.headers["Retry-After"]))
        assert _token(api, "demo", "demo").status_code == 200  # after the lockout it works
        assert _token(api, "demo", "guess 5").status_code == 401  # and the count starts again
        assert _token(api, "pharm", "demo").status_code == 200  # another learner was never locked


def test_a_parallel_burst_of_guesses_gets_no_more_tries_than_a_sequential_one(start_server):
    server = start_server(sign_in_throttle=ThrottleSettings(free_failures_per_username=5, first_delay_s=60))

    def guess(i: int) -> int:
        with client_for(server) as api:
            return _token(api, "demo", f"guess {i}").status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(guess, range(40)))

    assert codes.count(401) == 5 and codes.count(429) == 35  # each attempt is counted before its password is checked


def test_failures_from_one_address_lock_it_for_every_username(start_server):
    server = start_server(sign_in_throttle=ThrottleSettings(free_failures_per_address=4, free_failures_per_username=100))
    with client_for(server) as api:
        codes = [_token(api, name, "wrong password").status_code for name in ("a", "b", "nobody", "demo")]
        assert codes == [401, 401, 401, 401]  # unknown and known usernames answer alike

        r = _token(api, "pharm", "demo")
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def test_a_ward_behind_one_address_signs_in_at_once_and_nobody_is_refused(start_server):
    """200 clinicians behind one hospital NAT address sign in at the same moment with the
    right password: every one gets in. The passwords still being checked do not count as
    failures of the address, which would lock it after 30 (issue 12)."""
    server = start_server(demo=False)
    ward = add_ward(server, 200, "right password")

    codes = sign_in_burst(server, [(name, "right password") for name in ward])

    assert codes == [200] * 200
    assert count_rows(server, SignInFailures) == 0  # every reservation was cleared by its right password


def test_a_burst_of_guesses_on_one_username_beside_a_ward_signing_in_gets_only_the_free_tries(start_server):
    settings = ThrottleSettings(free_failures_per_username=5, first_delay_s=60)
    server = start_server(demo=False, sign_in_throttle=settings)
    ward = add_ward(server, 50, "right password")
    guesses = [("nurse0", f"guess {i}") for i in range(50)]

    codes = sign_in_burst(server, guesses + [(name, "right password") for name in ward[1:]])

    assert codes[:50].count(401) <= 5 and set(codes[:50]) <= {401, 429}  # at most the free tries were checked
    assert codes[50:] == [200] * 49  # the other learners on that address were not held up


def test_parallel_guesses_through_two_server_processes_share_one_count(start_server):
    """Two servers on one database (as `serve --workers 2` runs): a burst split between them
    gets no more tries than one server gives, because the count is kept in the database."""
    settings = ThrottleSettings(free_failures_per_username=5, first_delay_s=60)
    first = start_server(sign_in_throttle=settings)
    shared = first.database_url or default_url(first.data_dir)
    second = start_server(demo=False, database_url=shared, sign_in_throttle=settings)

    def guess(i: int) -> int:
        with client_for(first if i % 2 else second) as api:
            return _token(api, "demo", f"guess {i}").status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        codes = list(pool.map(guess, range(40)))

    assert codes.count(401) == 5 and codes.count(429) == 35


def test_wrong_guesses_from_one_address_across_many_usernames_at_once_lock_the_address(start_server):
    """The address counts a failure once its password is found wrong, so a parallel burst
    over many usernames may have more checked than the address allows (module docstring of
    throttle.py); once they are counted the address is locked for every username."""
    server = start_server(sign_in_throttle=ThrottleSettings(free_failures_per_address=4, first_delay_s=60))

    codes = sign_in_burst(server, [(f"someone{i}", "wrong password") for i in range(30)])

    assert set(codes) <= {401, 429} and codes.count(401) >= 4
    with client_for(server) as api:
        assert _token(api, "pharm", "demo").status_code == 429


def test_throttle_counts_are_kept_in_the_database_not_the_process(start_server):
    server = start_server(sign_in_throttle=ThrottleSettings(free_failures_per_username=2, first_delay_s=60))
    with client_for(server) as api:
        _token(api, "demo", "x"), _token(api, "demo", "y")
    server.stop()
    again = start_server(again=server, sign_in_throttle=ThrottleSettings(free_failures_per_username=2, first_delay_s=60))
    with client_for(again) as api:
        assert _token(api, "demo", "demo").status_code == 429
        assert _token(api, "Demo ", "demo").status_code == 429  # the same username, written otherwise


def test_failures_older_than_the_forget_time_are_forgotten(start_server):
    settings = ThrottleSettings(free_failures_per_username=2, first_delay_s=60, forget_after_s=0)
    server = start_server(sign_in_throttle=settings)
    with client_for(server) as api:  # each guess finds the one before it forgotten
        assert [_token(api, "demo", f"guess {i}").status_code for i in range(4)] == [401] * 4
        assert _token(api, "demo", "demo").status_code == 200


def test_delays_grow_to_the_cap():
    rule = ThrottleSettings(free_failures_per_username=5, first_delay_s=2, max_delay_s=900)
    delays = [rule.delay_s(n, 5) for n in range(1, 16)]
    assert delays[:4] == [0, 0, 0, 0] and delays[4:9] == [2, 4, 8, 16, 32]
    assert delays[-1] == 900 and delays == sorted(delays)
    assert rule.allowed_attempts(3600, 5) <= 20


# ---------------------------------------------------------------- passwords and usernames


def test_passwords_are_argon2id_and_old_scrypt_hashes_are_replaced_at_the_next_sign_in(start_server):
    empty_server = start_server(demo=False)
    profile = empty_server.add_learner("olga", "correct horse battery", display_name="Olga")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(b"correct horse battery", salt=salt, n=2**14, r=8, p=1, dklen=32)
    old = f"scrypt${2**14}$8$1${salt.hex()}${digest.hex()}"
    with empty_server.app.state.db.session() as s:
        s.get(Learner, profile.id).password_hash = old

    def stored() -> str:
        with empty_server.app.state.db.session() as s:
            return s.get(Learner, profile.id).password_hash

    with client_for(empty_server) as api:
        assert _token(api, "olga", "wrong horse battery").status_code == 401
        assert stored() == old  # a wrong password changes nothing
        assert _token(api, "olga", "correct horse battery").status_code == 200
    new = stored()
    assert new.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password("correct horse battery", new) and not verify_password("correct horse batter", new)
    with client_for(empty_server) as api:
        assert _token(api, "olga", "correct horse battery").status_code == 200


def test_usernames_are_one_account_in_any_case_width_or_spacing(start_server):
    empty_server = start_server(demo=False)
    profile = empty_server.add_learner(" Nora", "a long password", display_name="Nora")
    assert profile.username == "nora"
    with pytest.raises(LearnerExists):
        empty_server.add_learner("ＮＯＲＡ ", "another password", display_name="Nora 2")
    with client_for(empty_server) as api:
        for spelling in ("nora", "Nora", "nora ", "ｎｏｒａ", "NORA"):
            r = _token(api, spelling, "a long password")
            assert r.status_code == 200, spelling
            assert r.json()["learner"]["id"] == profile.id
    assert normalise_username("Demo") == normalise_username("demo ") == normalise_username("ｄｅｍｏ") == "demo"


def test_learner_add_refuses_short_passwords_and_a_second_spelling_of_a_username(tmp_path, capsys, monkeypatch):
    def _stdin(text: str) -> None:
        monkeypatch.setattr("sys.stdin", io.StringIO(text))

    base = ["learner", "add", "--data-dir", str(tmp_path / "d"), "--password-stdin", "--profession", "nurse",
            "--display-name", "Nina"]
    _stdin("eleven char\n")
    assert main([*base, "--username", "nina"]) == 2
    err = capsys.readouterr().err
    assert "password" in err and "12 characters" in err

    _stdin("twelve chars\n")
    assert main([*base, "--username", "Nina"]) == 0
    assert "added learner nina" in capsys.readouterr().out
    _stdin("twelve chars\n")
    assert main([*base, "--username", "ｎｉｎａ "]) == 2
    assert "already exists" in capsys.readouterr().err


# ---------------------------------------------------------------- bodies, batches, ranges


def test_an_oversized_body_is_refused_with_413_unread(start_server):
    server = start_server(max_body_bytes=64 * 1024)
    big = b'{"username": "demo", "password": "' + b"x" * 200_000 + b'"}'
    with client_for(server) as api:
        r = api.post("/auth/token", content=big, headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        assert r.json()["type"] == "https://cme-offline.example/problems/payload-too-large"

        def chunks():  # no Content-Length: the bytes are counted as they stream in
            for _ in range(20):
                yield b" " * 10_000

        r = api.post("/completions", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        assert _token(api, "demo", "demo").status_code == 200  # the server is fine


def test_a_declared_huge_body_is_refused_before_it_is_sent(server):
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 67108864\r\n\r\n{")
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 413")


def test_one_bad_item_is_rejected_alone_and_the_others_are_credited(credit_server, credit_api):
    auth = signed_in(credit_api, "demo")
    good = completion("credit-test")
    surrogate = completion("credit-test", evaluation={"ratings": {}, "texts": {"e4": "bad \ud800 text"},
                                                     "commitments": [], "reminder_weeks": None})
    far_date = completion("credit-test", completed_at="9999-12-31T23:59:59-14:00")
    huge_number = completion("credit-test", activity_version=10**30)
    not_a_number = completion("credit-test", watched_share=float("nan"))
    body = json.dumps({"completions": [surrogate, far_date, good, huge_number, not_a_number]}, allow_nan=True)

    r = credit_api.post("/completions", content=body.encode("utf-8", "surrogatepass"),
                        headers={**auth, "Content-Type": "application/json"})

    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["rejected", "rejected", "accepted", "rejected", "rejected"]
    assert all(x["reason_code"] == "invalid" for i, x in enumerate(results) if i != 2)
    assert "evaluation.texts.e4" in results[0]["reason"]  # the field named
    assert "completed_at" in results[1]["reason"] and "out of range" in results[1]["reason"]
    assert results[0]["id"] == surrogate["id"]
    with credit_server.app.state.db.session() as s:
        logged = s.execute(select(CompletionRejection)).scalars().all()
    assert len(logged) == 4
    assert all(row.body_json == "" and len(row.reason) <= 500 for row in logged)  # reason and id, never the body
    assert {row.completion_id for row in logged} == {surrogate["id"], far_date["id"], huge_number["id"], not_a_number["id"]}


def test_rejection_records_stay_small_whatever_the_item_carries(credit_server, credit_api):
    auth = signed_in(credit_api, "demo")
    junk = {"id": str(uuid.uuid4()), "padding": "x" * 1_000_000, "k" * 5000: 1}
    r = credit_api.post("/completions", json={"completions": [junk]}, headers=auth)
    assert r.status_code == 200
    [result] = r.json()["results"]
    assert result["status"] == "rejected" and len(result["reason"]) <= 500
    with credit_server.app.state.db.session() as s:
        [row] = s.execute(select(CompletionRejection)).scalars().all()
    assert row.completion_id == junk["id"] and len(row.reason) <= 500 and row.body_json == ""
    assert count_rows(credit_server, CompletionRejection) == 1


def test_a_range_with_thousands_of_digits_is_answered_not_crashed(api, auth):
    [activity] = api.get("/catalog", headers=auth).json()["activities"]
    url = activity["assets"][0]["url"].removeprefix("/api/v1")
    digits = "9" * 5000
    statuses = [api.get(url, headers={**auth, "Range": rng}).status_code
                for rng in (f"bytes={digits}-", f"bytes=0-{digits}", f"bytes=-{digits}", f"bytes={digits}-{digits}")]
    assert statuses == [416, 206, 206, 416]


# ---------------------------------------------------------------- options


@pytest.mark.parametrize(("option", "value", "named"), [
    ("--access-ttl", "0", "--access-ttl"),
    ("--access-ttl", "-5", "--access-ttl"),
    ("--completion-grace-days", "-1", "--completion-grace-days"),
    ("--max-body-bytes", "10", "--max-body-bytes"),
    ("--port", "70000", "--port"),
    ("--public-url", "cme.example.org", "--public-url"),
    ("--database-url", "not a url", "--database-url"),
])
def test_bad_server_options_stop_the_start_with_a_message_naming_them(tmp_path, capsys, option, value, named):
    assert main(["--data-dir", str(tmp_path / "d"), option, value]) == 2
    err = capsys.readouterr().err
    assert named in err and "must be" in err and len(err.splitlines()) == 1


def test_create_app_refuses_a_zero_access_ttl(tmp_path):
    with pytest.raises(ValueError, match="--access-ttl"):
        create_app(tmp_path, access_ttl_s=0)
