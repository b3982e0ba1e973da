"""Online or offline is what the last request to the server showed, whoever made it; and a
claim reaches the server without anyone asking: at once when made, and when the server
comes back after being away. Against the real reference server on loopback, stopped and
started again on the same port and data folder (real SQLite, the real keyring backend)."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from desktop.errors import ServerUnreachable, WrongCredentials
from desktop.sync.http import build_client
from tests.credit.conftest import ready_to_claim
from tests.support.activities import DEMO_ID
from tests.support.clients import dead_url

WAIT_S = 20.0  # the longest any step below may take on a loaded machine
QUICK_PROBES = {"first_probe_s": 0.05, "last_probe_s": 0.2}


class Watcher:
    """What the services told, collected from whichever thread told it."""

    def __init__(self, services):
        self.services = services
        self.flips: list[bool] = []
        self.delivered: list = []
        self.changed = threading.Condition()
        services.connection.on_online_change.append(lambda online: self._add(self.flips, online))
        services.syncing.on_delivered.append(lambda report: self._add(self.delivered, report))

    def _add(self, into: list, item) -> None:
        with self.changed:
            into.append(item)
            self.changed.notify_all()

    def wait_until(self, condition, what: str) -> None:
        """Until `condition()` holds: woken by what the services tell, and every 20 ms for
        what they do not (the courier's probe count)."""
        deadline = time.monotonic() + WAIT_S
        with self.changed:
            while not condition():
                assert time.monotonic() < deadline, f"not within {WAIT_S} s: {what}"
                self.changed.wait(0.02)


def signed_in(make_services, url):
    services = make_services(url)
    services.sign_in("demo", "demo")
    services.sync()
    return services


def posts(server) -> list:
    return server.request_log.matching("/api/v1/completions", method="POST")


@pytest.mark.parametrize("request_kind", ["sync", "sign-in", "delivery", "probe", "download client"])
def test_one_failed_request_of_any_kind_says_offline_and_the_next_success_online(
        server, start_server, make_services, request_kind):
    services = signed_in(make_services, server.url)
    watcher = Watcher(services)
    assert services.status().online is True
    ready_to_claim(services)
    services.claim_credit(DEMO_ID, 0.5, 30, True)

    server.stop()
    if request_kind == "sync":
        with pytest.raises(ServerUnreachable):
            services.sync()
    elif request_kind == "sign-in":
        with pytest.raises(ServerUnreachable):
            services.sign_in("demo", "wrong")
    elif request_kind == "delivery":
        assert services.syncing.deliver_completions(retry_now=True).unreachable
    elif request_kind == "probe":
        with pytest.raises(ServerUnreachable):
            services.syncing.probe()
    else:  # downloads and prefetch build their own clients through the connection
        with services.connection.new_client() as client, pytest.raises(httpx.ConnectError):
            client.get("/api/v1/info")
    assert services.status().online is False
    assert watcher.flips == [False]  # told at once, on the failing request's own thread

    start_server(again=server)
    with pytest.raises(WrongCredentials):  # an answer, even a "no", means the server is there
        services.account.sign_in("demo", "wrong")
    assert services.status().online is True
    assert watcher.flips == [False, True]


def test_stopped_server_offline_after_one_request_then_the_probe_finds_it_and_the_waiting_claim_goes(
        server, start_server, make_services):
    services = signed_in(make_services, server.url)
    watcher = Watcher(services)
    services.syncing.start_courier(**QUICK_PROBES)
    ready_to_claim(services)

    server.stop()
    info = services.claim_credit(DEMO_ID, 0.5, 30, True)
    services.syncing.deliver_soon()  # what the window does after a claim: the courier tries at once
    watcher.wait_until(lambda: watcher.flips == [False], "offline after the failed delivery")
    assert services.status().online is False
    assert services.status().pending_completions == 1
    watcher.wait_until(lambda: services.syncing.courier.probes >= 2, "probing while offline")

    back = start_server(again=server)  # the network is back; nobody does anything
    watcher.wait_until(lambda: watcher.delivered, "the waiting claim delivered")
    report = watcher.delivered[0].completions
    assert (report.accepted, report.remaining, report.certificates) == (1, 0, 1)
    assert services.status().online is True and watcher.flips == [False, True]
    assert back.request_log.matching("/api/v1/info")  # found by the probe, not by a sync
    assert not back.request_log.matching("/api/v1/catalog")
    assert [p.status for p in posts(back)] == [200]
    state = services.learning_state(DEMO_ID)
    assert (state.completion.id, state.completion.state) == (info.id, "accepted")
    assert services.certificate_pdf(state.completion.certificate_id).startswith(b"%PDF")


def test_a_claim_made_online_is_sent_at_once_and_nothing_is_sent_when_nothing_is_due(server, make_services):
    services = signed_in(make_services, server.url)
    watcher = Watcher(services)
    services.syncing.start_courier(**QUICK_PROBES)
    services.syncing.deliver_soon()  # nothing waiting: no request at all
    ready_to_claim(services)
    services.claim_credit(DEMO_ID, 0.5, 30, True)
    services.syncing.deliver_soon()
    watcher.wait_until(lambda: watcher.delivered, "the new claim delivered")
    assert len(posts(server)) == 1
    assert watcher.delivered[0].completions.accepted == 1 and watcher.delivered[0].not_modified
    assert services.syncing.courier.probes == 0 and watcher.flips == []  # online all along


def test_the_courier_stops_with_the_services(server, make_services):
    services = signed_in(make_services, server.url)
    services.syncing.start_courier(**QUICK_PROBES)
    thread = services.syncing.courier._thread
    services.close()
    assert not thread.is_alive()


def test_only_requests_to_the_credit_server_tell_whether_it_can_be_reached(server):
    """A download redirected to another host (a CDN) that fails says nothing about the server."""
    told: list[bool] = []
    with build_client(server.url, on_reach=told.append) as client:
        with pytest.raises(httpx.ConnectError):
            client.get(dead_url() + "/media/video.mp4")
        assert told == []
        client.get("/api/v1/info")
        assert told == [True]


def test_after_the_server_address_changes_a_request_still_going_to_the_old_one_says_nothing_of_the_new(
        server, make_services):
    services = signed_in(make_services, server.url)
    assert services.connection.online is True
    old_client = services.connection.new_client()  # e.g. a download or sync still running
    try:
        services.set_server_url(dead_url())
        assert services.connection.online is None  # the new server: not contacted yet
        assert old_client.get(f"{server.url}/api/v1/info").status_code == 200
        assert services.connection.online is None  # the old server's answer is not the new one's
        with pytest.raises(ServerUnreachable):
            services.syncing.probe()  # a request to the new server: it decides
        assert services.connection.online is False
    finally:
        old_client.close()
