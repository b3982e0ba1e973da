"""Media handed to a static server (creditserver/media_links.py, media_folder.py): the server
still decides — sign-in, the withdrawn-activity rule — then answers with a signed link or
X-Accel-Redirect; the store can be shared with the static server's group. Real server
over loopback; tests/downloads/test_media_nginx.py runs a real nginx behind these answers."""

from __future__ import annotations

import grp
import os
import stat
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from cmecore.protocol import ProblemType
from creditserver.cli import main as server_main
from creditserver.media_links import MediaDelivery, MediaLinks, sign
from tests.support.media_publish import publish_activity
from tests.support.servers import data_options

from .conftest import bearer, client_for, sign_in

BASE = "https://media.example.org/cme-media"


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _own_group() -> str:
    return grp.getgrgid(os.getgid()).gr_name


def test_a_signed_link_answers_only_after_sign_in_and_the_withdrawn_rule(start_server, tmp_path):
    server = start_server(media_delivery=MediaDelivery(base_url=BASE, link_ttl_s=120))
    pub = publish_activity(server, tmp_path / "pub", "talk-linked", video_size=10_000)
    secret = (server.data_dir / "media-link-secret").read_text().strip()
    with client_for(server) as api:
        auth = bearer(sign_in(api))
        assert api.get(f"/media/{pub.video_sha}").status_code == 401
        assert api.get(f"/media/{'0' * 64}", headers=auth).status_code == 404  # no link for what is not here

        for method in ("GET", "HEAD"):
            answer = api.request(method, f"/media/{pub.video_sha}", headers=auth)
            assert answer.status_code == 307 and answer.headers["cache-control"] == "no-store"
        link = urlsplit(answer.headers["location"])
        assert f"{link.scheme}://{link.netloc}{link.path}" == f"{BASE}/{pub.video_sha[:2]}/{pub.video_sha}"
        query = {k: v for k, [v] in parse_qs(link.query).items()}
        assert 110 <= int(query["expires"]) - time.time() <= 121
        assert query["md5"] == sign(link.path, int(query["expires"]), secret)

        server.withdraw("talk-linked")
        refused = api.get(f"/media/{pub.video_sha}", headers=auth)
        assert refused.status_code == 403 and refused.json()["type"] == ProblemType.activity_withdrawn


def test_x_accel_redirect_answers_with_an_empty_body_for_nginx_to_fill(start_server, tmp_path):
    server = start_server(media_delivery=MediaDelivery(accel_prefix="/cme-media-internal/"))
    pub = publish_activity(server, tmp_path / "pub", "talk-accel", video_size=10_000)
    with client_for(server) as api:
        auth = bearer(sign_in(api))
        answer = api.get(f"/media/{pub.video_sha}", headers={**auth, "Range": "bytes=5-"})
        assert answer.status_code == 200 and answer.content == b""
        assert answer.headers["x-accel-redirect"] == f"/cme-media-internal/{pub.video_sha[:2]}/{pub.video_sha}"
        assert answer.headers["content-type"] == "video/mp4"
        assert api.get(f"/media/{pub.video_sha}").status_code == 401


@pytest.mark.parametrize("delivery", [MediaDelivery(base_url=BASE), MediaDelivery(accel_prefix="/cme-media-internal/")],
                         ids=["signed-link", "x-accel"])
