"""How long a published video (or audio) file plays, read at publish time.

Clients spread an untimed transcript over this length, so a cue has one time in the
panel, in search and in the player whatever is downloaded first (docs/protocol.md,
`Asset.duration_ms`). The file is opened with PyAV; a file it cannot read (not media,
truncated, PyAV missing) gives None and publishing goes on without a duration.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

# The protocol's ceiling for Asset.duration_ms (100 hours): a larger reading is not a length.
MAX_DURATION_MS = 100 * 3600 * 1000


def media_duration_ms(path: Path) -> int | None:
    """The file's playing length in whole milliseconds, or None when it cannot be read."""
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
    except (av.FFmpegError, OSError, ValueError) as exc:
        log.info("no media length for %s: %s", path.name, exc)
        return None
    if duration is None:
        return None
    ms = round(duration / 1000)
    return ms if 0 < ms <= MAX_DURATION_MS else None
