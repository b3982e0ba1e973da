"""Renditions at publish: a small video and sound alone, made once per source, listed in the
catalog, served like any media file; a video that cannot be played is refused. Real server
over loopback, real PyAV."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import av
import numpy as np
import pytest

from cmecore.protocol import Catalog, ProblemType, RenditionKind
from creditserver.cli import main
from creditserver.demo import DEMO_FOLDER
from creditserver.demo.make_video import make as make_video
from creditserver.demo.prebuild import prebuild
from creditserver.rendition_recipe import RECIPE
from creditserver.renditions import MANIFEST_SUFFIX, file_sha256
from creditserver.transcode import small_size
from tests.support.activities import copy_demo_folder, minimal_activity
from tests.support.servers import data_options
from tests.support.talks import speech_like, write_video

from .conftest import bearer, client_for, sign_in, write_folder

DEMO_VIDEO = DEMO_FOLDER / "media" / "home-bp-monitoring.mp4"
DEMO_LENGTH_MS = 60_000
VTT = b"WEBVTT\n\n00:00.000 --> 00:02.000\nHello.\n"  # minimal_activity's transcript


def _catalog(server) -> Catalog:
    with client_for(server) as client:
        return Catalog.model_validate_json(client.get("/catalog", headers=bearer(sign_in(client))).content)


def _video(server, activity_id: str):
    activity = next(a for a in _catalog(server).activities if a.id == activity_id)
    return next(a for a in activity.assets if a.kind == "video")


def _decoded(path: Path) -> dict:
    """Decode every frame; the length reached and the picture's size (None: sound only)."""
    end = 0.0
    with av.open(str(path)) as container:
        video = container.streams.video[0] if container.streams.video else None
        size = (video.codec_context.width, video.codec_context.height) if video else None
        for frame in container.decode(*container.streams):
            if isinstance(frame, av.AudioFrame):
                end = max(end, frame.time + frame.samples / frame.sample_rate)
            else:
                end = max(end, frame.time)
    return {"ms": round(end * 1000), "size": size}


def _fetch(server, sha256: str, **headers: str):
    with client_for(server) as client:
        return client.get(f"/media/{sha256}", headers={**bearer(sign_in(client)), **headers})


def _clip_folder(folder: Path, activity_id: str, seconds: int = 3, **overrides) -> Path:
    clip = make_video(folder.parent / f"{activity_id}-clip.mp4", seconds=seconds)  # 1280x720 slides, H.264 + AAC
    return write_folder(folder, minimal_activity(activity_id, **overrides), {"talk.mp4": clip.read_bytes(), "talk.vtt": VTT})


def test_the_demo_lists_a_small_and_an_audio_rendition_that_play_to_its_end(server, tmp_path):
    video = _video(server, "demo-home-bp-older-adults")
    assert (video.width, video.height) == (1280, 720) and video.bitrate and video.duration_ms == DEMO_LENGTH_MS
    assert [r.kind for r in video.renditions] == [RenditionKind.small, RenditionKind.audio]
    small, audio = video.renditions
    assert (small.media_type, small.width, small.height) == ("video/mp4", 640, 360)
    assert (audio.media_type, audio.width, audio.height) == ("audio/mp4", None, None)
    for rendition in video.renditions:
        assert rendition.size < video.size and rendition.url == f"/api/v1/media/{rendition.sha256}"
        assert rendition.duration_ms == DEMO_LENGTH_MS and rendition.bitrate
        reply = _fetch(server, rendition.sha256)
        assert reply.status_code == 200 and reply.headers["content-type"] == rendition.media_type
        assert hashlib.sha256(reply.content).hexdigest() == rendition.sha256 and len(reply.content) == rendition.size
        (tmp_path / rendition.kind.value).write_bytes(reply.content)
        played = _decoded(tmp_path / rendition.kind.value)
        assert abs(played["ms"] - DEMO_LENGTH_MS) <= 200, played
        assert played["size"] == ((640, 360) if rendition.kind is RenditionKind.small else None)


