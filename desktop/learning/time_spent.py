"""The time a learner really spends on an activity, for the claim's "time spent".

AMA PRA credit is claimed "commensurate with the extent of participation" (rule 6), so the
form pre-fills the time actually spent — not the video position: 30 minutes of video
watched at 2x in 14 minutes is 14 minutes. `ActiveTime` is fed samples of wall time (a
monotonic clock, seconds) and whether the learner was engaged at that moment (the video
playing, a question page shown); it counts the wall time between two engaged samples.
A gap longer than `max_gap_s` (the computer slept, the timer stalled) counts only up to
that gap. Pure Python, no Qt: the activity page feeds it (views/activity/time_keeper.py).
"""

from __future__ import annotations

# The activity page samples every second; five missed samples mean the machine was not
# running the app (suspend, a stalled event loop), not that the learner kept watching.
DEFAULT_MAX_GAP_S = 5.0


class ActiveTime:
    """Accumulates engaged wall time between samples; `take()` hands over what accrued."""

    def __init__(self, *, max_gap_s: float = DEFAULT_MAX_GAP_S):
        self._max_gap_s = max_gap_s
        self._last: float | None = None  # the monotonic time of the last engaged sample
        self._pending_ms = 0.0

    def sample(self, engaged: bool, now_s: float) -> None:
        """The learner is (or is not) engaged at `now_s`; time since an engaged sample counts."""
        if self._last is not None and now_s > self._last:
            self._pending_ms += min(now_s - self._last, self._max_gap_s) * 1000
        self._last = now_s if engaged else None

    def stop(self, now_s: float) -> None:
        """Engagement ended at `now_s` (paused, left the page): count up to here, then nothing."""
        self.sample(False, now_s)

    @property
    def engaged(self) -> bool:
        return self._last is not None

    @property
    def pending_ms(self) -> int:
        """Accrued and not yet taken (whole milliseconds)."""
        return int(self._pending_ms)

    def take(self) -> int:
        """The whole milliseconds accrued since the last take (the remainder stays)."""
        whole = int(self._pending_ms)
        self._pending_ms -= whole
        return whole

