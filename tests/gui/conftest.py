"""GUI test fixtures: every test here is marked `gui`, leaves no background task behind, and
sees what the app hands to the system (links, certificates) in `opened`."""

from __future__ import annotations

import os

import pytest
from PySide6.QtGui import QDesktopServices

from desktop.views import certificate_actions

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
