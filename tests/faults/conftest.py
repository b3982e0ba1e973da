"""Fixtures for the field-robustness scenarios: the socket-level fault proxy in front of
the real server, a signed-in client behind it, and activities waiting on the server."""

from __future__ import annotations

import pytest


@pytest.fixture
def proxy(server):
    from tests.support.socket_proxy import SocketProxy

    p = SocketProxy(server.url)
    yield p
    p.stop()
