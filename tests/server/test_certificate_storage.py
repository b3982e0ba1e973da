"""Certificates are rendered once, at issue, and stored with the record: a fetch is a read.

The finisher is observed, not mocked: the PDF is in the certificate's row once the
finisher (which starts on it just after the reply) is done, every fetch returns exactly those bytes, and the server's count of
renders (certificates.renders_done; the server runs in this process) does not move."""

from __future__ import annotations

from sqlalchemy import select, update

from creditserver.certificates import renders_done
from creditserver.finishing import CertificateFinisher
from creditserver.models import Certificate
from creditserver.signing import Pending

from .conftest import CREDIT_ACTIVITY
from .credit_support import claim_for, completion, post, signed_in


def _stored_pdf(server, cert_id: str) -> bytes | None:
    assert server.app.state.finisher.drain(timeout=60)  # rendered just after the reply
    with server.app.state.db.session() as s:
        return s.execute(select(Certificate.pdf).where(Certificate.id == cert_id)).scalar_one()


def _issue(api) -> tuple[dict[str, str], str]:
    auth = signed_in(api, "demo")
    [res] = post(api, auth, completion(CREDIT_ACTIVITY, claim=claim_for("physician", credits_claimed=0.25, attested_minutes=20)))
    assert res["status"] == "accepted", res["reason"]
    return auth, res["certificate_id"]


def test_the_pdf_is_stored_at_issue_and_every_fetch_returns_those_bytes(credit_server, credit_api):
    at_start = renders_done()
    auth, cert_id = _issue(credit_api)

    stored = _stored_pdf(credit_server, cert_id)
    assert renders_done() == at_start + 1
    assert stored is not None and stored.startswith(b"%PDF-")
    before = renders_done()
    first = credit_api.get(f"/certificates/{cert_id}", headers=auth)
    second = credit_api.get(f"/certificates/{cert_id}", headers=auth)

    assert renders_done() == before

    assert first.status_code == second.status_code == 200
    assert first.headers["content-type"] == "application/pdf"
    assert first.content == second.content == stored


def test_a_resent_completion_keeps_the_pdf_issued_first(credit_server, credit_api):
    auth = signed_in(credit_api, "demo")
    item = completion(CREDIT_ACTIVITY, claim=claim_for("physician", credits_claimed=0.25, attested_minutes=20))
    [first] = post(credit_api, auth, item)
    stored = _stored_pdf(credit_server, first["certificate_id"])

    before = renders_done()
    [again] = post(credit_api, auth, item)

    assert renders_done() == before

    assert again["status"] == "duplicate" and again["certificate_id"] == first["certificate_id"]
    assert _stored_pdf(credit_server, first["certificate_id"]) == stored


def test_a_certificate_issued_before_pdfs_were_stored_is_rendered_at_its_first_fetch_and_kept(credit_server, credit_api):
    auth, cert_id = _issue(credit_api)
    assert _stored_pdf(credit_server, cert_id) is not None
    with credit_server.app.state.db.session() as s:  # as a certificate issued by an older server
        s.execute(update(Certificate).where(Certificate.id == cert_id).values(pdf=None))

    before = renders_done()
    first = credit_api.get(f"/certificates/{cert_id}", headers=auth)
    stored = _stored_pdf(credit_server, cert_id)
    second = credit_api.get(f"/certificates/{cert_id}", headers=auth)

    assert renders_done() == before + 1
    assert first.status_code == 200 and first.content.startswith(b"%PDF-")
    assert stored == first.content == second.content


def test_finishing_waits_while_a_completion_batch_is_being_issued_and_follows_when_it_is_done(
        credit_server, credit_api):
    """During a rush the renders would take the CPU the answers need: they wait for the batches in flight."""
    app = credit_server.app
    finisher = CertificateFinisher(app.state.db, app.state.signing_key, finish_within_s=60, sweep_s=3600)
    auth = signed_in(credit_api, "demo")
    item = completion(CREDIT_ACTIVITY, claim=claim_for("physician", credits_claimed=0.25, attested_minutes=20))
    with app.state.finisher.while_issuing():  # the server's own finisher held, then out of the way
        [res] = post(credit_api, auth, item)
        app.state.finisher.close(10)
    cert_id = res["certificate_id"]
    assert finisher.start().drain(timeout=60)  # its first look for unfinished certificates: this one
    assert finisher.finished == 1 and _stored_pdf(credit_server, cert_id) is not None
    with app.state.db.session() as s:  # as if just issued again
        s.execute(update(Certificate).where(Certificate.id == cert_id).values(pdf=None, pending_json=Pending(
            {}, "", "https://cme.example.org").to_json()))
    before = renders_done()

    try:
        with finisher.while_issuing():
            finisher.submit([cert_id])
            assert not finisher.drain(timeout=0.5)  # queued, waiting for the batch
            assert renders_done() == before

        assert finisher.drain(timeout=60)
    finally:
        finisher.close(10)
    assert renders_done() == before + 1 and finisher.finished == 2
    assert _stored_pdf(credit_server, cert_id).startswith(b"%PDF-")


def test_a_certificate_waits_for_a_quiet_moment_no_longer_than_its_bound(credit_server, credit_api):
    """Under steady load there is never a quiet moment: a certificate is finished when due all the same."""
    app = credit_server.app
    finisher = CertificateFinisher(app.state.db, app.state.signing_key, finish_within_s=0.2, sweep_s=3600)
    try:
        assert finisher.start().drain(timeout=60)  # its first look for unfinished certificates: none
        auth = signed_in(credit_api, "demo")
        item = completion(CREDIT_ACTIVITY, claim=claim_for("physician", credits_claimed=0.25, attested_minutes=20))
        with app.state.finisher.while_issuing(), finisher.while_issuing():
            [res] = post(credit_api, auth, item)
            app.state.finisher.close(10)  # the server's own finisher out of the way
            finisher.submit([res["certificate_id"]])
            assert finisher.drain(timeout=60)  # the batch never ends, yet it is finished
    finally:
        finisher.close(10)
    assert finisher.finished == 1 and _stored_pdf(credit_server, res["certificate_id"]).startswith(b"%PDF-")
