"""The desktop and a certificate the server has not signed yet (issue 12): the server answers
a completion before its credential is signed (creditserver/finishing.py); the learner's app,
syncing in that moment, still gets a signed credential, which verifies offline."""

from __future__ import annotations

from sqlalchemy import select

from creditserver.models import Certificate
from tests.credit.conftest import claim
from tests.support.activities import DEMO_ID


def test_a_certificate_synced_before_the_server_signed_it_verifies_offline(server, learner, tmp_path):
    finisher = server.app.state.finisher
    with finisher.while_issuing():  # as in a rush: the server's finisher waits
        claim(learner)
        learner.sync()
        cert_id = learner.learning_state(DEMO_ID).completion.certificate_id
        with server.app.state.db.session() as s:
            pending = s.execute(select(Certificate.pending_json).where(Certificate.id == cert_id)).scalar_one()
        assert pending is not None  # not finished by the finisher: the app's own fetch had it signed
        saved = learner.export_certificate(cert_id, tmp_path / "cert.json")

    assert learner.my_credits().rows[0].state == "accepted"
    server.stop()  # offline from here on
    result = learner.verify_certificate_file(saved)
    assert result.valid, result.message
