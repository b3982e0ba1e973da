"""A transcript's cues, and finding the cue for a moment.

`Transcript.timed` says the file carried timings; `estimated` that they were computed
from text length; `from_audio` that the server computed them from the video's speech at
publish (the catalog's `timing: "audio"`). The UI shows a banner for the last two.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str


@dataclass(frozen=True)
class Transcript:
    cues: tuple[Cue, ...]
    timed: bool  # the file itself carried timings
    estimated: bool  # timings were computed by us from text length
    from_audio: bool = False  # timings were estimated by the server from the audio (asset timing "audio")

    def text(self) -> str:
        return "\n".join(cue.text for cue in self.cues)


class CueIndex:
    """Which cue to highlight at a moment, and which cues match a find-box query.

    `index_at(ms)` returns the last cue that started at or before `ms` — so in a gap
    between cues the previous cue stays highlighted (less flicker than clearing it) —
    and None before the first cue starts. Lookups are binary searches over start times.
    """

    def __init__(self, cues: tuple[Cue, ...] | list[Cue]):
        self.cues = tuple(cues)
        self._starts = [cue.start_ms for cue in self.cues]
        self._folded = [cue.text.casefold() for cue in self.cues]

    def __len__(self) -> int:
        return len(self.cues)

    def index_at(self, ms: int) -> int | None:
        position = bisect_right(self._starts, ms) - 1
        return position if position >= 0 else None

    def find(self, text: str) -> list[int]:
        """Indexes of cues containing `text`, ignoring case; [] for a blank query."""
        needle = text.strip().casefold()
        if not needle:
            return []
        return [i for i, folded in enumerate(self._folded) if needle in folded]
