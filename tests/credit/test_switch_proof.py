"""One learner can never act as another on a shared workstation (issue 11, item 1).

Switching to a learner signed in on this computer needs that learner's password: the
server checks it when it can be reached, the offline check in the keyring when not. Locked
(idle time, a sign-out), nobody's records, certificates or claims can be reached, in the
services or the CLI. The server never receives a completion for a learner who did not
prove who they are here. Real server on loopback, real keyring backend, real SQLite.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import keyring
import pytest

from desktop.errors import (
    CannotCheckOffline,
    NotSignedIn,
    SessionLocked,
    TooManySignIns,
    WrongCredentials,
    WrongPassword,
)
from desktop.sync import verifier
from desktop.sync.verifier import VerifierVault
from tests.credit.conftest import claim, ready_to_claim, server_completions, sql, watch
from tests.support.activities import DEMO_ID
from tests.support.cli import run_cli

BOB_PASSWORD = "bob's long password"


def _two_learners(server, make_services):
    """Dana (demo/demo) signs in and downloads the demo; then Bob signs in: Bob is current."""
    server.add_learner("bob", BOB_PASSWORD, profession="physician", display_name="Dr. Bob")
    services = make_services(server.url)
    dana = services.sign_in("demo", "demo")
    services.sync()
    services.enqueue_downloads([DEMO_ID])
    assert services.run_downloads().ok
    bob = services.sign_in("bob", BOB_PASSWORD)
    return services, dana, bob


def test_switching_without_the_password_is_refused_and_shows_nothing_of_the_other(server, make_services):
    services, dana, bob = _two_learners(server, make_services)
    services.switch_learner(dana.id, "demo")
    dana_claim = claim(services)
    services.switch_learner(bob.id, BOB_PASSWORD)

    for wrong in ("", "Demo", "demo "):
        with pytest.raises(WrongCredentials) as refused:  # the server's no, or WrongPassword for ""
            services.switch_learner(dana.id, wrong)
        assert refused.value.code in {"wrong-credentials", "wrong-password"}
        assert str(refused.value)  # a sentence for the learner
    assert services.current_learner().id == bob.id  # nothing changed
    assert services.my_credits().rows == [] and services.learning_state(DEMO_ID).completion is None

    services.switch_learner(dana.id, "demo")  # with her password (online: the server checked it)
    assert services.current_learner().id == dana.id
    assert services.learning_state(DEMO_ID).completion.id == dana_claim.id


def test_offline_the_keyrings_check_lets_the_right_password_through_and_refuses_a_wrong_one(
        start_server, make_services):
    server = start_server()
    services, dana, bob = _two_learners(server, make_services)
    server.stop()  # the network is gone

    with pytest.raises(WrongPassword):
        services.switch_learner(dana.id, "not her password")
    assert services.current_learner().id == bob.id
    assert services.switch_learner(dana.id, "demo").id == dana.id
    assert services.current_learner().id == dana.id
    services.switch_learner(bob.id, BOB_PASSWORD)

    VerifierVault(services.server_url).delete("demo")  # e.g. she last signed in with an older app
    with pytest.raises(CannotCheckOffline) as refused:
        services.switch_learner(dana.id, "demo")
    assert refused.value.code == "no-offline-check" and services.current_learner().id == bob.id

    start_server(again=server)  # back online: the server checks, and the check is written again
    assert services.switch_learner(dana.id, "demo").id == dana.id
    server.stop()
    services.switch_learner(bob.id, BOB_PASSWORD)
    assert services.switch_learner(dana.id, "demo").id == dana.id


def test_the_offline_check_is_a_salted_memory_hard_hash_not_the_password(server, make_services):
    services, dana, bob = _two_learners(server, make_services)
    service = VerifierVault(services.server_url).service
    kept = keyring.get_password(service, "bob")
    assert kept and BOB_PASSWORD not in kept and BOB_PASSWORD.encode().hex() not in kept

    scheme, log2_n, r, p, salt_b64, digest_b64 = kept.split("$")
    salt, digest = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
    # scrypt at the OWASP Password Storage Cheat Sheet's parameters: N = 2^17, r = 8, p = 1,
    # so each guess needs 128 * N * r bytes = 128 MiB of memory.
    assert scheme == "scrypt" and (int(log2_n), int(r), int(p)) == (17, 8, 1)
    assert 128 * (1 << int(log2_n)) * int(r) >= 128 * 1024 * 1024
    assert len(salt) == 16 and len(digest) == 32
    password = BOB_PASSWORD.encode()
    assert digest == hashlib.scrypt(password, salt=salt, n=1 << 17, r=8, p=1, maxmem=verifier.MAX_MEMORY, dklen=32)
    for fast in (hashlib.sha256(password).digest(), hashlib.sha256(salt + password).digest(),
                 hashlib.sha256(password + salt).digest(), hashlib.blake2b(password, digest_size=32).digest(),
                 hashlib.scrypt(password, salt=salt, n=2, r=1, p=1, dklen=32)):
        assert digest != fast

    # A fresh salt at every sign-in: the same password never leaves the same verifier.
    services.sign_in("bob", BOB_PASSWORD)
    again = keyring.get_password(service, "bob")
    assert again != kept and again.split("$")[4] != salt_b64
    assert verifier.matches(again, BOB_PASSWORD) and not verifier.matches(again, BOB_PASSWORD + " ")

    # Signing out takes the check off this computer with the token.
    services.sign_out()
    assert keyring.get_password(service, "bob") is None


def test_locked_nobody_is_current_and_each_learner_needs_their_own_password(server, make_services):
    services, dana, bob = _two_learners(server, make_services)
    watch(services, 0.5)
    services.lock()
    assert services.current_learner() is None and services.locked()
    assert {lr.id for lr in services.learners()} == {dana.id, bob.id}  # nobody was signed out
    for read in (services.my_credits, lambda: services.learning_state(DEMO_ID), lambda: services.claim_credit(
            DEMO_ID, 0.5, 30, True), lambda: services.credits.export_transcript("x.csv")):
        with pytest.raises(SessionLocked) as refused:
            read()
        assert isinstance(refused.value, NotSignedIn) and refused.value.code == "locked"
    assert services.watch_progress(DEMO_ID) is None

    with pytest.raises(WrongCredentials):
        services.switch_learner(bob.id, "demo")  # Dana's password does not unlock Bob
    assert services.locked()
    services.switch_learner(bob.id, BOB_PASSWORD)
    assert services.current_learner().id == bob.id
    assert services.learning_state(DEMO_ID).watched_share == pytest.approx(0.5)


def test_after_a_sign_out_the_other_learners_stay_locked(server, make_services):
    services, dana, bob = _two_learners(server, make_services)
    services.sign_out()  # Bob leaves; Dana's session does not fall to the next person
    assert services.current_learner() is None and services.locked()
    with pytest.raises(SessionLocked):
        services.my_credits()
    services.switch_learner(dana.id, "demo")
    assert services.current_learner().id == dana.id


def test_the_server_never_receives_a_completion_for_a_learner_who_did_not_prove_who_they_are(
        server, make_services, data_dir, monkeypatch, capsys):
    services, dana, bob = _two_learners(server, make_services)
    services.switch_learner(dana.id, "demo")
    ready_to_claim(services)  # Dana has everything ready but does not claim, and walks away
    services.switch_learner(bob.id, BOB_PASSWORD)

    # Bob, at the keyboard, tries every way to claim in Dana's name.
    with pytest.raises(WrongCredentials):
        services.switch_learner(dana.id, "")
    with pytest.raises(WrongCredentials):
        services.switch_learner(dana.id, "guess")
    bob_claim = claim(services)  # his own claim is his
    services.lock()
    with pytest.raises(SessionLocked):
        services.claim_credit(DEMO_ID, 0.5, 30, True)
    services.close()

    base = ("--data-dir", str(data_dir), "--server", server.url)
    code, out, err = run_cli(monkeypatch, capsys, "credits", "--json", *base)
    assert code != 0 and "locked" in err.lower() and "demo" not in out and dana.id not in out
    # Locked, the catalog cannot be fetched (it needs the current learner's sign-in), but the
    # claims written by learners who proved who they are still go: Bob's.
    code, out, err = run_cli(monkeypatch, capsys, "sync", *base)
    assert code != 0 and "locked" in err.lower()
    assert "1 accepted" in out

    assert server_completions(server, "demo", "demo") == []  # counted on the server
    assert [c["id"] for c in server_completions(server, "bob", BOB_PASSWORD)] == [bob_claim.id]


def test_offline_guessing_is_held_back_and_a_restart_does_not_reset_it(start_server, make_services, data_dir):
    server = start_server()
    services, dana, bob = _two_learners(server, make_services)
    server.stop()
    for _ in range(verifier.FREE_TRIES):
        with pytest.raises(WrongPassword):
            services.switch_learner(dana.id, "a guess")
    services.close()

    services = make_services(server.url)  # the app restarted: still held back
    with pytest.raises(TooManySignIns) as held:
        services.switch_learner(dana.id, "demo")  # even the right password waits
    assert held.value.code == "too-many-sign-ins" and services.current_learner().id == bob.id
    assert verifier.hold_after(verifier.FREE_TRIES) == timedelta(minutes=1)
    assert verifier.hold_after(verifier.FREE_TRIES + 3) == timedelta(minutes=8)
    assert verifier.hold_after(100) == timedelta(hours=1)

    sql(services, "UPDATE learners SET proofs_held_until = '2000-01-01 00:00:00' WHERE id = ?", dana.id)  # time passed
    assert services.switch_learner(dana.id, "demo").id == dana.id
    assert sql(services, "SELECT failed_proofs, proofs_held_until FROM learners WHERE id = ?", dana.id) == [(0, None)]
