"""A token bucket shared by every transfer, so the bandwidth cap holds for all of them together.

`BandwidthLimiter(None)` lets everything through. The rate can be changed while transfers
run (a new setting applies at once). Waiting is done on a `threading.Event`, so a stop or
pause request never waits for the bucket to refill.
"""

from __future__ import annotations

import threading
import time

# A burst of at most this long at full rate: small enough that a low cap looks smooth.
BURST_S = 0.25
MIN_BURST_BYTES = 16 * 1024


def kbps_to_bytes_per_s(kbps: int | None) -> float | None:
    """Kilobits per second (the setting) to bytes per second."""
    return None if not kbps else kbps * 1000 / 8


class BandwidthLimiter:
    def __init__(self, bytes_per_s: float | None):
        self._lock = threading.Lock()
        self._rate: float | None = None
        self._tokens = 0.0
        self._stamp = time.monotonic()
        self.set_rate(bytes_per_s)

    @property
    def rate(self) -> float | None:
        return self._rate

    @property
    def burst(self) -> float:
        return max(MIN_BURST_BYTES, (self._rate or 0) * BURST_S)

    def set_rate(self, bytes_per_s: float | None) -> None:
        with self._lock:
            self._rate = float(bytes_per_s) if bytes_per_s and bytes_per_s > 0 else None
            self._stamp = time.monotonic()
            self._tokens = 0.0

    def chunk_size(self, default: int) -> int:
        """A read size that keeps a capped transfer smooth (no big bursts at a low cap)."""
        if self._rate is None:
            return default
        return int(max(1024, min(default, self.burst)))

    def acquire(self, n: int, stop: threading.Event | None = None) -> bool:
        """Wait until `n` bytes may pass; False if `stop` was set while waiting."""
        while True:
            with self._lock:
                if self._rate is None:
                    return True
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self._rate)
                self._stamp = now
                # n may exceed the burst: let it go once the bucket is full, owing the rest.
                if self._tokens >= min(n, self.burst):
                    self._tokens -= n
                    return True
                wait = (min(n, self.burst) - self._tokens) / self._rate
            if stop is not None:
                if stop.wait(min(wait, 0.5)):
                    return False
            else:
                time.sleep(min(wait, 0.5))
