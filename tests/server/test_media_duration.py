"""Publish reads each video's length into the catalog (`Asset.duration_ms`), so clients
time an untimed transcript the same way whatever they download first."""

from __future__ import annotations

from cmecore.protocol import Catalog
from creditserver.demo.make_video import make as make_video
from creditserver.media_probe import media_duration_ms
from tests.support.activities import DEMO_ID, minimal_activity

from .conftest import bearer, client_for, sign_in, write_folder


def catalog_of(server) -> Catalog:
    with client_for(server) as client:
        reply = client.get("/catalog", headers=bearer(sign_in(client)))
    return Catalog.model_validate_json(reply.content)


def test_publish_puts_the_videos_length_in_the_catalog_and_none_for_a_file_it_cannot_read(start_server, tmp_path):
    clip = make_video(tmp_path / "clip.mp4", seconds=3)  # H.264 + AAC, made with PyAV
    server = start_server()
    server.publish(write_folder(tmp_path / "real", minimal_activity("real-video"),
                                {"talk.mp4": clip.read_bytes(), "talk.vtt": b"WEBVTT\n"}))
    # Not a video at all, published as is (else it is refused: test_renditions.py): no length.
    server.publish(write_folder(tmp_path / "fake", minimal_activity("fake-video")), videos_as_is=True)

    by_id = {a.id: a for a in catalog_of(server).activities}
    video, transcript = by_id["real-video"].assets
    assert video.duration_ms == 3_000 and transcript.duration_ms is None
    assert by_id["fake-video"].assets[0].duration_ms is None
    assert by_id[DEMO_ID].assets[0].duration_ms == 60_000  # the demo activity's clip


def test_a_length_in_activity_json_is_kept_when_the_file_cannot_be_read(start_server, tmp_path):
    doc = minimal_activity("stated-length")
    doc["assets"][0]["duration_ms"] = 1_234_000
    server = start_server()
    server.publish(write_folder(tmp_path / "a", doc), videos_as_is=True)
    stated = next(a for a in catalog_of(server).activities if a.id == "stated-length")
    assert stated.assets[0].duration_ms == 1_234_000
    assert media_duration_ms(tmp_path / "a" / "talk.mp4") is None
    assert media_duration_ms(tmp_path / "a" / "missing.mp4") is None
    assert media_duration_ms(tmp_path / "a" / "activity.json") is None
