"""A transcript's cues, and finding the cue for a moment.

`Transcript.timed` says the file carried timings; `estimated` that they were computed
from text length; `from_audio` that the server computed them from the video's speech at
publish (the catalog's `timing: "audio"`); the UI shows a banner for the last two.
`skipped` lists the lines of the file that could not be read (a broken cue is dropped,
the rest kept: the UI says how many). A file is refused whole (`TranscriptRejected`) only
when it is not the format it claims (a WebVTT file without its signature).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass


# A cue time beyond this is refused (its cue dropped): 2**53 - 1 ms (~285,000 years) is
# what a double holds exactly (browsers keep times as doubles) and far inside SQLite's
# 64-bit integers, where search stores cue times.
MAX_CUE_MS = 2**53 - 1


def clock(ms: int) -> str:
    """A moment in the video as the transcript shows it: m:ss, or h:mm:ss from an hour (a
    time before 0 is 0:00). The one format: the player, the transcript, search and the CLI."""
    seconds = max(0, int(ms)) // 1000
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@dataclass(frozen=True, slots=True)  # no __dict__: a long talk's cues cost what tuples would (bench_rss)
class Cue:
    start_ms: int
    end_ms: int
    text: str


@dataclass(frozen=True)
class SkippedLine:
    """A line of a transcript file that was not read, and why (for the log and the UI)."""

    line: int  # 1-based, as an editor counts lines (CR, LF and CRLF each end one)
    reason: str  # short, plain English: "cannot read the cue timing"

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def skipped_block(first: int, count: int, fault: int | None, why: str) -> list[SkippedLine]:
    """Each line of a dropped block of `count` lines from index `first` (0-based).

    The line at `fault` (an index) says `why` and the others point at it; with no line at
    fault (text outside any cue) every line says `why`.
    """
    if fault is None:
        return [SkippedLine(index + 1, why) for index in range(first, first + count)]
    pointer = f"part of the cue at line {fault + 1}, which could not be read"
    return [SkippedLine(index + 1, why if index == fault else pointer) for index in range(first, first + count)]


class TranscriptRejected(ValueError):
    """The file is not a transcript of the type it claims; nothing in it is read.

    `str(exc)` is "line N: why", naming the line at fault.
    """

    def __init__(self, line: int, reason: str):
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Transcript:
    cues: tuple[Cue, ...]
    timed: bool  # the file itself carried timings
    estimated: bool  # timings were computed by us from text length
    skipped: tuple[SkippedLine, ...] = ()  # lines of the file not read, in file order
    from_audio: bool = False  # timings were estimated by the server from the audio (asset timing "audio")

    def text(self) -> str:
        return "\n".join(cue.text for cue in self.cues)


class CueIndex:
    """Which cue to highlight at a moment, and which cues match a find-box query.

    `index_at(ms)` returns the last cue that started at or before `ms` — so in a gap
    between cues the previous cue stays highlighted (less flicker than clearing it) —
    and None before the first cue starts. Lookups are binary searches over start times.
    The folded text `find` compares is made at the first find: a learner who only watches
    never holds that second copy of the transcript (~150 KB an hour of talk).
    """

    def __init__(self, cues: tuple[Cue, ...] | list[Cue]):
        self.cues = tuple(cues)
        self._starts = [cue.start_ms for cue in self.cues]
        self._folded: list[str] | None = None

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
        if self._folded is None:
            self._folded = [cue.text.casefold() for cue in self.cues]
        return [i for i, folded in enumerate(self._folded) if needle in folded]
