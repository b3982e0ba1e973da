"""The desktop follows a download's redirects itself (desktop/sync/downloads_transfer.py):
never to plain http:// on the network, a refused link asks the server again, and a loop
ends. The real server behind a proxy that answers its media requests with redirects."""

from __future__ import annotations

from tests.downloads.conftest import fast_policy
from tests.support.fault_proxy import Canned, FaultProxy
from tests.support.media_publish import publish_activity, store_files


def _failures(summary) -> list[str]:
    return [job.error for job in summary.failures]


def test_a_redirect_to_plain_http_on_the_network_is_not_followed(server, fault_proxy, client_via, data_dir,
                                                                    tmp_path):
    publish_activity(server, tmp_path / "pub", "talk-r", video_size=50_000)
    fault_proxy.answer("/api/v1/media/", Canned(307, headers={"Location": "http://192.0.2.1/cme-media/x?md5=s"}))
    services = client_via(fault_proxy.url)
    services.enqueue_downloads(["talk-r"])
    summary = services.run_downloads(policy=fast_policy())
    errors = _failures(summary)
    assert errors and all("http://192.0.2.1/cme-media/x, which is not an encrypted (https://) address" in e
                          for e in errors)
    assert all("md5=" not in e for e in errors)  # a signed link's signature stays out of messages
    assert store_files(data_dir / "blobs") == {}


def test_a_link_the_static_server_refuses_is_asked_for_again_at_the_server(server, fault_proxy, client_via,
                                                                            tmp_path):
    pub = publish_activity(server, tmp_path / "pub", "talk-r", video_size=50_000)
    static = FaultProxy(server.url)
    try:
        static.answer("/cme-media/", Canned(410, b"expired"))
        fault_proxy.answer(f"/api/v1/media/{pub.video_sha}",
                           Canned(307, headers={"Location": f"{static.url}/cme-media/{pub.video_sha}?expires=1"}))
        services = client_via(fault_proxy.url)
        services.enqueue_downloads(["talk-r"])
        summary = services.run_downloads(policy=fast_policy(max_attempts=3))
        [error] = _failures(summary)
        assert "refused the download link the credit server gave (410" in error and "Gave up after 3" in error
        asked = [path for method, path in fault_proxy.requests if pub.video_sha in path]
        assert len(asked) == 3  # every attempt went back to the server for a new link
        assert len([p for _m, p in static.requests if pub.video_sha in p]) == 3
    finally:
        static.stop()


def test_a_redirect_loop_ends(server, fault_proxy, client_via, tmp_path):
    pub = publish_activity(server, tmp_path / "pub", "talk-r", video_size=50_000)
    path = f"/api/v1/media/{pub.video_sha}"
    fault_proxy.answer(path, Canned(302, headers={"Location": path}))
    services = client_via(fault_proxy.url)
    services.enqueue_downloads(["talk-r"])
    [error] = _failures(services.run_downloads(policy=fast_policy(max_attempts=1)))
    assert "redirected the download too many times" in error
