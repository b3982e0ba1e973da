"""How long a published video (or audio) file plays, and its picture size and bitrate, read at publish time.

Clients spread an untimed transcript over this length, so a cue has one time in the
panel, in search and in the player whatever is downloaded first (docs/protocol.md,
`Asset.duration_ms`); the size and bitrate describe the original beside its renditions
(`Asset.width/height/bitrate`). The file is opened with PyAV; a file it cannot read (not
media, truncated, PyAV missing) gives None and publishing goes on without them (whether
the video is fit to publish is decided by renditions.py, which decodes it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# The protocol's ceiling for Asset.duration_ms (100 hours): a larger reading is not a length.
MAX_DURATION_MS = 100 * 3600 * 1000


@dataclass(frozen=True)
class MediaFacts:
    """What the container says about a media file (None: not stated or not readable)."""

    duration_ms: int | None = None
    width: int | None = None
    height: int | None = None
    bitrate: int | None = None  # bits per second, all streams
    has_video: bool = False
    has_audio: bool = False


def probe(path: Path) -> MediaFacts | None:
    """The file's facts, or None when PyAV is missing or cannot open it as media."""
    try:
        import av  # optional dependency: the packaged app's demo server ships without PyAV
    except ImportError:
        return None
    try:
        with av.open(str(path)) as container:
            duration = container.duration  # microseconds (av.time_base), or None
            if duration is None:
                # No container-level length: the longest stream's, from its own time base.
                lengths = [s.duration * s.time_base * 1_000_000 for s in container.streams
                           if s.duration is not None and s.time_base is not None]
                duration = max(lengths, default=None)
            video = container.streams.video[0] if container.streams.video else None
            has_audio = bool(container.streams.audio)
            bitrate = container.bit_rate or None
    except (av.FFmpegError, OSError, ValueError) as exc:
        log.info("no media facts for %s: %s", path.name, exc)
        return None
    ms = round(duration / 1000) if duration is not None else None
    if ms is not None and not 0 < ms <= MAX_DURATION_MS:
        ms = None
    if bitrate is None and ms:
        bitrate = round(path.stat().st_size * 8000 / ms)
    return MediaFacts(ms, video.width or None if video else None, video.height or None if video else None,
                      bitrate, video is not None, has_audio)


def media_duration_ms(path: Path) -> int | None:
    """The file's playing length in whole milliseconds, or None when it cannot be read."""
    facts = probe(path)
    return facts.duration_ms if facts else None
