"""Publishing test activities with generated media, and checking a client's blob store."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

from tests.support.activities import demo_doc


@dataclass(frozen=True)
class Published:
    activity_id: str
    video_sha: str
    video: bytes
    transcript_sha: str
    summary_sha: str

    @property
    def shas(self) -> set[str]:
        return {self.video_sha, self.transcript_sha, self.summary_sha}


def generated_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def publish_activity(server, folder: Path, activity_id: str, *, video_size: int = 1_000_000,
                     seed: int = 1, video: bytes | None = None, transcript: bytes | None = None,
                     second_video: bytes | None = None) -> Published:
    """Publish an activity with a generated video (random bytes), a transcript (WebVTT: one
    cue "Hello from <id>." unless given) and a summary (and, given `second_video`, a second
    video asset after them). The videos are published as is (`videos_as_is`): random bytes
    are no video, and these tests fetch bytes, not pictures."""
    folder.mkdir(parents=True, exist_ok=True)
    video = video if video is not None else generated_bytes(video_size, seed)
    if transcript is None:
        transcript = f"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nHello from {activity_id}.\n".encode()
    summary = f"# Summary of {activity_id}\n\nMeasure twice.\n".encode()
    (folder / "video.mp4").write_bytes(video)
    (folder / "talk.vtt").write_bytes(transcript)
    (folder / "summary.md").write_bytes(summary)
    doc = demo_doc()
    doc["id"] = activity_id
    doc["title"] = f"Test activity {activity_id}"
    doc["assets"] = [
        {"path": "video.mp4", "kind": "video", "title": "Video"},
        {"path": "talk.vtt", "kind": "transcript", "title": "Transcript", "timed": True},
        {"path": "summary.md", "kind": "summary", "title": "Summary"},
    ]
    if second_video is not None:
        (folder / "second.mp4").write_bytes(second_video)
        doc["assets"].append({"path": "second.mp4", "kind": "video", "title": "Second video"})
    (folder / "activity.json").write_text(json.dumps(doc), encoding="utf-8")
    server.publish(folder, videos_as_is=True)
    return Published(
        activity_id, _sha(video), video, _sha(transcript), _sha(summary),
    )


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_files(blob_root: Path) -> dict[str, Path]:
    """Complete files in a blob store by name (no .part)."""
    if not blob_root.is_dir():
        return {}
    return {p.name: p for p in blob_root.glob("??/*") if p.is_file() and not p.name.endswith(".part")}


def assert_store_verified(blob_root: Path) -> None:
    """Every complete file in the store hashes to its name."""
    for name, path in store_files(blob_root).items():
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                h.update(block)
        assert h.hexdigest() == name, f"{path} does not hash to its name"
