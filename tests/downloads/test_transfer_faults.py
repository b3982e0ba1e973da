"""Resumable, verified transfers through a proxy that breaks the connection in real ways."""

from __future__ import annotations

import time

from desktop.cache.blobstore import LocalState
from desktop.sync.downloads_transfer import parse_retry_after
from tests.downloads.conftest import VIDEO_SIZE, Recorder, fast_policy
from tests.support.media_publish import store_files
from tests.support.requests_seen import requests_seen

SIZE = VIDEO_SIZE


def video_requests(proxy, pub):
    return [s for s in proxy.seen() if s.path.endswith(pub.video_sha)]


def download_video(services, pub, recorder=None, **policy):
    services.enqueue_downloads([pub.activity_id])
    return services.run_downloads(recorder, policy=fast_policy(parallel=1, **policy))


def test_cut_mid_file_resumes_from_the_byte_it_reached(server, proxy, client_via, published, data_dir):
    services = client_via(proxy.url)
    proxy.add(path_prefix=f"/api/v1/media/{published.video_sha}", cut_after=300_000)
    recorder = Recorder()
    summary = download_video(services, published, recorder)

    assert summary.ok and summary.done == 3
    first, second = video_requests(proxy, published)
    assert first.range is None and first.body_bytes == 300_000 and first.fault == "cut_after"
    assert second.range == "bytes=300000-" and second.if_range == f'"{published.video_sha}"'
    assert second.status == 206 and second.body_bytes == SIZE - 300_000
    assert first.body_bytes + second.body_bytes == SIZE  # not one byte fetched twice
    logged = requests_seen(server, f"/api/v1/media/{published.video_sha}", count=2)
    assert [r.range for r in logged] == [None, "bytes=300000-"]
    assert any("connection broke" in e for e in recorder.errors())
    assert store_files(data_dir / "blobs").keys() == published.shas
    row = next(r for r in services.library_rows() if r.id == published.activity_id)
    assert row.media_state is LocalState.present and row.media_bytes == SIZE + sum(
        p.stat().st_size for name, p in store_files(data_dir / "blobs").items() if name != published.video_sha
    )


def test_server_ignoring_the_range_restarts_cleanly_instead_of_appending(proxy, client_via, published, data_dir):
    services = client_via(proxy.url)
    prefix = f"/api/v1/media/{published.video_sha}"
    proxy.add(path_prefix=prefix, cut_after=200_000)
    proxy.add(path_prefix=prefix, only_range=True, ignore_range=True)
    summary = download_video(services, published)

    assert summary.ok
    first, second = video_requests(proxy, published)
    assert second.range == "bytes=200000-" and second.status == 200 and second.body_bytes == SIZE
    assert (data_dir / "blobs" / published.video_sha[:2] / published.video_sha).read_bytes() == published.video


def test_wrong_content_range_restarts_from_zero_never_misaligned(proxy, client_via, published, data_dir):
    services = client_via(proxy.url)
    prefix = f"/api/v1/media/{published.video_sha}"
    proxy.add(path_prefix=prefix, cut_after=200_000)
    # The resume reply claims to start 1000 bytes later than asked: those bytes must not be appended.
    proxy.add(path_prefix=prefix, only_range=True, times=None,
              set_headers={"Content-Range": f"bytes 201000-{SIZE - 1}/{SIZE}"})
    summary = download_video(services, published)

    assert summary.ok
    ranges = [s.range for s in video_requests(proxy, published)]
    assert ranges == [None, "bytes=200000-", None]  # restarted from 0 without a range
    assert (data_dir / "blobs" / published.video_sha[:2] / published.video_sha).read_bytes() == published.video


def test_corrupted_byte_is_discarded_and_the_file_fetched_again(proxy, client_via, published, data_dir):
    services = client_via(proxy.url)
    video = data_dir / "blobs" / published.video_sha[:2] / published.video_sha
    seen_bad_file = []

    def watch(event):  # nothing corrupt may ever be renamed into the store
        if video.exists() and video.read_bytes() != published.video:
            seen_bad_file.append(event)

    recorder = Recorder(watch)
    proxy.add(path_prefix=f"/api/v1/media/{published.video_sha}", corrupt_at=123_456)
    summary = download_video(services, published, recorder)

    assert summary.ok and not seen_bad_file
    assert "The downloaded file was damaged in transit and was discarded; it will be fetched again." in recorder.errors()
    assert [s.range for s in video_requests(proxy, published)] == [None, None]
    assert video.read_bytes() == published.video


