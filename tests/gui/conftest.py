"""GUI test fixtures: every test here is marked `gui`, leaves no background task behind,
sees what the app hands to the system (links, certificates) in `opened`, and answers the
Settings page's "unsaved changes" and "this signs you out" questions without a modal box
(`unsaved_settings`, `server_change`)."""

from __future__ import annotations

import os

import pytest
from PySide6.QtGui import QDesktopServices

from desktop.views import certificate_actions, pages
from desktop.views.theme import app_theme

pytestmark = pytest.mark.gui


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/gui" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def drain_tasks(qapp):
    """No worker may outlive a test: wait for the pool and deliver what it posted."""
    yield
    from desktop.views.tasks import wait_for_tasks

    assert wait_for_tasks(30_000), "a background task did not finish"
    qapp.processEvents()


@pytest.fixture
def opened(monkeypatch) -> list:
    """The URLs of links and files handed to the system viewer (the hand-off is replaced;
    a file handed over is real)."""
    urls = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: urls.append(url) or True))
    monkeypatch.setattr(certificate_actions, "open_url", lambda url: urls.append(url) or True)
    return urls


class UnsavedSettingsAnswer:
    """What the learner answers when leaving Settings with unsaved edits ("discard" unless a
    test says otherwise), and how often they were asked."""

    def __init__(self):
        self.answer = pages.DISCARD
        self.asked = 0

    def __call__(self, _parent) -> str:
        self.asked += 1
        return self.answer


@pytest.fixture(autouse=True)
def unsaved_settings(monkeypatch) -> UnsavedSettingsAnswer:
    answer = UnsavedSettingsAnswer()
    monkeypatch.setattr(pages, "ask_about_unsaved_changes", answer)
    return answer


class ServerChangeAnswer:
    """What the learner answers when a new server address would sign them out (cancel, the
    dialog's default, unless a test says otherwise), and the addresses they were asked about."""

    def __init__(self):
        self.answer = False
        self.asked: list[str] = []

    def __call__(self, _parent, _learner: str, url: str, _old: str) -> bool:
        self.asked.append(url)
        return self.answer


@pytest.fixture(autouse=True)
def server_change(monkeypatch) -> ServerChangeAnswer:
    answer = ServerChangeAnswer()
    monkeypatch.setattr(pages, "ask_to_change_server", answer)
    return answer


@pytest.fixture
def theme(qapp):
    """The app's Theme, put back to the system's colours after the test."""
    yield app_theme(qapp)
    app_theme(qapp).apply("system")
