"""What a downloaded file brings to search is indexed off the download workers, so the next
file starts at once; and a file never shows as done before search finds what it brought.
Real server, real downloads, real SQLite (FTS5)."""

from __future__ import annotations

import threading

from tests.downloads.conftest import Recorder, fast_policy
from tests.downloads.test_transcript_timing import ACTIVITY, WORD, publish_untimed_talk
from tests.player.demo_media import DEMO_VIDEO
from tests.support.activities import DEMO_ID

WAIT_S = 30.0  # far longer than any step takes, even on a loaded machine


def test_indexing_a_file_does_not_hold_back_the_next_download(server, client_via):
    services = client_via(server.url)
    started: list[int] = []
    next_one_started = threading.Event()
    waited: list[bool] = []

    def note(event) -> None:
        if event.state == "running" and event.job_id not in started:
            started.append(event.job_id)
            if len(started) > 1:
                next_one_started.set()

    def slow_indexing(asset) -> None:  # the first file's indexing lasts until the next file has started
        if not waited:
            waited.append(next_one_started.wait(WAIT_S))

    services.downloads.on_asset_complete.append(slow_indexing)
    services.enqueue_downloads([DEMO_ID])
    summary = services.run_downloads(Recorder(note), policy=fast_policy(parallel=1))

    assert summary.ok and summary.done == 4
    assert waited == [True]  # one worker, and it went on to the next file while the first was indexed


def test_search_finds_the_transcript_the_moment_its_download_shows_as_done(server, client_via, tmp_path):
    publish_untimed_talk(server, tmp_path / "talk", DEMO_VIDEO.read_bytes())
    services = client_via(server.url)
    services.acknowledge_disclosures(ACTIVITY)
    found_when_done: dict[str, list[int]] = {}

    def on_event(event) -> None:  # on the thread that announces "done", before anyone else hears it
        if event.state == "done" and event.activity_id == ACTIVITY:
            hits = [h for h in services.search(WORD) if h.activity_id == ACTIVITY and h.kind == "transcript"]
            found_when_done[event.kind] = [h.time_ms for h in hits]

    services.enqueue_downloads([ACTIVITY])
    assert services.run_downloads(Recorder(on_event), policy=fast_policy(parallel=2)).ok

    assert found_when_done.keys() == {"transcript", "video"}
    assert len(found_when_done["transcript"]) == 1  # searchable as soon as the transcript is done
    # Once the video shows as done, the hit is already at the time its length gives, as the panel shows it.
    (cue,) = [c for c in services.transcript(ACTIVITY).cues if WORD in c.text]
    assert found_when_done["video"] == [cue.start_ms]
