"""Media sent by a real nginx (Debian's) in front of the credit server's media folder.

The nginx `location` blocks are docs/deployment.md's ("Media from a static server"), so
the documented configuration is the tested one. Run as root, nginx's workers are `nobody`
and read the store only because `--media-group` shared it with their group.
"""

from __future__ import annotations

import hashlib
import shutil
import time

import httpx
import pytest

from creditserver.media_links import MediaDelivery, MediaLinks
from tests.downloads.conftest import fast_policy
from tests.support.media_publish import publish_activity, store_files
from tests.support.nginx import (
    ACCEL_REDIRECT,
    INSTALL_LINE,
    SIGNED_LINKS,
    Nginx,
    documented_locations,
    free_port,
    media_group,
    nginx_binary,
    passable_folder,
)

pytestmark = pytest.mark.skipif(nginx_binary() is None, reason=f"nginx is not installed: {INSTALL_LINE}")

VIDEO_SIZE = 3_000_000
BASE_PATH = "/cme-media"


@pytest.fixture
def passable():
    folder = passable_folder("cme-nginx-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def signed(passable, start_server, tmp_path):
    """The demo server answering media with signed links to nginx, and that nginx."""
    port = free_port()
    server = start_server(data_dir=passable / "server", media_delivery=MediaDelivery(
        base_url=f"http://127.0.0.1:{port}{BASE_PATH}", group=media_group()))
    secret = (server.data_dir / "media-link-secret").read_text().strip()
    locations = documented_locations(SIGNED_LINKS, data_dir=server.data_dir, secret=secret)
    nginx = Nginx(tmp_path / "nginx", locations, group=media_group(), port=port)
    yield server, nginx, secret
    nginx.stop()


def _token(server) -> dict[str, str]:
    r = httpx.post(server.api_url + "/auth/token", json={"username": "demo", "password": "demo"})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _served(nginx, uri_part: str, count: int) -> list[dict[str, str]]:
    """nginx's access-log rows for `uri_part`, once `count` are written (it logs after sending)."""
    deadline = time.monotonic() + 5
    while True:
        rows = [row for row in nginx.access_log() if uri_part in row["uri"]]
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.02)


def test_the_server_redirects_to_a_signed_link_that_nginx_serves_with_range_and_if_range(signed, tmp_path):
    server, nginx, _secret = signed
    pub = publish_activity(server, tmp_path / "pub", "talk-static", video_size=VIDEO_SIZE)
    auth, etag = _token(server), f'"{pub.video_sha}"'
    with httpx.Client(timeout=10) as http:
        answer = http.get(f"{server.api_url}/media/{pub.video_sha}", headers=auth)
        assert answer.status_code == 307 and answer.headers["cache-control"] == "no-store"
        link = answer.headers["location"]
        assert link.startswith(f"{nginx.url}{BASE_PATH}/{pub.video_sha[:2]}/{pub.video_sha}?md5=")

        whole = http.get(link)
        assert whole.status_code == 200 and _sha(whole.content) == pub.video_sha
        assert whole.headers["etag"] == etag

        middle = VIDEO_SIZE // 2  # a download cut in the middle, resumed
        tail = http.get(link, headers={"Range": f"bytes={middle}-", "If-Range": etag})
        assert tail.status_code == 206
        assert tail.headers["content-range"] == f"bytes {middle}-{VIDEO_SIZE - 1}/{VIDEO_SIZE}"
        assert _sha(pub.video[:middle] + tail.content) == pub.video_sha

        changed = http.get(link, headers={"Range": f"bytes={middle}-", "If-Range": '"another-file"'})
        assert changed.status_code == 200 and len(changed.content) == VIDEO_SIZE  # the whole file again

        followed = http.get(f"{server.api_url}/media/{pub.video_sha}", headers={**auth, "Range": "bytes=10-19"},
                            follow_redirects=True)
        assert followed.status_code == 206 and followed.content == pub.video[10:20]
    # httpx drops the token on a redirect to another origin: nginx never saw one.
    assert [row["auth"] for row in _served(nginx, pub.video_sha, 4)] == ["-"] * 4


