"""Media downloads: whole files, byte ranges, If-Range, 416 and HEAD (RFC 9110)."""

from __future__ import annotations

import hashlib

import pytest

from cmecore.protocol import Catalog

PROBLEMS = "https://cme-offline.example/problems/"


@pytest.fixture
def video(api, auth):
    catalog = Catalog.model_validate_json(api.get("/catalog", headers=auth).content)
    [asset] = [a for a in catalog.activities[0].assets if a.kind == "video"]
    return asset


def _path(asset) -> str:
    return asset.url.removeprefix("/api/v1")


def test_full_download_matches_the_catalog_hash_and_size(api, auth, video):
    r = api.get(_path(video), headers=auth)

    assert r.status_code == 200
    assert hashlib.sha256(r.content).hexdigest() == video.sha256
    assert int(r.headers["content-length"]) == video.size == len(r.content)
    assert r.headers["content-type"] == "video/mp4"
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["etag"] == f'"{video.sha256}"'


def test_media_needs_sign_in(api, video):
    r = api.get(_path(video))
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_range_resumes_a_download_with_206(server, api, auth, video):
    whole = api.get(_path(video), headers=auth).content
    server.request_log.clear()

    head = api.get(_path(video), headers={**auth, "Range": "bytes=0-999"})
    tail = api.get(_path(video), headers={**auth, "Range": "bytes=1000-", "If-Range": f'"{video.sha256}"'})

    assert (head.status_code, tail.status_code) == (206, 206)
    assert head.headers["content-range"] == f"bytes 0-999/{video.size}"
    assert tail.headers["content-range"] == f"bytes 1000-{video.size - 1}/{video.size}"
    assert head.content + tail.content == whole
    assert int(tail.headers["content-length"]) == video.size - 1000
    seen = server.request_log.matching("/api/v1/media/")
    assert [r.range for r in seen] == ["bytes=0-999", "bytes=1000-"]
    assert [r.bytes_sent for r in seen] == [1000, video.size - 1000]


def test_suffix_range_returns_the_last_bytes(api, auth, video):
    whole = api.get(_path(video), headers=auth).content
    r = api.get(_path(video), headers={**auth, "Range": "bytes=-500"})

    assert r.status_code == 206
    assert r.content == whole[-500:]
    assert r.headers["content-range"] == f"bytes {video.size - 500}-{video.size - 1}/{video.size}"


def test_range_past_the_end_is_clamped(api, auth, video):
    r = api.get(_path(video), headers={**auth, "Range": f"bytes={video.size - 10}-{video.size + 5000}"})
    assert r.status_code == 206
    assert len(r.content) == 10


def test_if_range_with_another_etag_or_a_date_sends_the_whole_file(api, auth, video):
    for if_range in ('"0000-some-older-file"', "Wed, 21 Oct 2015 07:28:00 GMT"):
        r = api.get(_path(video), headers={**auth, "Range": "bytes=1000-", "If-Range": if_range})
        assert r.status_code == 200
        assert len(r.content) == video.size
        assert "content-range" not in r.headers


def test_range_starting_past_the_end_is_416_problem(api, auth, video):
    r = api.get(_path(video), headers={**auth, "Range": f"bytes={video.size}-"})

    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{video.size}"
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == PROBLEMS + "range-not-satisfiable"


def test_several_ranges_get_the_whole_file(api, auth, video):
    r = api.get(_path(video), headers={**auth, "Range": "bytes=0-9,20-29"})
    assert r.status_code == 200
    assert len(r.content) == video.size


def test_head_gives_the_headers_without_a_body(server, api, auth, video):
    server.request_log.clear()
    r = api.head(_path(video), headers=auth)
    ranged = api.head(_path(video), headers={**auth, "Range": "bytes=10-19"})

    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["content-length"]) == video.size
    assert r.headers["etag"] == f'"{video.sha256}"'
    assert ranged.status_code == 206 and ranged.headers["content-range"] == f"bytes 10-19/{video.size}"
    assert [e.bytes_sent for e in server.request_log] == [0, 0]


def test_large_file_is_streamed_in_chunks_and_arrives_whole(start_server, tmp_path):
    from tests.support.activities import minimal_activity

    from .conftest import client_for, sign_in, write_folder

    empty_server = start_server(demo=False)
    empty_server.add_learner("alice", "correct horse", profession="nurse", display_name="Alice Nurse", degree="RN")
    blob = hashlib.sha256(b"seed").digest() * 40_000  # 1.28 MB, many 64 KiB chunks
    folder = write_folder(tmp_path / "big", minimal_activity("big"), {"talk.mp4": blob, "talk.vtt": b"WEBVTT\n"})
    empty_server.publish(folder, videos_as_is=True)  # random bytes, not a video
    sha = hashlib.sha256(blob).hexdigest()
    with client_for(empty_server) as client:
        headers = {"Authorization": f"Bearer {sign_in(client, 'alice', 'correct horse')['access_token']}"}
        with client.stream("GET", f"/media/{sha}", headers=headers) as r:
            chunks = list(r.iter_raw())
        assert b"".join(chunks) == blob
        mid = client.get(f"/media/{sha}", headers={**headers, "Range": "bytes=100000-299999"})
        assert mid.content == blob[100_000:300_000]


def test_unknown_or_malformed_hash_is_404_problem(api, auth):
    for name in ("0" * 64, "..%2F..%2Fserver.sqlite3", "A" * 64):
        r = api.get(f"/media/{name}", headers=auth)
        assert r.status_code == 404, name
        assert r.headers["content-type"] == "application/problem+json"
