"""Revoking a certificate (issue 13): `cme-credit-server revoke CERT_ID` sets its bit in the
server's Bitstring Status List; the public list shows it; the learner's computer, after its
next sync, lists the certificate as revoked (out of the totals) and says how old the list
it checked against is, and a saved credential file then checks as revoked, offline."""

from __future__ import annotations

import base64

import httpx

from cmecore.credentials import FORM_OB3, StatusList, check_credential
from cmecore.credentials.status_list import bit_is_set, decode_list
from creditserver.cli import main as server_cli
from creditserver.status_lists import check_issued
from tests.credit.conftest import claim
from tests.support import ob3
from tests.support.activities import DEMO_ID
from tests.support.servers import data_options


def revoke(server, cert_id: str) -> int:
    return server_cli(["revoke", *data_options(server), cert_id])


def test_a_revoked_certificate_shows_in_the_public_list_and_in_the_client_after_its_next_sync(
        server, learner, tmp_path, capsys):
    claim(learner)
    learner.sync()
    cert_id = learner.learning_state(DEMO_ID).completion.certificate_id
    credits = learner.my_credits()
    assert credits.rows[0].state == "accepted" and credits.status_checked_at is not None  # checked at that sync
    checked_before = credits.status_checked_at
    saved = learner.export_certificate(cert_id, tmp_path / "cert.json")
    assert learner.verify_certificate_file(saved).valid

    doc = httpx.get(f"{server.api_url}/certificates/{cert_id}.json", timeout=10).json()
    entry = doc["credentialStatus"]
    assert (entry["type"], entry["statusPurpose"]) == ("BitstringStatusListEntry", "revocation")
    key = httpx.get(f"{server.api_url}/keys", timeout=10).json()["keys"][0]["public_key"]
    raw = base64.b64decode(key)

    def public_list() -> dict:
        listed = httpx.get(entry["statusListCredential"], timeout=10)  # no token: anyone may check
        assert listed.status_code == 200
        status = listed.json()
        ob3.independent_proof_check(status, raw)  # the list is signed like the credential
        return status

    index = int(entry["statusListIndex"])
    before = public_list()
    assert len(decode_list(before["credentialSubject"]["encodedList"])) >= 16 * 1024  # the spec's minimum
    assert not bit_is_set(decode_list(before["credentialSubject"]["encodedList"]), index)
    state = server.app.state  # what the server's own verification page asks
    assert check_issued(state.db, state.signing_key, cert_id, doc).revoked is False

    assert revoke(server, cert_id) == 0
    assert f"revoked: {cert_id}" in capsys.readouterr().out
    assert revoke(server, cert_id) == 0  # again: no change
    assert "already revoked" in capsys.readouterr().out
    after = public_list()
    assert bit_is_set(decode_list(after["credentialSubject"]["encodedList"]), index)
    on_server = check_issued(state.db, state.signing_key, cert_id, doc)
    assert on_server.signature_valid and on_server.revoked is True and not on_server.valid

    # Before its next sync the client still goes by the list it has: not revoked, as of then.
    assert learner.my_credits().rows[0].state == "accepted"
    learner.sync()
    credits = learner.my_credits()
    row = credits.rows[0]
    assert row.state == "revoked" and row.certificate_id == cert_id
    assert credits.totals == {} and credits.totals_all_time == {}  # a revoked certificate earns nothing
    assert credits.status_checked_at > checked_before

    server.stop()  # offline from here on: the kept key and list answer
    result = learner.verify_certificate_file(saved)
    assert not result.valid and result.revoked is True and result.form == FORM_OB3
    assert "revoked" in result.message.lower()
    # Any verifier holding the published list reaches the same answer.
    check = check_credential(doc, [key], {entry["statusListCredential"]: StatusList(after, credits.status_checked_at)})
    assert check.signature_valid and check.revoked is True


def test_revoking_a_certificate_that_does_not_exist_is_refused_with_what_to_give(server, capsys):
    assert revoke(server, "0" * 32) == 2
    assert "there is no certificate" in capsys.readouterr().err
