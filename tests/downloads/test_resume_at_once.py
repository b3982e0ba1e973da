"""A connection that breaks after bringing bytes is taken up again at once, from the byte it
reached: no backoff, no byte fetched twice (issue 14, "Downloads at the speed of the link").

The policy here has an hour of backoff, and the run is stopped as soon as any job is given
a wait: a cut that waited would leave the video unfinished. Nothing is timed.
"""

from __future__ import annotations

import threading

from tests.downloads.conftest import VIDEO_SIZE, Recorder, fast_policy
from tests.support.media_publish import store_files
from tests.support.requests_seen import requests_seen

SIZE = VIDEO_SIZE
CUT_EVERY = 150_000
NO_QUICK_RETRY = dict(backoff_base_s=3600.0, backoff_max_s=3600.0)


def run_until_a_wait(services, published, on_event=None):
    """Download the activity; stop the run when a job is told to wait (the summary says so)."""
    stop = threading.Event()
    recorder = Recorder(lambda event: (on_event and on_event(event), event.retry_in_s and stop.set()))
    services.enqueue_downloads([published.activity_id])
    summary = services.run_downloads(recorder, stop, policy=fast_policy(parallel=1, **NO_QUICK_RETRY))
    return summary, recorder


def test_every_cut_that_brought_bytes_resumes_at_once_from_the_byte_it_reached(server, proxy, client_via,
                                                                                 published, data_dir):
    services = client_via(proxy.url)
    path = f"/api/v1/media/{published.video_sha}"
    proxy.add(path_prefix=path, cut_after=CUT_EVERY, times=None)
    summary, recorder = run_until_a_wait(services, published)

    assert summary.ok and summary.done == 3 and not summary.stopped
    starts = list(range(0, SIZE, CUT_EVERY))
    seen = proxy.seen(path)
    assert [s.range for s in seen] == [None] + [f"bytes={n}-" for n in starts[1:]]
    assert all(s.if_range == f'"{published.video_sha}"' for s in seen[1:])
    assert [r.range for r in requests_seen(server, path, count=len(starts))] == [s.range for s in seen]
    # Not one byte fetched twice: what the server sent is the file, once.
    assert sum(s.body_bytes for s in seen) == SIZE
    assert summary.bytes_fetched <= SIZE * 1.01
    # Each break was reported, each with no wait before the next try.
    retries = [e for e in recorder.events if e.kind == "video" and e.error]
    assert len(retries) == len(starts) - 1 and {e.retry_in_s for e in retries} == {0.0}
    assert all("connection broke" in e.error for e in retries)
    job = next(j for j in services.download_jobs() if j.sha256 == published.video_sha)
    assert job.state == "done" and job.attempts <= 1
    assert published.video_sha in store_files(data_dir / "blobs")


def test_a_cut_after_bytes_then_a_refusal_waits_as_a_failed_attempt(proxy, client_via, published):
    """Only an attempt that brought bytes is retried at once; one that got nowhere backs off."""
    services = client_via(proxy.url)
    path = f"/api/v1/media/{published.video_sha}"
    proxy.add(path_prefix=path, cut_after=CUT_EVERY)
    proxy.add(path_prefix=path, answer=(503, {}, b"busy"), times=None)
    summary, recorder = run_until_a_wait(services, published)

    assert summary.stopped and summary.remaining == 1 and summary.done == 2  # the video waits for its backoff
    assert [s.range for s in proxy.seen(path)] == [None, f"bytes={CUT_EVERY}-"]
    waits = [e.retry_in_s for e in recorder.events if e.kind == "video" and e.error]
    assert waits[0] == 0.0 and waits[-1] >= 1800  # half the backoff is fixed (equal jitter)
    job = next(j for j in services.download_jobs() if j.sha256 == published.video_sha)
    assert job.state == "queued" and job.bytes_done == CUT_EVERY


def test_a_pause_during_cuts_stops_before_the_next_try_and_keeps_every_byte(proxy, client_via, published,
                                                                            data_dir):
    services = client_via(proxy.url)
    path = f"/api/v1/media/{published.video_sha}"
    proxy.add(path_prefix=path, cut_after=CUT_EVERY, times=None)

    def pause_at_the_second_cut(event):
        if event.kind == "video" and event.error and event.bytes_done >= 2 * CUT_EVERY:
            services.pause_download(event.job_id)

    summary, _ = run_until_a_wait(services, published, pause_at_the_second_cut)

    assert summary.paused == 1 and summary.done == 2 and not summary.stopped
    assert [s.range for s in proxy.seen(path)] == [None, f"bytes={CUT_EVERY}-"]
    job = next(j for j in services.download_jobs() if j.sha256 == published.video_sha)
    assert job.state == "paused" and job.bytes_done == 2 * CUT_EVERY
    part = data_dir / "blobs" / published.video_sha[:2] / (published.video_sha + ".part")
    assert part.read_bytes() == published.video[: 2 * CUT_EVERY]


def test_a_server_that_ignores_ranges_and_always_cuts_is_given_up_on_not_looped(proxy, client_via, published):
    """Each reply restarts the file from 0 and breaks at the same byte: bytes arrive, but the
    file never grows, so these are failed attempts (with backoff), not progress."""
    services = client_via(proxy.url)
    path = f"/api/v1/media/{published.video_sha}"
    proxy.add(path_prefix=path, only_range=False, cut_after=CUT_EVERY, times=None)
    proxy.add(path_prefix=path, only_range=True, ignore_range=True, cut_after=CUT_EVERY, times=None)
    stop = threading.Event()
    # A guard, so that looping for ever fails the test instead of hanging it.
    recorder = Recorder(lambda event: len(recorder.errors()) > 20 and stop.set())
    services.enqueue_downloads([published.activity_id])
    summary = services.run_downloads(recorder, stop, policy=fast_policy(parallel=1, max_attempts=3))

    assert not summary.stopped and summary.failed == 1
    (failure,) = summary.failures
    assert "connection broke" in failure.error and "Gave up after 3 attempts" in failure.error
    seen = proxy.seen(path)
    assert [s.range for s in seen] == [None, f"bytes={CUT_EVERY}-", f"bytes={CUT_EVERY}-"]
    assert all(s.status == 200 and s.body_bytes == CUT_EVERY for s in seen)
