"""Rule 3 in the library and the downloads: an activity past its termination date (judged on
the server-corrected clock) is marked "Expired", and media no one here can open is not
fetched. Real reference server over loopback, real SQLite; the server's clock is moved by
the offset this computer learnt from it."""

from __future__ import annotations

import pytest

from desktop.errors import RuleError
from tests.credit.conftest import sql
from tests.support.activities import DEMO_ID

TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000


def server_clock_ahead(services, ms: int) -> None:
    sql(services, "UPDATE sync_state SET clock_offset_ms = ?", ms)


def test_rule3_on_the_corrected_clock_the_library_marks_an_ended_activity(learner):
    row = next(r for r in learner.library_rows() if r.id == DEMO_ID)
    assert not row.expired and row.ended == ""
    server_clock_ahead(learner, TEN_YEARS_MS)  # the device clock is right; the server says it is later
    row = next(r for r in learner.library_rows() if r.id == DEMO_ID)
    assert row.expired and "can no longer be started" in row.ended


def test_rule3_media_of_an_activity_no_one_here_can_open_is_not_downloaded(learner):
    server_clock_ahead(learner, TEN_YEARS_MS)
    with pytest.raises(RuleError, match="can no longer be started") as err:
        learner.enqueue_downloads([DEMO_ID])
    assert err.value.code == "availability"
    assert learner.enqueue_downloads(None) == []  # "download everything" skips it
    assert sql(learner, "SELECT count(*) FROM download_jobs") == [(0,)]
    server_clock_ahead(learner, 0)
    assert learner.enqueue_downloads([DEMO_ID])  # while it runs, it downloads


def test_rule3_a_learner_who_started_before_the_end_may_still_fetch_it(learner):
    learner.acknowledge_disclosures(DEMO_ID)  # started while it ran: it can still be read
    server_clock_ahead(learner, TEN_YEARS_MS)
    assert learner.enqueue_downloads([DEMO_ID])