def test_the_demos_shipped_renditions_are_those_of_its_video_and_the_current_recipe():
    manifest = json.loads(DEMO_VIDEO.with_name(DEMO_VIDEO.name + MANIFEST_SUFFIX).read_text(encoding="utf-8"))
    assert manifest["source_sha256"] == file_sha256(DEMO_VIDEO) and manifest["recipe"] == RECIPE, \
        "run `python -m creditserver.demo.prebuild` after changing the demo video or the recipe"
    for entry in manifest["renditions"]:
        assert file_sha256(DEMO_VIDEO.with_name(entry["file"])) == entry["sha256"]


def test_publish_makes_the_renditions_prints_their_sizes_and_reuses_them_for_a_new_version(server, tmp_path, capsys):
    folder = _clip_folder(tmp_path / "talk", "clip-talk")
    assert main(["publish", *data_options(server), str(folder)]) == 0
    out = capsys.readouterr().out
    assert "talk.mp4: small rendition (640x360" in out and "talk.mp4: audio rendition (sound only" in out
    assert "% of the original's" in out and out.count("(made)") == 2

    video = _video(server, "clip-talk")
    assert (video.width, video.height, video.duration_ms) == (1280, 720, 3_000)
    files = {r.sha256: server.data_dir / "media" / r.sha256[:2] / r.sha256 for r in video.renditions}
    made = {sha: path.stat().st_mtime_ns for sha, path in files.items()}
    for rendition in video.renditions:
        assert abs(_decoded(files[rendition.sha256])["ms"] - 3_000) <= 200

    # A new version with the same video (and publishing it once more) makes nothing again.
    write_folder(folder, minimal_activity("clip-talk", title="A better title"), {"talk.vtt": VTT})
    for _ in range(2):
        assert main(["publish", *data_options(server), str(folder)]) == 0
        out = capsys.readouterr().out
        assert out.count("(reused)") == 2 and "(made)" not in out
    again = _video(server, "clip-talk")
    assert again.renditions == video.renditions
    assert {sha: path.stat().st_mtime_ns for sha, path in files.items()} == made


def test_an_original_already_small_gets_no_smaller_forms_and_publish_says_why(server, tmp_path, capsys):
    folder = tmp_path / "tiny"
    folder.mkdir()
    write_video(folder / "talk.mp4", speech_like(3, np.random.default_rng(1)))  # 64x64 at 2 fps: nearly all sound
    write_folder(folder, minimal_activity("tiny-talk"), {"talk.vtt": VTT})
    assert main(["publish", *data_options(server), str(folder)]) == 0
    out = capsys.readouterr().out
    assert "talk.mp4: no small rendition: the original is already 64x64" in out
    assert "talk.mp4: no audio rendition: it would be" in out and "of the original's size" in out
    video = _video(server, "tiny-talk")
    assert video.renditions == [] and (video.width, video.height, video.duration_ms) == (64, 64, 3_000)


@pytest.fixture(scope="module")
def four_seconds(tmp_path_factory) -> bytes:
    """A good 4-second clip (1280x720 slides, H.264 + AAC), made once for the tests that spoil it."""
    return make_video(tmp_path_factory.mktemp("clip") / "clip.mp4", seconds=4).read_bytes()


def _damaged(clip: bytes) -> bytes:
    noisy = bytearray(clip)
    rng = np.random.default_rng(7)
    third = len(clip) // 3
    noisy[third: 2 * third] = rng.integers(0, 256, third, dtype=np.uint8).tobytes()
    return bytes(noisy)


