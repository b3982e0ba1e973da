"""The load bench's scenario (tests/bench/bench_server_load.py) with 5 learners, on the
suite's database (SQLite, or PostgreSQL with --server-db=postgresql): a real server process,
sign-ins, catalog fetches, a batch doubled at the same moment and everything re-sent, all
answered and stored exactly once, then every certificate fetched as the desktop does; and the bench's count check sees a lost completion or
certificate. No timings are asserted: the bench prints them."""

from __future__ import annotations

from sqlalchemy import delete, select

from creditserver.db import default_url, make_engine
from creditserver.models import Certificate, Completion
from tests.support.server_load import BATCH, check_exactly_once, run_once

LEARNERS = 5


def test_a_small_rush_is_answered_without_errors_and_every_completion_stored_once(tmp_path, server_database):
    data_dir, url = tmp_path / "server", server_database()
    run = run_once(data_dir, url, LEARNERS)
    outcome = run.outcome

    assert outcome.error_count == 0, outcome.examples
    assert outcome.false_refusals == 0, outcome.examples
    assert outcome.delivered_first == LEARNERS * BATCH
    assert len(outcome.latencies["sign-in"]) == LEARNERS
    assert len(outcome.latencies["catalog"]) == 2 * LEARNERS
    assert len(outcome.latencies["completion POST"]) == LEARNERS + 1  # learner 0's batch went twice
    assert len(outcome.latencies["re-send"]) == LEARNERS
    # Then each learner fetched its certificates as the desktop does: every PDF came (some
    # perhaps after a 503 certificate-not-ready and its Retry-After, which are no errors).
    assert outcome.certificates_fetched == LEARNERS * BATCH
    assert len(outcome.certificates_step_s) == LEARNERS
    assert len(outcome.latencies["certificate PDF"]) == LEARNERS * BATCH + outcome.not_ready
    assert len(outcome.latencies["credential"]) == LEARNERS * BATCH
    assert run.check.ok, run.check.summary()
    assert run.check.stored == run.check.certificates == LEARNERS * BATCH
    # After the answers, the server's finisher signed and rendered every certificate.
    finishing = run.finishing
    assert finishing.certificates == LEARNERS * BATCH
    assert finishing.signed_after_s is not None and finishing.rendered_after_s is not None, finishing.summary()

    # The check counts from the database: take one certificate and one completion away.
    engine = make_engine(url or default_url(data_dir))
    with engine.begin() as con:
        first, second = con.execute(select(Completion.id).order_by(Completion.id).limit(2)).scalars()
        con.execute(delete(Certificate).where(Certificate.completion_id == first))
        con.execute(delete(Completion).where(Completion.id == second))
    engine.dispose()
    check = check_exactly_once(data_dir, url, outcome)
    assert not check.ok
    assert (check.missing, check.without_certificate, check.unexpected) == (1, 1, 0)
    assert check.answers_disagree == 2  # answered with a certificate the database no longer has
    assert "stored exactly once: NO" in check.summary()
