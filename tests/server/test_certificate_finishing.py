"""Certificates answered before they are signed (issue 12): POST /completions answers once a
completion is judged and stored; the credential's proof and the PDF are made afterwards by
the server's finisher (creditserver/finishing.py), or by the first request that needs them
(creditserver/signing.py), and nobody is ever shown an unsigned credential.

The finisher is held, not mocked: a test that needs a certificate still unfinished posts
while the server's own finisher is told a batch is in flight (`while_issuing`), as in a
rush, so it waits. Nothing waits for time: finishers are driven directly or drained with a
deadline."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from cmecore.credentials import FORM_OB3, StatusList, check_credential
from creditserver.certificates import renders_done
from creditserver.finishing import finish, unfinished
from creditserver.models import Certificate
from creditserver.keys import _from_private
from creditserver.signing import SigningKeyChanged, signed_credential_json
from creditserver.status_lists import check_issued, revoke
from tests.support import ob3

from .conftest import CREDIT_ACTIVITY, credit_test_folder
from .credit_support import claim_for, completion, post, publish_copies, signed_in


def _row(server, cert_id: str) -> dict:
    with server.app.state.db.session() as s:
        row = s.execute(select(Certificate.credential_json, Certificate.pending_json, Certificate.pdf,
                               Certificate.finishing_until).where(Certificate.id == cert_id)).one()
    return dict(row._mapping)


def _key(server) -> str:
    return server.app.state.signing_key.public_key_b64


def _issue_held(server, api, activities: list[str] | None = None,
                inside: Callable[[list[str]], object] | None = None) -> tuple[dict, list[str]]:
    """Post a completion of each activity (one batch) while the server's finisher is held as
    in a rush: the answers come, the certificates stay unfinished until the hold ends.
    `inside(certificate ids)` runs before it ends."""
    auth = signed_in(api, "demo")
    activities = activities or [CREDIT_ACTIVITY]
    n = len(activities)
    items = [completion(a, claim=claim_for("physician", credits_claimed=0.25, attested_minutes=20)) if a == CREDIT_ACTIVITY
             else completion(a) for a in activities]
    with server.app.state.finisher.while_issuing():
        results = post(api, auth, *items)
        assert [r["status"] for r in results] == ["accepted"] * n, results
        cert_ids = [r["certificate_id"] for r in results]
        for cert_id in cert_ids:  # answered and stored, not yet signed
            row = _row(server, cert_id)
            assert row["credential_json"] is None and row["pending_json"] is not None and row["pdf"] is None
        if inside is not None:
            inside(cert_ids)
    return auth, cert_ids


def test_the_answer_comes_before_the_signature_and_a_fetch_then_gets_a_credential_that_verifies(
        credit_server, credit_api):
    finisher = credit_server.app.state.finisher
    auth = signed_in(credit_api, "demo")
    item = completion(CREDIT_ACTIVITY, claim=claim_for("physician", credits_claimed=0.25, attested_minutes=20))
    with finisher.while_issuing():
        [res] = post(credit_api, auth, item)
        assert res["status"] == "accepted" and res["certificate_id"]
        cert_id = res["certificate_id"]
        assert _row(credit_server, cert_id)["credential_json"] is None  # the answer came first

        fetched = credit_api.get(f"/certificates/{cert_id}.json")  # the public URL: signed now
        assert fetched.status_code == 200
        doc = fetched.json()
        check = check_credential(doc, [_key(credit_server)])
        assert check.form == FORM_OB3 and check.signature_valid, check.reason
        ob3.assert_conformant(doc, base64.b64decode(_key(credit_server)))
        assert json.loads(_row(credit_server, cert_id)["credential_json"]) == doc  # and stored
        # Every other way to it gives the same one: the learner's, the verification page's.
        assert credit_api.get(f"/certificates/{cert_id}?format=json", headers=auth).json() == doc
        assert httpx.get(f"{credit_server.url}/verify/{cert_id}.json", timeout=10).json() == doc

    assert finisher.drain(timeout=60)
    row = _row(credit_server, cert_id)
    assert row["pending_json"] is None and row["pdf"].startswith(b"%PDF-")  # the finisher did the rest
    assert json.loads(row["credential_json"]) == doc  # and kept the credential already stored


def test_the_verification_page_of_an_unsigned_certificate_signs_it_and_says_it_is_valid(credit_server, credit_api):
    _auth, [cert_id] = _issue_held(credit_server, credit_api)
    # The hold is over, but the page may come before the finisher: either way it checks a signed one.
    page = httpx.get(f"{credit_server.url}/verify/{cert_id}", timeout=10)
    assert page.status_code == 200 and 'class="verdict valid"' in page.text
    assert _row(credit_server, cert_id)["credential_json"] is not None


def test_the_finisher_signs_and_renders_what_is_pending(credit_server, credit_api):
    auth, cert_ids = _issue_held(credit_server, credit_api)
    assert credit_server.app.state.finisher.drain(timeout=60)

    for cert_id in cert_ids:
        row = _row(credit_server, cert_id)
        assert row["pending_json"] is None and row["finishing_until"] is None
        assert check_credential(json.loads(row["credential_json"]), [_key(credit_server)]).signature_valid
        before = renders_done()
        pdf = credit_api.get(f"/certificates/{cert_id}", headers=auth)
        assert pdf.status_code == 200 and pdf.content == row["pdf"] and renders_done() == before  # a read
    assert unfinished(credit_server.app.state.db) == []


def test_a_stopped_servers_unfinished_certificates_are_finished_at_the_next_start(start_server, tmp_path):
    """As after a kill: certificates stored unfinished, one of them claimed by a finisher that
    died (its claim lapsed). The next start finishes both, before anyone asks."""
    first = start_server()
    first.publish(credit_test_folder(tmp_path / "pub"), videos_as_is=True)
    activities = [CREDIT_ACTIVITY, *publish_copies(first, tmp_path, "stopped", 1)]
    with httpx.Client(base_url=first.api_url, timeout=30) as api:
        _auth, cert_ids = _issue_held(first, api, activities, inside=lambda _ids: first.stop())
    for cert_id in cert_ids:
        assert _row(first, cert_id)["credential_json"] is None  # stopped before it was finished
    with first.app.state.db.session() as s:  # one was being finished by a process since killed
        s.execute(update(Certificate).where(Certificate.id == cert_ids[1])
                  .values(finishing_until=datetime.now(UTC) - timedelta(seconds=1)))

    again = start_server(again=first)
    assert again.app.state.finisher.drain(timeout=60)
    for cert_id in cert_ids:
        row = _row(again, cert_id)
        assert row["pending_json"] is None and row["pdf"].startswith(b"%PDF-")
        assert check_credential(json.loads(row["credential_json"]), [_key(again)]).signature_valid


def test_two_finishers_and_a_fetch_racing_store_one_credential_each_finished_once(credit_server, credit_api,
                                                                                   tmp_path):
    app = credit_server.app
    # The server's own finisher out of the way: these two race alone.
    _auth, cert_ids = _issue_held(credit_server, credit_api, publish_copies(credit_server, tmp_path, "race", 6),
                                  inside=lambda _ids: app.state.finisher.close(10))
    db, key = app.state.db, app.state.signing_key
    start = threading.Barrier(3)

    def finisher(_: int) -> list[bool]:
        start.wait(10)
        return [finish(db, key, cert_id) for cert_id in cert_ids]

    def fetcher(_: int) -> list[str | None]:
        start.wait(10)
        return [signed_credential_json(db, key, cert_id) for cert_id in reversed(cert_ids)]

    with ThreadPoolExecutor(3) as pool:
        a, b = pool.submit(finisher, 0), pool.submit(finisher, 1)
        fetched = pool.submit(fetcher, 2).result(120)
        done_a, done_b = a.result(120), b.result(120)

    for i, cert_id in enumerate(cert_ids):
        assert done_a[i] != done_b[i]  # exactly one of the two finished it; the other found it taken or done
        row = _row(credit_server, cert_id)
        assert row["pending_json"] is None and row["pdf"].startswith(b"%PDF-")
        assert row["credential_json"] == fetched[len(cert_ids) - 1 - i]  # the fetch got the one stored
        assert check_credential(json.loads(row["credential_json"]), [_key(credit_server)]).signature_valid
    assert not finish(db, key, cert_ids[0])  # finished: nothing to do


def test_a_claimed_certificate_is_left_to_its_finisher_until_the_claim_lapses(credit_server, credit_api):
    app = credit_server.app
    _auth, [cert_id] = _issue_held(credit_server, credit_api, inside=lambda _ids: app.state.finisher.close(10))
    db, key = app.state.db, app.state.signing_key
    with db.session() as s:  # another process is on it
        s.execute(update(Certificate).where(Certificate.id == cert_id)
                  .values(finishing_until=datetime.now(UTC) + timedelta(seconds=60)))
    assert not finish(db, key, cert_id) and unfinished(db) == []
    # Its credential is still given to whoever asks, signed.
    assert check_credential(json.loads(signed_credential_json(db, key, cert_id)), [_key(credit_server)]).signature_valid
    with db.session() as s:  # that process died: its claim lapses
        s.execute(update(Certificate).where(Certificate.id == cert_id)
                  .values(finishing_until=datetime.now(UTC) - timedelta(seconds=1)))
    assert unfinished(db) == [cert_id]
    assert finish(db, key, cert_id)
    assert _row(credit_server, cert_id)["pending_json"] is None


def test_a_certificate_revoked_before_it_was_signed_shows_revoked_once_signed(credit_server, credit_api):
    app = credit_server.app
    fetched = []

    def revoke_then_fetch(cert_ids: list[str]) -> None:  # still unsigned when revoked
        assert not revoke(app.state.db, cert_ids[0]).already
        fetched.append(credit_api.get(f"/certificates/{cert_ids[0]}.json").json())

    _auth, [cert_id] = _issue_held(credit_server, credit_api, inside=revoke_then_fetch)
    [doc] = fetched

    on_server = check_issued(app.state.db, app.state.signing_key, cert_id, doc)
    assert on_server.signature_valid and on_server.revoked is True and not on_server.valid
    page = httpx.get(f"{credit_server.url}/verify/{cert_id}", timeout=10)
    assert page.status_code == 200 and "revoked" in page.text.lower()
    entry = doc["credentialStatus"]
    listed = credit_api.get(entry["statusListCredential"].split("/api/v1", 1)[1]).json()
    check = check_credential(doc, [_key(credit_server)],
                             {entry["statusListCredential"]: StatusList(listed, datetime.now(UTC))})
    assert check.signature_valid and check.revoked is True



def test_a_certificate_issued_under_another_key_is_never_signed_with_the_new_one(credit_server, credit_api):
    """A signing key replaced between the answer and the signature (a restored data folder):
    signing with the new key would give a credential whose issuer never verifies it."""
    db, other = credit_server.app.state.db, _from_private(Ed25519PrivateKey.generate())

    def with_another_key(cert_ids: list[str]) -> None:
        with pytest.raises(SigningKeyChanged, match="put back the signing key"):
            signed_credential_json(db, other, cert_ids[0])
        assert _row(credit_server, cert_ids[0])["credential_json"] is None  # left unsigned, not signed wrongly

    _auth, [cert_id] = _issue_held(credit_server, credit_api, inside=with_another_key)
    signed = signed_credential_json(db, credit_server.app.state.signing_key, cert_id)
    assert check_credential(json.loads(signed), [_key(credit_server)]).signature_valid
