"""Catalog sync through a network that breaks: each fault leaves the cache exactly as it
was (and says so plainly), and the next clean sync applies the whole change.

Not repeated from tests/sync: a canned 500, a non-JSON page, an oversized or malformed
(but well-transferred) catalog. Here the bytes themselves go wrong on the way."""

from __future__ import annotations

import json

import httpx
import pytest

from desktop.errors import CmeError, InvalidResponse, ReplyBrokenOff, ServerFailed, ServerUnreachable
from tests.faults.checks import cached_versions, catalog_snapshot, sqlite_problems
from tests.support.activities import DEMO_ID, copy_demo_folder
from tests.support.media_publish import publish_activity


@pytest.fixture
def behind_proxy(server, proxy, make_services, tmp_path):
    """A client synced through the proxy, then a change on the server it has not seen yet
    (a new activity, and the demo republished with a new title)."""
    services = make_services(proxy.url)
    services.sign_in("demo", "demo")
    services.sync()
    publish_activity(server, tmp_path / "new", "zz-new-talk", video_size=20_000)
    _republish_demo_with_title(server, tmp_path / "demo", "Home BP monitoring, revised")
    return services


def _republish_demo_with_title(server, folder, title):
    server.publish(copy_demo_folder(folder, title=title))


def server_catalog(server) -> dict[str, int]:
    with httpx.Client(base_url=server.api_url, timeout=30) as api:
        token = api.post("/auth/token", json={"username": "demo", "password": "demo", "device_name": "t"}).json()
        r = api.get("/catalog", headers={"Authorization": f"Bearer {token['access_token']}"})
        r.raise_for_status()
        return {a["id"]: a["version"] for a in r.json()["activities"]}


def catalog_length(server) -> int:
    with httpx.Client(base_url=server.api_url, timeout=30) as api:
        token = api.post("/auth/token", json={"username": "demo", "password": "demo", "device_name": "t"}).json()
        return len(api.get("/catalog", headers={"Authorization": f"Bearer {token['access_token']}"}).content)


def assert_refused_and_unchanged(services, before, error_type) -> CmeError:
    with pytest.raises(CmeError) as err:
        services.sync()
    exc = err.value
    assert isinstance(exc, error_type), f"{type(exc).__name__}: {exc}"
    message = str(exc)
    assert message.strip() and "Traceback" not in message and "\n" not in message
    assert catalog_snapshot(services.db.path) == before
    assert services.status().last_error == message
    return exc


def assert_fully_applied(services, server) -> None:
    report = services.sync()
    assert not report.not_modified
    assert cached_versions(services.db.path) == server_catalog(server)
    assert services.activity_detail(DEMO_ID).title == "Home BP monitoring, revised"
    assert services.status().last_error is None
    assert sqlite_problems(services.db.path) == []


def test_connection_cut_mid_body_then_clean_sync(server, proxy, behind_proxy):
    """A reply that began proves the server is there: the cut is refused, the status stays online."""
    services = behind_proxy
    before = catalog_snapshot(services.db.path)
    size = catalog_length(server)
    for cut in (0, 1, size // 3, size - 1):  # nothing, one byte, a third, all but the last byte
        proxy.add(path_prefix="/api/v1/catalog", cut_after=cut)
        exc = assert_refused_and_unchanged(services, before, ReplyBrokenOff)
        assert "the connection broke off" in str(exc)  # words, not an exception class name
        assert services.status().online is True
    assert_fully_applied(services, server)


def test_no_reply_at_all_says_offline_then_clean_sync(server, proxy, behind_proxy):
    """The connection closes before any of the reply: that, and only that, is offline."""
    services = behind_proxy
    before = catalog_snapshot(services.db.path)
    proxy.add(path_prefix="/api/v1/catalog", drop_response=True)
    exc = assert_refused_and_unchanged(services, before, ServerUnreachable)
    assert "cannot be reached" in str(exc)
    assert services.status().online is False
    assert_fully_applied(services, server)
    assert services.status().online is True


@pytest.mark.parametrize("where", [0.0, 0.01, 0.25, 0.5, 0.9, 1.0])
def test_a_corrupted_byte_refuses_the_whole_catalog(server, proxy, behind_proxy, where):
    services = behind_proxy
    before = catalog_snapshot(services.db.path)
    size = catalog_length(server)
    proxy.add(path_prefix="/api/v1/catalog", corrupt_at=min(size - 1, int(size * where)))
    exc = assert_refused_and_unchanged(services, before, InvalidResponse)
    assert "nothing was changed" in str(exc)
    assert_fully_applied(services, server)


def test_a_proxy_that_mislabels_the_encoding_is_refused_plainly(server, proxy, behind_proxy):
    """A middlebox says gzip (or brotli) but sends plain JSON: the reply cannot be decoded."""
    services = behind_proxy
    before = catalog_snapshot(services.db.path)
    for encoding in ("gzip", "deflate"):
        proxy.add(path_prefix="/api/v1/catalog", set_headers={"Content-Encoding": encoding})
        exc = assert_refused_and_unchanged(services, before, InvalidResponse)
        assert "nothing was changed" in str(exc)
    assert_fully_applied(services, server)


def test_503_then_ok(server, proxy, behind_proxy):
    services = behind_proxy
    before = catalog_snapshot(services.db.path)
    proxy.add(path_prefix="/api/v1/catalog", answer=(503, {"Retry-After": "1", "Content-Type": "text/html"},
                                                        b"<html>Service Unavailable</html>"))
    exc = assert_refused_and_unchanged(services, before, ServerFailed)
    assert "503" in str(exc) and "try again later" in str(exc)
    assert services.status().online is True  # something answered: the network is there
    assert_fully_applied(services, server)


def test_429_with_retry_after_then_ok(server, proxy, behind_proxy):
    services = behind_proxy
    before = catalog_snapshot(services.db.path)
    problem = json.dumps({"type": "about:blank", "title": "Too Many Requests", "status": 429}).encode()
    proxy.add(path_prefix="/api/v1/catalog", times=2,
              answer=(429, {"Retry-After": "120", "Content-Type": "application/problem+json"}, problem))
    for _ in range(2):
        exc = assert_refused_and_unchanged(services, before, ServerFailed)
        assert "429" in str(exc)
    assert_fully_applied(services, server)


def test_a_reply_held_back_is_applied_whole_once_it_arrives(server, proxy, behind_proxy):
    """Latency (no timeout): the slow reply is applied like a fast one."""
    proxy.add(path_prefix="/api/v1/catalog", delay_s=1.0)
    assert_fully_applied(behind_proxy, server)