def test_a_token_signed_out_or_expired_gets_no_file_from_the_very_next_request(start_server, tmp_path, delivery):
    """The token is looked up on every request: signing out (or expiry) takes effect at
    once, with the same 401 problem /me gives, not a link or a file."""
    server = start_server(media_delivery=delivery)
    pub = publish_activity(server, tmp_path / "pub", "talk-revoked", video_size=10_000)
    with client_for(server) as api:
        tokens = sign_in(api)
        auth = bearer(tokens)
        assert api.get(f"/media/{pub.video_sha}", headers=auth).status_code in (200, 307)

        assert api.post("/auth/revoke", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
        refused, me = api.get(f"/media/{pub.video_sha}", headers=auth), api.get("/me", headers=auth)
        assert refused.status_code == me.status_code == 401 and refused.json() == me.json()
        assert refused.headers["www-authenticate"] == me.headers["www-authenticate"]
        assert "location" not in refused.headers and "x-accel-redirect" not in refused.headers

        auth = bearer(sign_in(api))
        assert api.get(f"/media/{pub.video_sha}", headers=auth).status_code in (200, 307)
        server.expire_access_tokens()
        expired, me = api.get(f"/media/{pub.video_sha}", headers=auth), api.get("/me", headers=auth)
        assert expired.status_code == 401 and expired.json() == me.json()
        assert expired.json()["type"] == ProblemType.token_expired

        for headers in ({}, {"Authorization": "Basic ZGVtbzpkZW1v"}, {"Authorization": "Bearer not-a-token"}):
            missing, me = api.get(f"/media/{pub.video_sha}", headers=headers), api.get("/me", headers=headers)
            assert missing.status_code == 401 and missing.json() == me.json()


def test_the_link_secret_is_made_once_owner_only_and_kept(start_server):
    server = start_server(media_delivery=MediaDelivery(base_url=BASE))
    path = server.data_dir / "media-link-secret"
    secret = path.read_text()
    assert len(secret.strip()) >= 32 and _mode(path) == 0o600
    server.stop()
    start_server(again=server, media_delivery=MediaDelivery(base_url=BASE))
    assert path.read_text() == secret


def test_the_operators_secret_file_is_used_and_a_bad_one_refused(start_server, tmp_path):
    given = tmp_path / "secret"
    given.write_text("a-secret-the-operator-chose-0123\n")
    server = start_server(media_delivery=MediaDelivery(base_url=BASE, secret_file=given))
    assert server.app.state.media_links.secret == "a-secret-the-operator-chose-0123"
    assert not (server.data_dir / "media-link-secret").exists()

    given.write_text('has "quotes" and $vars in it\n')
    with pytest.raises(ValueError, match="--media-secret-file"):
        start_server(media_delivery=MediaDelivery(base_url=BASE, secret_file=given))


def test_the_media_group_can_read_the_store_and_what_is_published_later(start_server, tmp_path):
    server = start_server(media_delivery=MediaDelivery(group=_own_group()))
    gid = os.getgid()
    media = server.data_dir / "media"
    assert _mode(server.data_dir) == 0o710  # the group passes through, lists nothing
    assert _mode(server.data_dir / "signing-key.pem") == 0o600
    if server.database_url is None:  # SQLite, in the data folder
        assert _mode(server.data_dir / "server.sqlite3") == 0o600
    demo_files = [p for p in media.rglob("*") if p.is_file()]
    assert demo_files and all(_mode(p) == 0o640 and p.stat().st_gid == gid for p in demo_files)
    assert _mode(media) == 0o2750 and all(_mode(p) == 0o2750 for p in media.iterdir() if p.is_dir())

    # Published after the start, and by the `publish` command (another process, no option):
    pub = publish_activity(server, tmp_path / "pub", "talk-later", video_size=10_000)
    later = media / pub.video_sha[:2] / pub.video_sha
    assert _mode(later) == 0o640 and later.stat().st_gid == gid and _mode(later.parent) == 0o2750
    folder = tmp_path / "pub2"
    publish_activity(server, folder, "talk-cli", video_size=10_000, seed=9)  # writes the folder
    assert server_main(["publish", *data_options(server), "--videos-as-is", str(folder)]) == 0
    assert all(_mode(p) == 0o640 for p in media.rglob("*") if p.is_file())
    assert _mode(server.data_dir) == 0o710  # the command's own opening kept it passable


def test_without_the_option_the_store_stays_owner_only(server):
    media = server.data_dir / "media"
    assert _mode(server.data_dir) == 0o700 and _mode(media) == 0o700
    assert all(_mode(p) == 0o600 for p in media.rglob("*") if p.is_file())


@pytest.mark.parametrize(("options", "named"), [
    (["--media-base-url", "http://media.example.org/cme"], "--media-base-url: must be https://"),
    (["--media-base-url", "https://media.example.org/cme?x=1"], "--media-base-url"),
    (["--media-base-url", BASE, "--media-accel-prefix", "/internal/"], "not both"),
    (["--media-secret-file", "/etc/hostname"], "--media-secret-file: only used with --media-base-url"),
    (["--media-base-url", BASE, "--media-link-ttl", "5"], "--media-link-ttl"),
    (["--media-accel-prefix", "internal"], "--media-accel-prefix"),
    (["--media-group", "no-such-group-here"], "--media-group: there is no group named"),
])
def test_serve_refuses_media_options_that_cannot_work(tmp_path, capsys, options, named):
    assert server_main(["--data-dir", str(tmp_path / "data"), "--port", "0", *options]) == 2
    assert named in capsys.readouterr().err


def test_a_link_names_the_file_and_its_expiry_as_nginx_reads_them():
    links = MediaLinks("http://127.0.0.1:9/cme-media/", "s" * 20, ttl_s=60)
    sha = "ab" * 32
    assert links.url_for(sha, now=1_000_000) == (
        f"http://127.0.0.1:9/cme-media/ab/{sha}?md5={sign(f'/cme-media/ab/{sha}', 1_000_060, 's' * 20)}"
        "&expires=1000060")
    # MD5("5/m/ab/x kkkk…") in base64url without padding (nginx accepts such links: test_media_nginx)
    assert sign("/m/ab/x", 5, "k" * 16) == "UzSW9d8Q-wqwaj0E9hrVmw"