def test_nginx_refuses_an_expired_or_forged_link(signed, tmp_path):
    server, nginx, secret = signed
    pub = publish_activity(server, tmp_path / "pub", "talk-static", video_size=100_000)
    other = publish_activity(server, tmp_path / "other", "talk-other", video_size=100_000, seed=2)
    base = f"{nginx.url}{BASE_PATH}"
    links = MediaLinks(base, secret, ttl_s=60)
    good = links.url_for(pub.video_sha)
    expired = MediaLinks(base, secret, ttl_s=10).url_for(pub.video_sha, now=time.time() - 3600)
    forged = MediaLinks(base, "not-the-secret-at-all", ttl_s=60).url_for(pub.video_sha)
    md5 = good.split("md5=")[1].split("&")[0]
    tampered = good.replace(md5, ("A" if md5[0] != "A" else "B") + md5[1:])
    later = good.replace(good.split("expires=")[1], str(int(time.time()) + 86_400))  # a longer life, same md5
    swapped = good.replace(pub.video_sha, other.video_sha)  # another file, this file's signature
    bare = good.split("?")[0]
    with httpx.Client(timeout=10) as http:
        assert http.get(good).status_code == 200
        assert http.get(expired).status_code == 410
        for refused in (forged, tampered, later, swapped, bare):
            assert http.get(refused).status_code == 403, refused


def test_the_desktop_downloads_a_video_through_nginx_and_resumes_there(signed, client_via, data_dir, tmp_path):
    server, nginx, _secret = signed
    pub = publish_activity(server, tmp_path / "pub", "talk-static", video_size=VIDEO_SIZE)
    services = client_via(server.url)
    # Half the video arrived in an earlier run (a connection cut, a closed laptop).
    half = VIDEO_SIZE // 2
    folder = data_dir / "blobs" / pub.video_sha[:2]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / (pub.video_sha + ".part")).write_bytes(pub.video[:half])

    services.enqueue_downloads(["talk-static"])
    assert services.run_downloads(policy=fast_policy()).ok

    assert store_files(data_dir / "blobs")[pub.video_sha].read_bytes() == pub.video
    [video] = _served(nginx, pub.video_sha, 1)
    assert (video["status"], video["bytes"]) == ("206", str(VIDEO_SIZE - half))
    assert (video["range"], video["if_range"], video["auth"]) == (f"bytes={half}-", f'"{pub.video_sha}"', "-")
    asked = [r for r in server.request_log.matching(f"/api/v1/media/{pub.video_sha}")]
    assert [r.status for r in asked] == [307]


def test_the_desktop_downloads_through_nginx_with_x_accel_redirect(passable, start_server, client_via, data_dir,
                                                                     tmp_path):
    server = start_server(data_dir=passable / "server", media_delivery=MediaDelivery(
        accel_prefix="/cme-media-internal/", group=media_group()))
    pub = publish_activity(server, tmp_path / "pub", "talk-accel", video_size=VIDEO_SIZE)
    locations = documented_locations(ACCEL_REDIRECT, data_dir=server.data_dir, upstream=server.url.removeprefix("http://"))
    nginx = Nginx(tmp_path / "nginx", locations, group=media_group())
    try:
        services = client_via(nginx.url)
        services.enqueue_downloads(["talk-accel"])
        assert services.run_downloads(policy=fast_policy()).ok
        assert store_files(data_dir / "blobs")[pub.video_sha].read_bytes() == pub.video

        media = f"{nginx.url}/api/v1/media/{pub.video_sha}"
        etag = f'"{pub.video_sha}"'
        with httpx.Client(timeout=10) as http:
            auth = _token(server)
            middle = VIDEO_SIZE // 2
            tail = http.get(media, headers={**auth, "Range": f"bytes={middle}-", "If-Range": etag})
            assert (tail.status_code, tail.headers["etag"], tail.headers["content-type"]) == (206, etag, "video/mp4")
            assert _sha(pub.video[:middle] + tail.content) == pub.video_sha
            assert http.get(media).status_code == 401  # nginx sends nothing the server did not allow
            internal = f"{nginx.url}/cme-media-internal/{pub.video_sha[:2]}/{pub.video_sha}"
            assert http.get(internal).status_code == 404  # the internal location is not reachable from outside
        served = [r for r in server.request_log.matching(f"/api/v1/media/{pub.video_sha}") if r.status == 200]
        assert served and all(r.bytes_sent == 0 for r in served)  # the server sent no media byte itself
    finally:
        nginx.stop()
