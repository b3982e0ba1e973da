"""The desktop and a certificate the server is still preparing (issue 12): during a deadline
rush the server answers a PDF fetch 503 `certificate-not-ready` with a Retry-After instead
of rendering it on the request path (creditserver/finishing.py `pdf_wait`). For the app that
is no error and not "offline": the claim is credited, the signed credential is kept (it
verifies now), My credits says the provider is still preparing the certificate, and the
courier syncs again after Retry-After, which brings it.

The server's finisher is held as in a rush (`while_issuing`), not mocked; the courier's
longest wait is shortened (`longest_wait_s`) so the test does not wait the server's honest
Retry-After (up to the 30 s the finisher may wait for a quiet moment)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from creditserver.finishing import finish
from creditserver.models import Certificate
from desktop.errors import RuleError
from desktop.errors import CERTIFICATE_NOT_HERE
from desktop.views.learning_text import NOT_HERE_WORDS, PREPARING, claims_notice, state_text
from tests.credit.conftest import claim
from tests.server.credit_support import publish
from tests.support.activities import DEMO_ID, activity_doc
from tests.sync.test_connection_state import Watcher

SECOND = "second-activity"


def _stored_pdf(server, cert_id: str) -> bytes | None:
    with server.app.state.db.session() as s:
        return s.execute(select(Certificate.pdf).where(Certificate.id == cert_id)).scalar_one()


def _pdf_answers(server, cert_id: str) -> list[int]:
    return [r.status for r in server.request_log.matching(f"/api/v1/certificates/{cert_id}", method="GET")]


def test_a_sync_during_a_rush_credits_the_claim_and_the_certificate_arrives_by_itself_after(
        server, learner, tmp_path):
    watcher = Watcher(learner)
    learner.syncing.start_courier(longest_wait_s=0.2)
    with server.app.state.finisher.while_issuing():  # a rush: the server's finisher waits
        claim(learner)
        report = learner.sync().completions
        assert (report.accepted, report.certificates, report.certificates_preparing) == (1, 0, 1)
        assert report.errors == [] and not report.unreachable and report.retry_after_s >= 1
        assert report.notes == [f"1 certificate not on this computer yet. {PREPARING}"]  # the CLI prints it
        assert learner.status().online is True
        cert_id = learner.learning_state(DEMO_ID).completion.certificate_id
        assert learner.learning_state(DEMO_ID).completion.state == "accepted" and cert_id
        assert _pdf_answers(server, cert_id)[0] == 503

        [row] = learner.my_credits().rows  # credited, and said so honestly
        assert row.state == "accepted" and not row.certificate_here
        assert not learner.learning_state(DEMO_ID).completion.certificate_here  # the Credit tab's, the same
        assert state_text(row.state, row.reason, row.certificate_here) == NOT_HERE_WORDS
        assert claims_notice(report) == f"1 claim accepted. {PREPARING}"
        assert learner.certificate_pdf(cert_id) is None
        with pytest.raises(RuleError) as not_here:
            learner.export_certificate(cert_id, tmp_path / "cert.pdf")
        assert str(not_here.value) == CERTIFICATE_NOT_HERE
        # The signed credential came all the same: it verifies now, offline.
        signed = learner.export_certificate(cert_id, tmp_path / "cert.json")
        assert learner.verify_certificate_file(signed).valid

    # The rush is over: the courier's next sync (after Retry-After, bounded here) brings it.
    watcher.wait_until(lambda: learner.certificate_pdf(cert_id) is not None, "the certificate arrived by itself")
    assert learner.certificate_pdf(cert_id) == _stored_pdf(server, cert_id)
    assert _pdf_answers(server, cert_id)[-1] == 200
    [row] = learner.my_credits().rows
    assert row.state == "accepted" and row.certificate_here
    assert learner.learning_state(DEMO_ID).completion.certificate_here
    assert state_text(row.state, row.reason, row.certificate_here) == "Accepted"
    result = learner.verify_certificate_file(learner.export_certificate(cert_id, tmp_path / "again.json"))
    assert result.valid, result.message
    assert learner.status().last_error is None


def test_a_certificate_being_prepared_does_not_hold_back_the_others_of_the_same_sync(server, learner, tmp_path):
    publish(server, tmp_path, activity_doc(SECOND))
    learner.sync()
    app = server.app
    with app.state.finisher.while_issuing():
        claim(learner)
        first = learner.sync().completions
        assert (first.certificates, first.certificates_preparing) == (0, 1)
        ready_id = learner.learning_state(DEMO_ID).completion.certificate_id
        assert finish(app.state.db, app.state.signing_key, ready_id)  # this one the finisher got to

        claim(learner, SECOND)
        second = learner.sync().completions
        waiting_id = learner.learning_state(SECOND).completion.certificate_id
        assert (second.accepted, second.certificates, second.certificates_preparing) == (1, 1, 1)
        assert second.errors == []
        assert learner.certificate_pdf(ready_id) == _stored_pdf(server, ready_id)
        assert learner.certificate_pdf(waiting_id) is None
        rows = {r.certificate_id: r.certificate_here for r in learner.my_credits().rows}
        assert rows == {ready_id: True, waiting_id: False}


def test_once_the_server_says_it_is_preparing_pdfs_a_sync_asks_for_no_more_of_them(server, learner, tmp_path):
    """A rush's Retry-After holds for every PDF: a sync with several certificates waiting asks
    for one PDF, keeps every signed credential, and leaves the PDFs to a later sync (a backlog
    of 1,000 took 42 s of 503s per sync before, bench_outbox)."""
    publish(server, tmp_path, activity_doc(SECOND))
    learner.sync()
    with server.app.state.finisher.while_issuing():
        claim(learner)
        claim(learner, SECOND)
        server.request_log.clear()
        report = learner.sync().completions
        assert (report.accepted, report.certificates, report.certificates_preparing) == (2, 0, 2)
        ids = [learner.learning_state(a).completion.certificate_id for a in (DEMO_ID, SECOND)]
        pdf_requests = [r for r in server.request_log.matching("/api/v1/certificates/", method="GET")
                        if not r.path.endswith(".json")]
        assert [r.status for r in pdf_requests] == [503]
        for cert_id in ids:  # each signed credential kept and verifiable offline already
            assert learner.verify_certificate_file(learner.export_certificate(cert_id, tmp_path / f"{cert_id}.json")).valid

        server.request_log.clear()
        again = learner.sync().completions  # still busy: one question, nothing fetched again
        assert again.certificates_preparing == 2
        assert len(server.request_log.matching("/api/v1/certificates/", method="GET")) == 1

    finished = learner.sync().completions  # the rush is over: both PDFs come
    assert (finished.certificates, finished.certificates_preparing) == (2, 0)
    assert all(learner.certificate_pdf(cert_id) == _stored_pdf(server, cert_id) for cert_id in ids)