def test_always_corrupted_file_fails_after_the_attempts_with_a_plain_message(proxy, client_via, published, data_dir):
    services = client_via(proxy.url)
    proxy.add(path_prefix=f"/api/v1/media/{published.video_sha}", corrupt_at=10, times=None)
    summary = download_video(services, published, max_attempts=3)

    assert summary.failed == 1 and summary.done == 2
    (failure,) = summary.failures
    assert failure.kind == "video" and failure.state == "failed"
    assert failure.error.startswith("The downloaded file was damaged in transit and was discarded.")
    assert "Gave up after 3 attempts" in failure.error
    assert published.video_sha not in store_files(data_dir / "blobs")
    assert not (data_dir / "blobs" / published.video_sha[:2] / (published.video_sha + ".part")).exists()
    assert len(video_requests(proxy, published)) == 3


def test_429_with_retry_after_and_503_are_retried(proxy, client_via, published):
    services = client_via(proxy.url)
    prefix = f"/api/v1/media/{published.video_sha}"
    proxy.add(path_prefix=prefix, answer=(429, {"Retry-After": "1"}, b"slow down"))
    proxy.add(path_prefix=prefix, answer=(503, {}, b"maintenance"))
    recorder = Recorder()
    summary = download_video(services, published, recorder)

    assert summary.ok
    reqs = video_requests(proxy, published)
    assert [r.status for r in reqs] == [429, 503, 200]
    assert reqs[1].at - reqs[0].at >= 0.95  # Retry-After honoured
    retries = [e for e in recorder.events if e.kind == "video" and e.error]
    assert retries[0].retry_in_s == 1.0 and "busy (429)" in retries[0].error
    assert "problem (503)" in retries[1].error


def test_retry_after_as_seconds_or_http_date():
    now = 1_700_000_000.0
    assert parse_retry_after("7", now) == 7
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:40 GMT", now) == 20.0  # now + 20 s
    assert parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now) == 0.0  # in the past
    assert parse_retry_after("soon", now) is None and parse_retry_after(None) is None


def test_a_stall_past_the_read_timeout_is_retried_from_where_it_stopped(proxy, client_via, published):
    services = client_via(proxy.url)
    proxy.add(path_prefix=f"/api/v1/media/{published.video_sha}", stall_after=100_000, stall_s=10)
    recorder = Recorder()
    started = time.monotonic()
    summary = download_video(services, published, recorder, read_timeout_s=0.5)

    assert summary.ok and time.monotonic() - started < 8
    assert [s.range for s in video_requests(proxy, published)][-1] == "bytes=100000-"
    assert any("stopped sending data" in e for e in recorder.errors())


def test_connection_refused_gives_up_with_a_plain_message(client_via, proxy, published, data_dir):
    services = client_via(proxy.url)
    proxy.stop()  # the network is gone after the catalog arrived
    summary = download_video(services, published, max_attempts=2)
    assert summary.failed == 3
    assert all("cannot be reached" in f.error and "Gave up after 2 attempts" in f.error for f in summary.failures)
    assert services.download_jobs()[0].state == "failed"
    # resume puts them back; a working server then finishes them
    assert services.resume_download() == 3
    assert {j.state for j in services.download_jobs()} == {"queued"}


def test_server_refusal_fails_at_once(proxy, client_via, published):
    services = client_via(proxy.url)
    proxy.add(path_prefix=f"/api/v1/media/{published.video_sha}", answer=(404, {}, b"gone"), times=None)
    summary = download_video(services, published)
    (failure,) = summary.failures
    assert "no longer has this file (404)" in failure.error and failure.attempts == 1
    assert len(video_requests(proxy, published)) == 1
