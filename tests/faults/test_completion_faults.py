"""Sending completions through a network that breaks, one way after another, while the
learner keeps finishing activities: after every step nothing is lost (each claim is either
waiting here or held by the server, never twice), and once the network behaves the server
holds exactly the claims made here, each with one certificate, cached and verified here.

Not repeated from tests/credit: a lone 500, a lone lost reply, a SIGKILL after the server
stored the batch. Here the faults come in a row, on a growing outbox, and on the
certificate downloads too."""

from __future__ import annotations

import pytest

from tests.faults.checks import completion_problems, local_delivery_problems, sqlite_problems
from tests.faults.learning import claim_activity, with_read_timeout
from tests.support.activities import DEMO_ID
from tests.support.media_publish import publish_activity

ACTIVITIES = [DEMO_ID, "talk-a", "talk-b", "talk-c", "talk-d"]


@pytest.fixture
def learner_behind_proxy(server, proxy, make_services, tmp_path):
    """The demo physician signed in through `proxy`, with four more activities to finish."""
    for activity_id in ACTIVITIES[1:]:
        publish_activity(server, tmp_path / activity_id, activity_id, video_size=10_000)
    services = make_services(proxy.url)
    services.sign_in("demo", "demo")
    services.sync()
    with_read_timeout(services, 3.0)  # generous: a loaded 2-core CI machine answers slowly
    return services


def pending_ids(services) -> set[str]:
    import sqlite3

    conn = sqlite3.connect(services.db.path)
    try:
        return {r[0] for r in conn.execute("SELECT completion_id FROM outbox")}
    finally:
        conn.close()


def check_nothing_lost(server, services, claimed: set[str]) -> set[str]:
    """Every claim is waiting here or accepted; the server holds a subset, once each."""
    assert completion_problems(server.api_url, {"demo": claimed}, "demo", final=False) == []
    from tests.faults.checks import server_completions

    held = {c["id"] for c in server_completions(server.api_url, "demo", "demo")}
    waiting = pending_ids(services)
    assert waiting | held >= claimed and waiting <= claimed
    assert sqlite_problems(services.db.path) == []
    return held


def test_completions_survive_a_row_of_network_faults_then_arrive_once_each(server, proxy, learner_behind_proxy):
    services = learner_behind_proxy
    post = dict(path_prefix="/api/v1/completions", method="POST")
    claimed: set[str] = set()

    # 1. The request breaks on the way (in the headers, then mid-body): the server gets nothing.
    claimed.add(claim_activity(services, ACTIVITIES[0]))
    for cut in (60, 900):
        proxy.add(**post, cut_request_after=cut)
        report = services.deliver_completions(retry_now=True)
        assert report.remaining == 1 and "cannot be reached" in report.errors[0]
        assert check_nothing_lost(server, services, claimed) == set()

    # 2. The server fails (500): kept, with the reason.
    claimed.add(claim_activity(services, ACTIVITIES[1]))
    proxy.add(**post, answer=(500, {"Content-Type": "application/problem+json"},
                              b'{"title": "Internal Server Error", "status": 500}'))
    report = services.deliver_completions(retry_now=True)
    assert report.remaining == 2 and "500" in report.errors[0]
    assert check_nothing_lost(server, services, claimed) == set()

    # 3. The reply breaks mid-body after the server stored the batch.
    proxy.add(**post, cut_after=40)
    report = services.deliver_completions(retry_now=True)
    assert report.remaining == 2 and report.errors
    assert check_nothing_lost(server, services, claimed) == claimed  # stored, not yet known here

    # 4. The reply comes after the client stopped waiting (read timeout), with a new claim in the batch.
    claimed.add(claim_activity(services, ACTIVITIES[2]))
    proxy.add(**post, delay_s=6.0)
    report = services.deliver_completions(retry_now=True)
    assert report.remaining == 3 and "no answer in time" in report.errors[0]
    assert check_nothing_lost(server, services, claimed) == claimed

    # 5. Delivered, but the certificate downloads break (list cut, then a PDF cut, then the JSON).
    claimed.add(claim_activity(services, ACTIVITIES[3]))
    proxy.add(path_prefix="/api/v1/me/completions", cut_after=100)
    report = services.deliver_completions(retry_now=True)
    assert (report.accepted, report.duplicate, report.remaining) == (4, 3, 0)
    assert any("certificate could not be fetched yet" in e for e in report.errors)
    proxy.add(path_prefix="/api/v1/certificates/", cut_after=500)
    proxy.add(path_prefix="/api/v1/certificates/", answer=(503, {"Retry-After": "5"}, b"busy"))
    for _ in range(2):
        report = services.deliver_completions(retry_now=True)
        assert report.errors
    assert check_nothing_lost(server, services, claimed) == claimed

    # 6. One more claim, and the network behaves: everything arrives once, every certificate is kept.
    claimed.add(claim_activity(services, ACTIVITIES[4]))
    report = services.sync().completions
    assert report.errors == [] and report.remaining == 0 and report.accepted == 1
    assert completion_problems(server.api_url, {"demo": claimed}, "demo") == []
    assert local_delivery_problems(services.db.path, {"demo": claimed}) == []
    assert {r.state for r in services.my_credits().rows} == {"accepted"}


def test_an_explicit_sync_right_after_a_failed_delivery_sends_the_waiting_claims(server, proxy, learner_behind_proxy):
    services = learner_behind_proxy
    claimed = {claim_activity(services, DEMO_ID)}
    proxy.add(path_prefix="/api/v1/completions", method="POST", answer=(503, {}, b"busy"))
    assert services.sync().completions.remaining == 1
    report = services.sync().completions  # the network is back; the learner presses "Sync now"
    assert report.remaining == 0 and completion_problems(server.api_url, {"demo": claimed}, "demo") == []
