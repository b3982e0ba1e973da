"""Services: media files, transcripts, summaries and learner-scoped watch progress."""

from __future__ import annotations

import hashlib

from cmecore import protocol
from desktop.learning.progress import WatchedIntervals
from desktop.services.transcripts import refresh_transcript_index
from tests.player.demo_media import DEMO_VIDEO, SERVER_URL, demo_activity, install_demo


def test_media_file_transcript_and_summaries(make_services):
    services = make_services(SERVER_URL)
    activity_id = install_demo(services)
    path = services.media_file(activity_id)
    assert path is not None and path.read_bytes() == DEMO_VIDEO.read_bytes()
    transcript = services.transcript(activity_id)
    assert transcript.timed and not transcript.estimated
    assert transcript.cues[0].start_ms == 0 and transcript.cues[-1].end_ms <= 60_000
    summaries = services.summaries(activity_id)
    assert [t for t, _ in summaries] == [  # each by the heading it opens with (media/summary.py split_title)
        "Key clinical summary: measuring blood pressure at home",
        "Key clinical summary: what the (fictional) PATINA trial illustrates",
    ]
    assert all("<script" not in html for _, html in summaries)


def test_absent_files_give_none(make_services):
    services = make_services(SERVER_URL)
    activity_id = install_demo(services, kinds=("summary",))
    assert services.media_file(activity_id) is None
    assert services.transcript(activity_id) is None
    assert len(services.summaries(activity_id)) == 2
    assert services.media_file("no-such-activity") is None


def test_plain_transcript_is_spread_over_the_catalog_length_else_the_played_one(make_services):
    services = make_services(SERVER_URL)
    text = b"First sentence here. Second sentence there. Third and last one."
    sha = hashlib.sha256(text).hexdigest()
    activity, _ = demo_activity()
    video = next(a for a in activity.assets if a.kind.value == "video")
    transcript_asset = protocol.Asset(kind="transcript", media_type="text/plain", size=len(text), sha256=sha,
                                      url=f"/api/v1/media/{sha}", title="Transcript", timed=False)
    activity_id = install_demo(services, assets=[video.model_copy(update={"duration_ms": None}), transcript_asset])
    target = services.blobs.path_for(sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text)
    # No length known: the nominal pace (400 ms a word, 10 words).
    assert services.transcript(activity_id).cues[-1].end_ms == 10 * 400
    # The length the player found here is used next…
    assert services.content.media_length_found(activity_id, 30_000)  # re-timed: read it again
    assert services.transcript(activity_id).cues[-1].end_ms == 30_000
    assert not services.content.media_length_found(activity_id, 30_000)  # once
    # …and the catalog's length (read by the server at publish) before anything else.
    install_demo(services, assets=[video.model_copy(update={"duration_ms": 60_000}), transcript_asset])
    transcript = services.transcript(activity_id)
    assert transcript.estimated and transcript.cues[-1].end_ms == 60_000
    assert refresh_transcript_index(services.db, services.blobs) == [activity_id]  # as after a sync
    assert not services.content.media_length_found(activity_id, 59_000)  # the catalog's length stays


def test_watch_progress_is_per_learner_and_merges(make_services):
    services = make_services(SERVER_URL)
    activity_id = install_demo(services, sign_in=False)
    assert services.watch_progress(activity_id) is None
    assert services.save_watch_progress(activity_id, 5_000, 60_000, [(0, 5_000)]) is None  # no one signed in
    install_demo(services)  # signs learner-1 in
    services.save_watch_progress(activity_id, 5_000, 60_000, [(0, 5_000)])
    saved = services.save_watch_progress(activity_id, 20_000, 60_000, WatchedIntervals([(10_000, 20_000)]))
    assert saved.watched.intervals == ((0, 5_000), (10_000, 20_000))
    got = services.watch_progress(activity_id)
    assert (got.position_ms, got.duration_ms) == (20_000, 60_000)
    assert got.watched.watched_ms() == 15_000


def test_a_transcript_that_cannot_be_read_is_not_searchable_and_the_download_stands(make_services):
    services = make_services(SERVER_URL)
    broken = b"not a WebVTT file\n"
    sha = hashlib.sha256(broken).hexdigest()
    activity, _ = demo_activity()
    video = next(a for a in activity.assets if a.kind.value == "video")
    asset = protocol.Asset(kind="transcript", media_type="text/vtt", size=len(broken), sha256=sha,
                           url=f"/api/v1/media/{sha}", timed=True)
    activity_id = install_demo(services, assets=[video, asset])
    target = services.blobs.path_for(sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(broken)
    services.downloads.asset_arrived(sha)  # logged, nothing indexed, the download stands
    assert not [h for h in services.search("WebVTT") if h.kind == "transcript"]
    assert services.media_file(activity_id) is not None
    assert refresh_transcript_index(services.db, services.blobs, activity_id) == []  # its own times: nothing to re-time
