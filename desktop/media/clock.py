"""A smooth playback position between libvlc's coarse, irregular time reports.

libvlc's `TimeChanged` arrives every ~250–500 ms, irregularly, so highlighting the cue
from the last report lags and jumps. `PlaybackClock` keeps an anchor
`(media_ms, monotonic_s, rate)`, reset on every time report, seek, pause, play and rate
change, and reads the position as `anchor_ms + elapsed_s * rate * 1000` while playing.
A 30–50 ms GUI timer reads `position_ms()` to move the highlight.

The rules (why each exists):
- **Never backwards, except after a seek.** A report slightly behind what we already
  showed (libvlc's times are coarse) must not make the highlight flick back a cue: the
  position holds at what was shown until the interpolation from the new report passes it.
- **A report far behind is a real jump.** If it is behind by more than we could ever
  have run ahead (`max_lead_s` of playback), playback really moved (e.g. libvlc restarted
  or was seeked elsewhere): follow it.
- **Never run ahead of the last report by more than `max_lead_s` of playback (~1 s,
  one update interval and then some).** If reports stop (buffering, a stall), the
  position stops too instead of running off on its own.
- **Stale reports right after a seek are ignored.** libvlc may still deliver a time from
  before the seek; for `settle_s` after a seek, a report further than `max_lead_s` of
  playback from the target is dropped.

No Qt here: the player backend forwards libvlc events (on the GUI thread) to this object.
"""

from __future__ import annotations

import time
from collections.abc import Callable

DEFAULT_MAX_LEAD_S = 1.0
DEFAULT_SETTLE_S = 1.0


class PlaybackClock:
    def __init__(
        self,
        now: Callable[[], float] = time.monotonic,
        *,
        max_lead_s: float = DEFAULT_MAX_LEAD_S,
        settle_s: float = DEFAULT_SETTLE_S,
    ):
        self._now = now
        self._max_lead_s = max_lead_s
        self._settle_s = settle_s
        self._anchor_ms = 0.0
        self._anchor_s = now()
        self._rate = 1.0
        self._playing = False
        self._floor_ms = 0.0  # the position already shown; we never go below it
        self._seeked_at_s: float | None = None

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def rate(self) -> float:
        return self._rate

    # ------------------------------------------------------------ reading

    def position_ms(self) -> int:
        return round(self._position())

    def _position(self) -> float:
        if not self._playing:
            return max(self._floor_ms, self._anchor_ms)
        elapsed = min(self._now() - self._anchor_s, self._max_lead_s)
        interpolated = self._anchor_ms + max(0.0, elapsed) * self._rate * 1000.0
        return max(self._floor_ms, interpolated)

    # ------------------------------------------------------------ events

    def on_time(self, media_ms: int) -> None:
        """libvlc reported the media time (TimeChanged)."""
        now = self._now()
        shown = self._position()
        far = self._max_lead_s * max(self._rate, 1.0) * 1000.0
        if self._seeked_at_s is not None:
            if now - self._seeked_at_s < self._settle_s and abs(media_ms - shown) > far:
                return  # a report from before the seek, still in flight
            self._seeked_at_s = None
        if media_ms < shown - far:
            self._floor_ms = float(media_ms)  # a real jump back: follow it
        else:
            self._floor_ms = shown  # hold what was shown if the report is a little behind
        self._anchor_ms = float(media_ms)
        self._anchor_s = now

    def seek(self, media_ms: int) -> None:
        """The user asked to move; the only way the position goes backwards on purpose."""
        self._anchor_ms = self._floor_ms = float(max(0, media_ms))
        self._anchor_s = self._seeked_at_s = self._now()

    def pause(self) -> None:
        self._reanchor()
        self._playing = False

    def play(self) -> None:
        self._reanchor()
        self._playing = True

    def set_rate(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"playback rate must be positive, not {rate}")
        self._reanchor()
        self._rate = rate

    def _reanchor(self) -> None:
        # Freeze the current position as the new anchor so the change applies from now on.
        self._anchor_ms = self._floor_ms = self._position()
        self._anchor_s = self._now()
