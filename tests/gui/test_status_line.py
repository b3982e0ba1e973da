"""The status bar never keeps a stale "not reachable" beside "● Online"."""

from __future__ import annotations

from datetime import datetime

import pytest
from PySide6.QtWidgets import QMainWindow

from desktop.services.syncing import Status
from desktop.views.status_line import StatusLine

pytestmark = pytest.mark.gui


def _status(online, code="unreachable"):
    return Status(server_url="https://cme.example.org", online=online, learner=None,
                  last_sync_at=datetime(2026, 11, 30, 9, 0), last_error="The credit server cannot be reached.",
                  last_error_code=code, clock_offset_ms=0, storage_bytes=0)


@pytest.mark.parametrize("online, shown", [(False, True), (None, True), (True, False)])
def test_a_stored_not_reachable_shows_only_until_a_request_gets_through(qtbot, online, shown):
    window = QMainWindow()
    qtbot.addWidget(window)
    line = StatusLine(window.statusBar())
    line.show(_status(online), syncing=False, downloads_pending=0, session_error=None, session_exc=None)
    assert ("Server not reachable" in line.error_label.text()) is shown
    assert ("● Online" in line.status_label.text()) is (online is True)


def test_other_stored_problems_stay_when_online(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    line = StatusLine(window.statusBar())
    line.show(_status(True, code="server-failed"), syncing=False, downloads_pending=0, session_error=None,
              session_exc=None)
    assert line.error_label.text() == "⚠ Server error"
