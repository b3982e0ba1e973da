"""The download queue: order, pause/resume/cancel, removing a video, disk space, CDN URLs."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import threading
from datetime import datetime

import pytest

from desktop.cache import models as m
from desktop.cache.blobstore import LocalState
from tests.downloads.conftest import Recorder, fast_policy
from tests.support.activities import DEMO_ID
from tests.support.media_publish import assert_store_verified, publish_activity, store_files
from tests.support.requests_seen import requests_seen


def row(services, activity_id):
    return next(r for r in services.library_rows() if r.id == activity_id)


def test_transcripts_and_summaries_download_before_the_video(server, client_via, tmp_path, data_dir):
    services = client_via(server.url)
    publish_activity(server, tmp_path / "a", "talk-a", video_size=50_000, seed=2)
    services.sync()
    jobs = services.enqueue_downloads()
    assert [j.priority for j in jobs] == sorted(j.priority for j in jobs)
    assert {j.kind for j in jobs if j.priority == 1} == {"video"}
    assert row(services, DEMO_ID).media_state is LocalState.queued  # before anything arrived

    recorder = Recorder()
    summary = services.run_downloads(recorder, policy=fast_policy(parallel=1))
    assert summary.ok and summary.done == len(jobs) == 7
    finished = [e.kind for e in recorder.events if e.state == "done"]
    assert finished == ["transcript", "summary", "summary", "transcript", "summary", "video", "video"]
    logged = requests_seen(server, "/api/v1/media/", count=7)
    assert all(r.status == 200 for r in logged)
    assert {r.media_state for r in services.library_rows()} == {LocalState.present}
    done = services.download_jobs()
    assert {j.state for j in done} == {"done"} and all(j.bytes_done == j.size for j in done)
    # progress events carry the whole shape the GUI and CLI need
    last = recorder.events[-1]
    assert last.as_dict().keys() >= {"job_id", "activity_id", "kind", "bytes_done", "size", "speed_bps", "eta_s",
                                     "state", "error"}


def test_completed_text_assets_reach_the_hook(server, client_via):
    services = client_via(server.url)
    completed = []
    services.downloads.on_asset_complete.append(completed.append)
    services.downloads.on_asset_complete.append(lambda asset: 1 / 0)  # a broken hook never breaks downloads
    services.enqueue_downloads([DEMO_ID])
    assert services.run_downloads(policy=fast_policy()).ok
    assert sorted(a.kind for a in completed) == ["summary", "summary", "transcript", "video"]
    transcript = next(a for a in completed if a.kind == "transcript")
    assert transcript.activity_id == DEMO_ID and transcript.timed and transcript.path.read_bytes().startswith(b"WEBVTT")


def test_a_transcript_with_a_broken_cue_is_searchable_for_the_rest(server, client_via, tmp_path, caplog):
    services = client_via(server.url)
    transcript = (b"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nHello from talk-t.\n\n"
                  b"00:00:0x.000 --> 00:00:04.000\nunreadable hyponatraemia\n\n"
                  b"00:00:05.000 --> 00:00:06.000 align:middle line:1.5\nPertussis boosters.\n")
    publish_activity(server, tmp_path / "t", "talk-t", video_size=10_000, transcript=transcript)
    services.sync()
    services.enqueue_downloads(["talk-t"])
    with caplog.at_level(logging.WARNING):
        assert services.run_downloads(policy=fast_policy()).ok
    assert "talk-t" in {h.activity_id for h in services.search("Pertussis")}  # read past the broken cue
    assert "talk-t" not in {h.activity_id for h in services.search("hyponatraemia")}
    assert any("talk-t" in r.getMessage() and "2 lines that could not be read" in r.getMessage()
               for r in caplog.records)


def test_pause_then_resume_continues_from_the_same_byte(server, client_via, tmp_path, data_dir):
    services = client_via(server.url)
    pub = publish_activity(server, tmp_path / "a", "talk-a", video_size=800_000)
    services.sync()
    services.enqueue_downloads(["talk-a"])
    part = data_dir / "blobs" / pub.video_sha[:2] / (pub.video_sha + ".part")

    def pause_midway(event):
        if event.kind == "video" and event.state == "running" and event.bytes_done >= 100_000:
            services.pause_download(event.job_id)

    summary = services.run_downloads(Recorder(pause_midway), policy=fast_policy(bandwidth_bytes_per_s=400_000))
    assert summary.paused == 1 and summary.done == 2 and summary.ok
    kept = part.stat().st_size
    assert 100_000 <= kept < 800_000
    (video_job,) = [j for j in services.download_jobs() if j.kind == "video"]
    assert video_job.state == "paused" and video_job.bytes_done == kept
    assert row(services, "talk-a").media_state is LocalState.partial

    server.request_log.clear()
    assert services.resume_download(video_job.id) == 1
    summary = services.run_downloads(policy=fast_policy())
    assert summary.done == 1 and summary.ok
    (resumed,) = requests_seen(server, "/api/v1/media/")
    assert resumed.range == f"bytes={kept}-" and resumed.status == 206 and resumed.bytes_sent == 800_000 - kept
    assert row(services, "talk-a").media_state is LocalState.present


def test_cancel_stops_the_transfer_and_deletes_the_partial_file(server, client_via, tmp_path, data_dir):
    services = client_via(server.url)
    pub = publish_activity(server, tmp_path / "a", "talk-a", video_size=800_000)
    services.sync()
    services.enqueue_downloads(["talk-a"])

    def cancel_midway(event):
        if event.kind == "video" and event.state == "running" and event.bytes_done >= 100_000:
            services.cancel_download(event.job_id)

    recorder = Recorder(cancel_midway)
    summary = services.run_downloads(recorder, policy=fast_policy(bandwidth_bytes_per_s=400_000))
    assert summary.cancelled == 1 and summary.ok
    assert recorder.events[-1].state == "cancelled"
    assert not (data_dir / "blobs" / pub.video_sha[:2] / (pub.video_sha + ".part")).exists()
    assert pub.video_sha not in store_files(data_dir / "blobs")
    video = next(a for a in services.activity_detail("talk-a").assets if a.kind == "video")
    assert video.state is LocalState.absent
    # asking again queues it afresh
    assert [j.kind for j in services.enqueue_downloads(["talk-a"])] == ["video"]


def test_pause_all_before_running_leaves_nothing_to_do(server, client_via):
    services = client_via(server.url)
    services.enqueue_downloads()
    assert services.pause_download() == 4
    summary = services.run_downloads(policy=fast_policy())
    assert summary.done == 0 and summary.remaining == 0
    assert row(services, DEMO_ID).media_state is LocalState.queued  # paused, nothing received yet
    assert services.resume_download() == 4
    assert services.run_downloads(policy=fast_policy()).done == 4


def test_stop_event_ends_the_run_and_keeps_the_job_queued(server, client_via, tmp_path, data_dir):
    services = client_via(server.url)
    pub = publish_activity(server, tmp_path / "a", "talk-a", video_size=800_000)
    services.sync()
    services.enqueue_downloads(["talk-a"])
    stop = threading.Event()

    def stop_midway(event):
        if event.kind == "video" and event.bytes_done >= 100_000:
            stop.set()

    summary = services.run_downloads(Recorder(stop_midway), stop, policy=fast_policy(bandwidth_bytes_per_s=400_000))
    assert summary.stopped and summary.remaining == 1
    (video_job,) = [j for j in services.download_jobs() if j.kind == "video"]
    assert video_job.state == "queued" and video_job.bytes_done >= 100_000
    assert services.run_downloads(policy=fast_policy()).ok
    assert pub.video_sha in store_files(data_dir / "blobs")


def test_remove_downloaded_video_keeps_transcript_summaries_progress_and_shared_files(
    server, client_via, tmp_path, data_dir
):
    services = client_via(server.url)
    shared = publish_activity(server, tmp_path / "a", "talk-a", video_size=60_000, seed=5)
    publish_activity(server, tmp_path / "b", "talk-b", video=shared.video)  # same video file
    own = publish_activity(server, tmp_path / "c", "talk-c", video_size=70_000, seed=6)
    services.sync()
    services.enqueue_downloads()
    assert services.run_downloads(policy=fast_policy()).ok
    with services.db.write() as s:
        s.add(m.WatchProgress(learner_id=services.current_learner().id, activity_id="talk-c", position_ms=5000,
                              duration_ms=9000, watched=[[0, 5000]], updated_at=datetime(2026, 2, 1)))
    before = services.storage_used()
    assert before.by_activity["talk-c"] == 70_000 + sum(
        a.size for a in services.activity_detail("talk-c").assets if a.kind != "video"
    )

    assert services.remove_downloaded_video("talk-a") == 0  # talk-b uses the same file
    assert shared.video_sha in store_files(data_dir / "blobs")
    assert services.remove_downloaded_video("talk-c") == 70_000
    files = store_files(data_dir / "blobs")
    assert own.video_sha not in files and {own.transcript_sha, own.summary_sha} <= files.keys()
    states = {a.kind: a.state for a in services.activity_detail("talk-c").assets}
    assert states == {"video": LocalState.absent, "transcript": LocalState.present, "summary": LocalState.present}
    with services.db.read() as s:
        assert s.get(m.WatchProgress, (services.current_learner().id, "talk-c")).position_ms == 5000
    after = services.storage_used()
    assert after.total_bytes == before.total_bytes - 70_000
    assert after.by_activity["talk-c"] == before.by_activity["talk-c"] - 70_000
    assert "talk-c" in {j.activity_id for j in services.enqueue_downloads(["talk-c"])}  # can fetch it again


def test_not_enough_free_space_is_refused_before_any_transfer(server, client_via, data_dir):
    services = client_via(server.url)
    server.request_log.clear()
    services.enqueue_downloads([DEMO_ID])
    summary = services.run_downloads(policy=fast_policy(disk_margin_bytes=10**15))
    assert summary.failed == 4
    assert all(f.error.startswith("Not enough free disk space") for f in summary.failures)
    assert server.request_log.matching("/api/v1/media/") == []


@pytest.fixture
def tiny_disk(data_dir):
    """The blob store on a 2 MB tmpfs (needs root and a kernel that lets us mount)."""
    blobs = data_dir / "blobs"
    blobs.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs for the disk-full test needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(blobs)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield blobs
    assert_store_verified(blobs)
    subprocess.run(["umount", str(blobs)], check=True)


def test_disk_full_while_writing_stops_the_job_and_keeps_what_arrived(server, client_via, tmp_path, tiny_disk):
    services = client_via(server.url)
    pub = publish_activity(server, tmp_path / "a", "talk-a", video_size=1_500_000)
    services.sync()
    services.enqueue_downloads(["talk-a"])
    filler = tiny_disk / "filler"

    def fill_the_disk(event):  # something else takes the space once the video has started
        if event.kind == "video" and event.bytes_done >= 200_000 and not filler.exists():
            free = os.statvfs(tiny_disk).f_bavail * os.statvfs(tiny_disk).f_frsize
            filler.write_bytes(b"\0" * max(0, free - 100_000))

    summary = services.run_downloads(Recorder(fill_the_disk), policy=fast_policy(parallel=1))
    (failure,) = summary.failures
    assert failure.error.startswith("The disk is full: free some space")
    part = tiny_disk / pub.video_sha[:2] / (pub.video_sha + ".part")
    kept = part.stat().st_size
    assert kept >= 200_000 and part.read_bytes() == pub.video[:kept]  # what arrived is kept, aligned

    filler.unlink()
    server.request_log.clear()
    assert services.resume_download() == 1
    assert services.run_downloads(policy=fast_policy()).ok
    (resumed,) = requests_seen(server, "/api/v1/media/")
    assert resumed.range == f"bytes={kept}-"
    assert (tiny_disk / pub.video_sha[:2] / pub.video_sha).read_bytes() == pub.video


def test_absolute_cdn_urls_get_no_token(server, client_via, tmp_path, data_dir):
    from tests.support.static_cdn import StaticCdn

    services = client_via(server.url)
    pub = publish_activity(server, tmp_path / "a", "talk-a", video_size=300_000)
    catalog_entry = _served_activity(server, "talk-a")
    cdn = StaticCdn()
    try:
        cdn.add("v.mp4", pub.video)
        for asset in catalog_entry["assets"]:
            if asset["kind"] == "video":
                asset["url"] = cdn.url_for("v.mp4", host="localhost")  # another host than the server
        server.inject_raw_activity("talk-a", json.dumps(catalog_entry))
        services.sync()
        services.enqueue_downloads(["talk-a"])
        assert services.run_downloads(policy=fast_policy()).ok
        assert cdn.requests == [("/files/v.mp4", None, False)]
        assert pub.video_sha in store_files(data_dir / "blobs")
    finally:
        cdn.stop()


def _served_activity(server, activity_id):
    import httpx

    token = httpx.post(server.api_url + "/auth/token", json={"username": "demo", "password": "demo"}).json()
    catalog = httpx.get(
        server.api_url + "/catalog", headers={"Authorization": f"Bearer {token['access_token']}"}
    ).json()
    return next(a for a in catalog["activities"] if a["id"] == activity_id)


def test_unknown_activity_is_refused_plainly(server, client_via):
    from desktop.errors import UnknownActivity

    services = client_via(server.url)
    with pytest.raises(UnknownActivity) as err:
        services.enqueue_downloads(["no-such-thing"])
    assert "Sync the catalog first" in str(err.value)
    assert services.download_jobs() == []


def test_signed_out_run_asks_to_sign_in_and_keeps_the_queue(server, client_via):
    from desktop.errors import NotSignedIn

    services = client_via(server.url)
    services.enqueue_downloads([DEMO_ID])
    services.sign_out()
    with pytest.raises(NotSignedIn):
        services.run_downloads(policy=fast_policy())
    assert {j.state for j in services.download_jobs()} == {"queued"}


def test_expired_access_token_mid_queue_is_refreshed_silently(server, client_via):
    services = client_via(server.url)
    services.enqueue_downloads([DEMO_ID])
    server.expire_access_tokens()  # the client still holds the old one in memory
    server.request_log.clear()
    assert services.run_downloads(policy=fast_policy(parallel=1)).done == 4
    statuses = [r.status for r in requests_seen(server, "/api/v1/media/", count=5)]
    assert statuses[0] == 401 and statuses.count(200) == 4
