"""Identical batches racing (a client re-sending after a lost reply, two devices syncing one
outbox) are answered as if they had come one after the other: every item `accepted` once
and `duplicate` otherwise, each time with the certificate id, and each completion stored
exactly once. On PostgreSQL a racing batch used to find the first one's completion by
activity but not by id and answer `rejected / already-credited` with no certificate; run
with `--server-db=postgresql` too."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from creditserver.models import Certificate, Completion

from .conftest import client_for
from .credit_support import completion, post, publish_copies, signed_in

SENDERS = 8  # identical batches in flight at once (4 rarely showed the old race; 8 did within 3 rounds)
ROUNDS = 10  # each with new completions (of new activities: credit is once per activity)
ITEMS = 5


def test_identical_batches_sent_at_once_credit_each_completion_once_with_its_certificate(credit_server, tmp_path):
    activities = publish_copies(credit_server, tmp_path, "race", ROUNDS * ITEMS)
    with client_for(credit_server) as api:
        auth = signed_in(api, "demo")
    clients = [client_for(credit_server) for _ in range(SENDERS)]
    sent: list[str] = []
    try:
        with ThreadPoolExecutor(SENDERS) as pool:
            for round_ in range(ROUNDS):
                batch = [completion(a) for a in activities[round_ * ITEMS:(round_ + 1) * ITEMS]]
                sent += [item["id"] for item in batch]
                barrier = threading.Barrier(SENDERS)

                def send(client, batch=batch, barrier=barrier):
                    barrier.wait()
                    return post(client, auth, *batch)

                replies = list(pool.map(send, clients))

                for index, item in enumerate(batch):
                    answers = [reply[index] for reply in replies]
                    statuses = sorted(a["status"] for a in answers)
                    assert statuses == ["accepted"] + ["duplicate"] * (SENDERS - 1), (round_, index, answers)
                    assert {a["id"] for a in answers} == {item["id"]}
                    certificates = {a["certificate_id"] for a in answers}
                    assert len(certificates) == 1 and None not in certificates, answers
    finally:
        for client in clients:
            client.close()

    with credit_server.app.state.db.session() as s:
        stored = dict(s.execute(select(Completion.id, func.count()).where(Completion.id.in_(sent)).group_by(Completion.id)).all())
        certificates = s.scalar(select(func.count()).select_from(Certificate))
    assert stored == dict.fromkeys(sent, 1)  # each exactly once
    assert certificates == len(sent)
