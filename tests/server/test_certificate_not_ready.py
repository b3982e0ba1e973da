"""A certificate's PDF asked for during a rush (issue 12): the server does not render it on
the request path while its finisher is busy (creditserver/finishing.py `pdf_wait`); it
answers 503 `certificate-not-ready` with a Retry-After, and the same request after the
finisher is done gets the PDF, the bytes it would have rendered. When the server is quiet
a fetch still gets the PDF at once. The signed credential is unchanged (always 200).

The finisher is held, not mocked, as in test_certificate_finishing.py: the test posts and
fetches while the server's own finisher is told a batch is in flight (`while_issuing`)."""

from __future__ import annotations

from sqlalchemy import select

from cmecore.credentials import check_credential
from cmecore.protocol import ProblemType
from creditserver.certificates import rendered_pdf, renders_done
from creditserver.finishing import LONGEST_WAIT_S
from creditserver.models import Certificate
from creditserver.problems import PROBLEM_MEDIA_TYPE

from .conftest import CREDIT_ACTIVITY
from .credit_support import claim_for, completion, post, publish_copies, signed_in


def _stored_pdf(server, cert_id: str) -> bytes | None:
    with server.app.state.db.session() as s:
        return s.execute(select(Certificate.pdf).where(Certificate.id == cert_id)).scalar_one()


def _items(activities: list[str]) -> list[dict]:
    return [completion(a, claim=claim_for("physician", credits_claimed=0.25, attested_minutes=20))
            if a == CREDIT_ACTIVITY else completion(a) for a in activities]


def test_a_pdf_asked_for_while_the_finisher_is_busy_is_not_ready_then_comes_as_it_would_have_been_rendered(
        credit_server, credit_api, tmp_path):
    server = credit_server
    finisher = server.app.state.finisher
    auth = signed_in(credit_api, "demo")
    activities = [CREDIT_ACTIVITY, *publish_copies(server, tmp_path, "rush", 2)]
    with finisher.while_issuing():  # a rush: batches in flight
        results = post(credit_api, auth, *_items(activities))
        cert_ids = [r["certificate_id"] for r in results]
        before = renders_done()
        for cert_id in cert_ids:
            r = credit_api.get(f"/certificates/{cert_id}", headers=auth)
            assert r.status_code == 503, r.text
            assert r.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
            assert r.json()["type"] == ProblemType.certificate_not_ready and r.json()["status"] == 503
            assert 1 <= int(r.headers["Retry-After"]) <= LONGEST_WAIT_S
            # The credential is not held back: signing is ~2 ms, and it is the verification URL.
            credential = credit_api.get(f"/certificates/{cert_id}.json")
            assert credential.status_code == 200
            assert check_credential(credential.json(), [server.app.state.signing_key.public_key_b64]).signature_valid
        assert renders_done() == before  # nothing rendered on the request path
        assert all(_stored_pdf(server, c) is None for c in cert_ids)
        # Another learner asking for these ids still gets the same 404 as for no such id.
        other = signed_in(credit_api, "pharm")
        assert credit_api.get(f"/certificates/{cert_ids[0]}", headers=other).status_code == 404

    assert finisher.drain(timeout=60)
    for cert_id in cert_ids:
        r = credit_api.get(f"/certificates/{cert_id}", headers=auth)
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        # What a fetch renders (with the server's address) is what the finisher stored.
        assert r.content == _stored_pdf(server, cert_id) == rendered_pdf(server.app.state.db, cert_id, server.url)


def test_a_learner_fetching_alone_gets_the_pdf_at_once(credit_server, credit_api):
    server = credit_server
    auth = signed_in(credit_api, "demo")
    with server.app.state.finisher.while_issuing():  # the finisher has not got to it yet...
        [result] = post(credit_api, auth, *_items([CREDIT_ACTIVITY]))
    # ...and nothing else is in flight: whichever comes first, the fetch or the finisher, makes it.
    r = credit_api.get(f"/certificates/{result['certificate_id']}", headers=auth)
    assert r.status_code == 200 and r.content.startswith(b"%PDF-")
    assert r.content == _stored_pdf(server, result["certificate_id"])


def test_a_long_backlog_with_no_batch_in_flight_still_sends_the_fetch_away(credit_server, credit_api, tmp_path):
    """Between two batches of a rush, nothing is in flight for a moment, but the finisher's
    queue is longer than it clears soon: the fetch must not add its render to it."""
    server = credit_server
    finisher = server.app.state.finisher
    auth = signed_in(credit_api, "demo")
    activities = [CREDIT_ACTIVITY, *publish_copies(server, tmp_path, "backlog", 3)]
    with finisher.while_issuing():
        results = post(credit_api, auth, *_items(activities))
        # The finisher's pace, as after a slow PDF: four queued take longer than SOON_S.
        finisher._render_s = 1.0
    cert_id = results[-1]["certificate_id"]
    r = credit_api.get(f"/certificates/{cert_id}", headers=auth)
    if _stored_pdf(server, cert_id) is None:  # (the finisher may have got to it in the meantime)
        assert r.status_code == 503 and 1 <= int(r.headers["Retry-After"]) <= LONGEST_WAIT_S
    assert finisher.drain(timeout=60)
    assert credit_api.get(f"/certificates/{cert_id}", headers=auth).status_code == 200


def test_a_pdf_no_finisher_will_render_is_rendered_for_the_fetch_even_in_a_rush(credit_server, credit_api):
    """A certificate issued before PDFs were stored (no PDF, nothing pending) is never picked
    up by a finisher: told to wait, a learner would wait for ever. It is rendered on request."""
    server = credit_server
    auth = signed_in(credit_api, "demo")
    [result] = post(credit_api, auth, *_items([CREDIT_ACTIVITY]))
    cert_id = result["certificate_id"]
    assert server.app.state.finisher.drain(timeout=60)
    with server.app.state.db.session() as s:  # as an older server left it
        s.get(Certificate, cert_id).pdf = None
    with server.app.state.finisher.while_issuing():  # a rush
        r = credit_api.get(f"/certificates/{cert_id}", headers=auth)
    assert r.status_code == 200 and r.content.startswith(b"%PDF-")
    assert r.content == _stored_pdf(server, cert_id)