@pytest.mark.parametrize("spoil, expected", [
    (lambda clip: b"", "talk.mp4: the file is empty (0 bytes)"),
    (lambda clip: b"Slides for the talk, not a video.\n" * 20, "talk.mp4: not a video file that can be read"),
    (lambda clip: clip[: len(clip) * 6 // 10], "talk.mp4: the file is cut short: it plays to 0:0"),
    (_damaged, "talk.mp4: the file is damaged: decoding fails after"),
], ids=["empty", "not-a-video", "truncated", "corrupt"])
def test_a_video_that_cannot_be_played_is_refused_naming_the_file_and_nothing_is_published(
        server, tmp_path, capsys, four_seconds, spoil, expected):
    clip = four_seconds
    folder = write_folder(tmp_path / "bad", minimal_activity("bad-video"), {"talk.mp4": spoil(clip), "talk.vtt": VTT})
    media = server.data_dir / "media"
    before = sorted(p for p in media.rglob("*") if p.is_file())

    assert main(["publish", *data_options(server), str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1, err
    assert "bad-video" not in [a.id for a in _catalog(server).activities]
    assert sorted(p for p in media.rglob("*") if p.is_file()) == before  # nothing copied, nothing half made


def test_a_rendition_is_served_in_ranges_and_refused_once_its_activity_is_withdrawn(server, tmp_path):
    server.publish(_clip_folder(tmp_path / "talk", "going-talk"))
    small = next(r for r in _video(server, "going-talk").renditions if r.kind is RenditionKind.small)
    whole = (server.data_dir / "media" / small.sha256[:2] / small.sha256).read_bytes()
    part = _fetch(server, small.sha256, Range="bytes=100-1123")
    assert part.status_code == 206 and part.content == whole[100:1124]
    assert part.headers["content-range"] == f"bytes 100-1123/{small.size}"

    server.withdraw("going-talk")
    refused = _fetch(server, small.sha256, Range="bytes=0-99")
    assert refused.status_code == 403 and refused.json()["type"] == ProblemType.activity_withdrawn.value
    # The demo's renditions belong to the live demo: still served.
    assert _fetch(server, _video(server, "demo-home-bp-older-adults").renditions[0].sha256).status_code == 200


def test_a_copied_demo_folder_reuses_the_renditions_shipped_beside_its_video(server, tmp_path, capsys):
    folder = copy_demo_folder(tmp_path / "copy", id="demo-copy", title="A copy of the demo")
    assert main(["publish", *data_options(server), "--allow-expired", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "(made)" not in out and out.count("(reused)") == 2  # the demo's own publish put them in the store
    assert _video(server, "demo-copy").renditions == _video(server, "demo-home-bp-older-adults").renditions


def test_renditions_shipped_beside_a_video_are_taken_only_from_its_own_folder(server, tmp_path, capsys):
    folder = _clip_folder(tmp_path / "shipped", "shipped-talk")
    prebuild(folder / "talk.mp4")  # talk.small.mp4, talk.audio.mp4, talk.mp4.renditions.json
    capsys.readouterr()
    assert main(["publish", *data_options(server), str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.count("(shipped)") == 2 and "(made)" not in out

    # A manifest naming a file outside the folder copies nothing: the renditions are made instead.
    other = _clip_folder(tmp_path / "escaping", "escaping-talk", seconds=2)
    manifest_path = other / ("talk.mp4" + MANIFEST_SUFFIX)
    prebuild(other / "talk.mp4")
    (other / "talk.small.mp4").rename(tmp_path / "outside.mp4")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["renditions"][0]["file"] = "../outside.mp4"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    capsys.readouterr()
    assert main(["publish", *data_options(server), str(other)]) == 0
    out = capsys.readouterr().out
    assert out.count("(made)") == 2 and "(shipped)" not in out


@pytest.mark.parametrize("original, small", [
    ((1920, 1080), (640, 360)), ((1280, 720), (640, 360)), ((1080, 1920), (360, 640)),  # portrait: either way round
    ((1280, 960), (480, 360)), ((854, 480), (640, 360)), ((640, 360), None), ((320, 180), None),  # never upscaled
])
def test_the_small_picture_fits_640x360_keeps_its_shape_and_is_never_larger(original, small):
    assert small_size(*original) == small
