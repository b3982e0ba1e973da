"""serve_in_thread: what the desktop demo mode and the tests rely on."""

from __future__ import annotations

import httpx
import pytest

from creditserver.runner import serve_in_thread


def test_a_busy_port_is_reported_so_the_caller_can_fall_back(server, tmp_path):
    busy_port = int(server.url.rsplit(":", 1)[1])
    with pytest.raises(OSError):
        serve_in_thread(tmp_path / "second", port=busy_port)
    assert httpx.get(server.api_url + "/info").status_code == 200  # the first server is untouched


def test_stop_closes_the_port_and_the_data_survives_a_restart(tmp_path):
    server = serve_in_thread(tmp_path / "data", demo=True)
    url = server.api_url
    assert httpx.get(url + "/info").status_code == 200
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/info")
    with serve_in_thread(tmp_path / "data") as again:  # no --demo: the demo learner is still there
        r = httpx.post(again.api_url + "/auth/token", json={"username": "demo", "password": "demo"})
        assert r.status_code == 200
