"""The status bar tells the truth about the server, and claims reach it unasked: a claim made
online is sent at once; with the server stopped the status says offline after one failed
request; when the server is started again (same port, same data folder) nobody does
anything and the waiting claim is delivered, the status is online and no "not reachable"
remains. Real reference server on loopback, real SQLite and keyring, offscreen Qt."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QSystemTrayIcon

from desktop.sync import courier
from desktop.views.activity.page import CREDIT_TAB
from tests.gui.test_learning_gui import T, click, make_window, open_activity, ready_to_claim, signed_in
from tests.server.credit_support import publish
from tests.support.activities import DEMO_ID, activity_doc

pytestmark = pytest.mark.gui

SECOND = "second-bp-activity"


@pytest.fixture
def quick_probes(monkeypatch):
    """Probe a stopped server every 50 ms, doubling to 200 ms (the app: 5 s to 60 s)."""
    monkeypatch.setattr(courier, "FIRST_PROBE_S", 0.05)
    monkeypatch.setattr(courier, "LAST_PROBE_S", 0.2)


def claim_in_gui(qtbot, window, activity_id: str):
    page = open_activity(window, activity_id)
    page.tabs.setCurrentIndex(CREDIT_TAB)
    credit = page.credit_tab
    click(qtbot, credit.claim.attest_check)
    credit.claim.minutes_spin.setValue(30)
    with qtbot.waitSignal(credit.claim_finished, timeout=T) as claimed:
        click(qtbot, credit.claim.claim_button)
    assert claimed.args[0].state == "pending"
    return credit


def posts(server) -> list:
    return server.request_log.matching("/api/v1/completions", method="POST")


def test_the_status_follows_the_server_and_claims_go_without_being_asked(
        qtbot, server, start_server, make_services, tmp_path, quick_probes):
    publish(server, tmp_path, activity_doc(SECOND))
    services = signed_in(make_services(server.url))
    for activity_id in (DEMO_ID, SECOND):
        ready_to_claim(services, activity_id)
    window = make_window(qtbot, services)
    assert "● Online" in window.status_text()
    assert window.sync.timer.remainingTime() > 60_000  # the timed sync is minutes away
    catalog_reads = len(server.request_log.matching("/api/v1/catalog"))

    # Online: the claim is sent at once, by no sync and no timer.
    credit = claim_in_gui(qtbot, window, DEMO_ID)
    qtbot.waitUntil(lambda: credit.status_label.text() == "Accepted — certificate ready", timeout=T)
    assert [p.status for p in posts(server)] == [200]
    assert len(server.request_log.matching("/api/v1/catalog")) == catalog_reads
    assert window.last_notification == "1 claim accepted; the certificate is in My credits."
    if not QSystemTrayIcon.isSystemTrayAvailable():  # offscreen: no tray, the status bar says it
        assert window.statusBar().currentMessage() == window.last_notification
    qtbot.waitUntil(lambda: "waiting to sync" not in window.status_text(), timeout=T)

    # The server goes away: the next request (the delivery of a new claim) says offline.
    server.stop()
    window.last_notification = None
    credit = claim_in_gui(qtbot, window, SECOND)
    qtbot.waitUntil(lambda: "○ Offline" in window.status_text(), timeout=T)
    assert "1 completion waiting to sync" in window.status_text()
    assert credit.status_label.text() == "Waiting to sync"
    assert not window.syncing
    with qtbot.waitSignal(window.sync_finished, timeout=T):  # and "Sync now" says why it failed
        window.sync_button.click()
    assert "Server not reachable" in window.status_text()
    assert window.last_notification is None  # nothing arrived, nothing said

    # It comes back; nobody touches anything.
    back = start_server(again=server)
    qtbot.waitUntil(lambda: credit.status_label.text() == "Accepted — certificate ready", timeout=T)
    qtbot.waitUntil(lambda: "waiting to sync" not in window.status_text() and not window.syncing, timeout=T)
    text = window.status_text()
    assert "● Online" in text and "Offline" not in text
    assert "not reachable" not in text.lower() and window.error_label.text() == ""
    assert back.request_log.matching("/api/v1/info")  # the probe found it
    assert [p.status for p in posts(back)] == [200]  # the waiting claim, once
    assert window.last_notification == "1 claim accepted; the certificate is in My credits."
    assert [r.state for r in services.my_credits().rows] == ["accepted", "accepted"]
