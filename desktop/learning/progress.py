"""Which parts of a video a learner really watched.

Participation rules ("watch at least 80 % of the video") count time actually played, not
how far the seek bar got: skipping ahead must not count, and watching a part twice counts
once. `WatchedIntervals` is the set of watched ranges (stored as JSON in
`watch_progress.watched`); `WatchTracker` turns the player's successive positions into
ranges, counting only continuous playback. Pure Python, no Qt.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

# Between two successive position readings, playback moves by roughly the reading interval
# times the rate; a bigger forward step is a seek. 2 s of playback is well above the
# interval of libvlc's reports (~0.5 s) and of a paused-then-resumed GUI timer.
DEFAULT_MAX_STEP_S = 2.0


class WatchedIntervals:
    """Sorted, non-overlapping [start_ms, end_ms) ranges; touching ranges are merged."""

    def __init__(self, intervals: Iterable[tuple[int, int]] = ()):
        self._spans: list[list[int]] = []
        for start, end in intervals:
            self.add(start, end)

    def add(self, start_ms: int, end_ms: int) -> None:
        start, end = int(start_ms), int(end_ms)
        if end <= start:
            return
        spans = self._spans
        # First span that could touch [start, end): the one whose end is >= start.
        i = bisect_left([span[1] for span in spans], start)
        j = i
        while j < len(spans) and spans[j][0] <= end:
            start = min(start, spans[j][0])
            end = max(end, spans[j][1])
            j += 1
        spans[i:j] = [[start, end]]

    @property
    def intervals(self) -> tuple[tuple[int, int], ...]:
        return tuple((start, end) for start, end in self._spans)

    def watched_ms(self, duration_ms: int | None = None) -> int:
        """Total watched time, counting only what lies within `duration_ms` if given."""
        total = 0
        for start, end in self._spans:
            if duration_ms is not None:
                start, end = min(start, duration_ms), min(end, duration_ms)
            total += max(0, end - max(0, start))
        return total

    def share(self, duration_ms: int) -> float:
        """Watched share of the media, 0.0–1.0 (0.0 while the duration is unknown)."""
        if duration_ms <= 0:
            return 0.0
        return min(1.0, self.watched_ms(duration_ms) / duration_ms)

    def to_json(self) -> list[list[int]]:
        return [list(span) for span in self._spans]

    @classmethod
    def from_json(cls, data: object) -> WatchedIntervals:
        """From `to_json`'s form; raises ValueError for anything else (a corrupt row)."""
        if not isinstance(data, list):
            raise ValueError("watched intervals must be a list of [start_ms, end_ms] pairs")
        pairs = []
        for item in data:
            if (
                not isinstance(item, list | tuple)
                or len(item) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in item)
            ):
                raise ValueError(f"not a [start_ms, end_ms] pair: {item!r}")
            pairs.append((item[0], item[1]))
        return cls(pairs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WatchedIntervals) and self._spans == other._spans

    def __repr__(self) -> str:
        return f"WatchedIntervals({self.intervals!r})"


class WatchTracker:
    """Feed it playback positions as they come; it records the continuously played parts.

    A forward step of at most `max_step_s` of playback (× rate) counts as watched; a larger
    one is a seek ahead and does not; a step backwards starts a new span there. Call
    `interrupt()` on pause, stop or seek so the next position starts afresh.
    """

    def __init__(self, watched: WatchedIntervals | None = None, *, max_step_s: float = DEFAULT_MAX_STEP_S):
        self.watched = watched if watched is not None else WatchedIntervals()
        self._max_step_s = max_step_s
        self._last_ms: int | None = None

    def observe(self, position_ms: int, rate: float = 1.0) -> None:
        last = self._last_ms
        self._last_ms = position_ms
        if last is None or position_ms <= last:
            return  # first reading, paused, or jumped back: a new span starts here
        # Below 1x the limit stays at max_step_s: a slow rate must not turn a hiccup of the
        # reading timer into a "seek" that drops real watching.
        if position_ms - last <= self._max_step_s * 1000 * max(rate, 1.0):
            self.watched.add(last, position_ms)

    def interrupt(self) -> None:
        self._last_ms = None
