"""`download_hours`: outside the window the queue waits (nothing is fetched); inside it runs."""

from __future__ import annotations

import threading
from datetime import datetime

from desktop.policy import HoursWindow
from desktop.sync.downloads import DownloadPolicy
from tests.downloads.conftest import FAST
from tests.support.media_publish import assert_store_verified, publish_activity, store_files


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_queue_waits_outside_the_download_hours_then_runs(server, make_services, tmp_path, data_dir):
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    pub = publish_activity(server, tmp_path / "pub", "talk-a", video_size=200_000)
    services.sync()
    services.enqueue_downloads(["talk-a"])
    clock = Clock(datetime(2025, 3, 1, 12, 0))  # noon; downloads allowed 19:00-07:00
    policy = DownloadPolicy(**FAST, download_window=HoursWindow.parse("19:00-07:00"), local_clock=clock)
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.setdefault("summary", services.run_downloads(policy=policy)))
    worker.start()
    try:
        queue = services.downloads.queue
        assert queue.waiting.wait(10), "the queue never said it was waiting"
        assert "19:00-07:00" in queue.waiting_message
        assert server.request_log.matching("/api/v1/media/") == []
        assert store_files(data_dir / "blobs") == {}
        assert {j.state for j in services.download_jobs()} == {"queued"}
        clock.now = datetime(2025, 3, 1, 19, 0)  # the window opens
        worker.join(30)
    finally:
        if worker.is_alive():
            worker.join(30)
    summary = outcome["summary"]
    assert summary.done == 3 and summary.failed == 0
    assert set(store_files(data_dir / "blobs")) == pub.shas
    assert_store_verified(data_dir / "blobs")
    assert not services.downloads.queue.waiting.is_set()


def test_policy_download_hours_reach_the_queue(no_machine_policy, make_services):
    no_machine_policy.write_text('download_hours = "22:00-05:00"\n')
    services = make_services("http://127.0.0.1:9")
    policy = DownloadPolicy.from_settings(services.settings)
    assert policy.download_window == HoursWindow.parse("22:00-05:00")
    assert DownloadPolicy.from_settings(services.settings, download_window=None).download_window is None
