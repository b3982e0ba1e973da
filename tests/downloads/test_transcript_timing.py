"""One timing for an untimed transcript: the time a search hit gives is the time the panel
shows for the same words (and the player seeks to), whatever downloads first.

Real server, real PyAV-made video (the demo's 60 s clip), real SQLite, real downloads.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete

from desktop.cache import models as m
from desktop.cache.search import index_transcript
from desktop.media.transcript import parse_transcript
from tests.downloads.conftest import fast_policy
from tests.player.demo_media import DEMO_VIDEO
from tests.support.activities import demo_doc
from tests.support.media_publish import generated_bytes

ACTIVITY = "untimed-talk"
VIDEO_LENGTH_MS = 60_000  # the demo clip's length, as the server reads it at publish
# A machine transcript without times: ~90 words, so the nominal pace (400 ms a word, 36 s)
# and the video's 60 s put its middle sentence at clearly different minutes.
PLAIN = (
    "Good morning and welcome to this session on blood pressure at home. "
    "We will look at how older adults measure their pressure, which devices they use, "
    "and how often readings are taken in practice. "
    "First, a word about cuff size, because a cuff that is too small reads high. "
    "Patients on diuretics sometimes develop hyponatraemia, so check the sodium at every visit. "
    "Next we discuss how to average readings over a week, and what to do with outliers. "
    "Finally, we close with the questions you sent in before the session began today."
)
WORD = "hyponatraemia"


def publish_untimed_talk(server, folder, video: bytes, *, videos_as_is: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "talk.mp4").write_bytes(video)
    (folder / "talk.txt").write_text(PLAIN, encoding="utf-8")
    doc = demo_doc()
    doc.update(id=ACTIVITY, title="An untimed talk")
    doc["assets"] = [
        {"path": "talk.mp4", "kind": "video", "title": "Video"},
        {"path": "talk.txt", "kind": "transcript", "title": "Transcript", "timed": False},
    ]
    (folder / "activity.json").write_text(json.dumps(doc), encoding="utf-8")
    server.publish(folder, videos_as_is=videos_as_is)


def searched_and_shown(services) -> tuple[int, int]:
    """(the search hit's time, the panel's cue start) for WORD."""
    (hit,) = [h for h in services.search(WORD) if h.activity_id == ACTIVITY and h.kind == "transcript"]
    (cue,) = [c for c in services.transcript(ACTIVITY).cues if WORD in c.text]
    return hit.time_ms, cue.start_ms


def download_only(services, kind: str) -> None:
    for job in services.download_jobs():
        if job.activity_id == ACTIVITY:
            (services.resume_download if job.kind == kind else services.pause_download)(job.id)
    assert services.run_downloads(policy=fast_policy()).ok
    assert any(j.kind == kind and j.state == "done" for j in services.download_jobs())


@pytest.mark.parametrize("first", ["transcript", "video"])
def test_a_search_hit_is_at_the_panels_cue_time_whatever_downloads_first(server, client_via, tmp_path, first):
    publish_untimed_talk(server, tmp_path / "talk", DEMO_VIDEO.read_bytes())
    services = client_via(server.url)
    services.acknowledge_disclosures(ACTIVITY)
    services.enqueue_downloads([ACTIVITY])

    download_only(services, first)
    if first == "transcript":
        hit_ms, cue_ms = searched_and_shown(services)
        assert hit_ms == cue_ms
    else:
        assert services.transcript(ACTIVITY) is None and not services.search(WORD)

    download_only(services, "video" if first == "transcript" else "transcript")
    hit_ms, cue_ms = searched_and_shown(services)
    assert hit_ms == cue_ms
    transcript = services.transcript(ACTIVITY)
    assert transcript.estimated and transcript.cues[-1].end_ms == VIDEO_LENGTH_MS  # the catalog's length
    # The same words in the middle of the talk, not where the nominal pace would put them.
    assert 25_000 < cue_ms < 45_000


def test_a_length_found_later_retimes_search_once(server, client_via, tmp_path):
    # A video the server cannot read, published as is (an old server would send no length
    # either): the transcript is indexed at the nominal pace until the player finds the real length.
    publish_untimed_talk(server, tmp_path / "talk", generated_bytes(20_000, seed=3), videos_as_is=True)
    services = client_via(server.url)
    services.acknowledge_disclosures(ACTIVITY)
    services.enqueue_downloads([ACTIVITY])
    assert services.run_downloads(policy=fast_policy()).ok
    nominal_hit, nominal_cue = searched_and_shown(services)
    assert nominal_hit == nominal_cue

    # What the Watch tab does on the writer when libvlc reports the length.
    assert services.content.media_length_found(ACTIVITY, 90_000)
    hit_ms, cue_ms = searched_and_shown(services)
    assert hit_ms == cue_ms > nominal_hit
    assert services.transcript(ACTIVITY).cues[-1].end_ms == 90_000
    assert not services.content.media_length_found(ACTIVITY, 90_000)  # once: nothing more to do
    services.sync()  # a sync finds nothing stale either
    assert searched_and_shown(services) == (hit_ms, cue_ms)


def test_a_transcript_indexed_before_timings_were_recorded_is_rebuilt_at_the_next_sync(server, client_via, tmp_path):
    publish_untimed_talk(server, tmp_path / "talk", DEMO_VIDEO.read_bytes())
    services = client_via(server.url)
    services.acknowledge_disclosures(ACTIVITY)
    services.enqueue_downloads([ACTIVITY])
    assert services.run_downloads(policy=fast_policy()).ok
    right = searched_and_shown(services)
    # A cache from before schema 0009: rows at the nominal pace, and no record of it.
    nominal = parse_transcript(PLAIN.encode(), "text/plain", None).cues
    index_transcript(services.db, ACTIVITY, nominal)
    with services.db.write() as s:
        s.execute(delete(m.TranscriptTiming))
    assert searched_and_shown(services) != right

    services.sync()
    assert searched_and_shown(services) == right
