"""Online or offline during a download that keeps breaking: a reply that began proves the
server was reached, so a connection cut mid-body never says "offline" (the status bar and
the courier hear no flip), while a server that stopped shows as offline at the first
request that gets no reply. Real server, the byte-level proxy cutting bodies."""

from __future__ import annotations

import threading

from tests.downloads.conftest import Recorder, fast_policy
from tests.downloads.test_resume_at_once import CUT_EVERY, NO_QUICK_RETRY, SIZE


def flips_of(services) -> list[bool]:
    flips: list[bool] = []
    services.connection.on_online_change.append(flips.append)
    return flips


def test_a_download_cut_every_few_bytes_never_shows_offline(proxy, client_via, published):
    services = client_via(proxy.url)
    assert services.status().online is True
    flips = flips_of(services)
    path = f"/api/v1/media/{published.video_sha}"
    proxy.add(path_prefix=path, cut_after=CUT_EVERY, times=None)

    online_seen = []
    recorder = Recorder(lambda _event: online_seen.append(services.connection.online))
    services.enqueue_downloads([published.activity_id])
    summary = services.run_downloads(recorder, threading.Event(), policy=fast_policy(parallel=1))

    assert summary.ok and summary.done == 3
    cuts = [e for e in recorder.events if e.kind == "video" and e.error]
    assert len(cuts) == len(range(0, SIZE, CUT_EVERY)) - 1  # every cut happened, and was resumed
    assert flips == [] and set(online_seen) == {True}  # never offline, not even for a moment
    assert services.status().online is True


def test_a_stopped_server_shows_offline_at_the_next_request_of_the_download(server, proxy, client_via, published):
    services = client_via(proxy.url)
    flips = flips_of(services)
    path = f"/api/v1/media/{published.video_sha}"
    proxy.add(path_prefix=path, cut_after=CUT_EVERY)
    stop = threading.Event()

    def on_event(event) -> None:
        if event.kind == "video" and event.error and not server_stopped.is_set():
            server_stopped.set()
            server.stop()  # between the cut and the resume, which now gets no reply at all
        if event.retry_in_s:
            stop.set()  # the resume failed and must wait: enough

    server_stopped = threading.Event()
    services.enqueue_downloads([published.activity_id])
    summary = services.run_downloads(Recorder(on_event), stop, policy=fast_policy(parallel=1, **NO_QUICK_RETRY))

    assert server_stopped.is_set() and summary.stopped
    assert flips == [False] and services.status().online is False
    job = next(j for j in services.download_jobs() if j.sha256 == published.video_sha)
    assert job.state == "queued" and 0 < job.bytes_done < SIZE  # kept for the next run
