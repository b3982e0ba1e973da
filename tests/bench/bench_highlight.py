"""The transcript highlight's clock against libvlc's own time, on the real demo video.

Plays `creditserver/demo/media/home-bp-monitoring.mp4` with libvlc's dummy outputs for
~20 s at 1x and at 1.5x (`make bench`; prints, asserts nothing). At each of libvlc's
TimeChanged reports we compare what the highlight would show at that moment with
libvlc's time then (the reported time, carried forward by the few ms the report took to
reach the GUI thread):

- **clock**: `PlaybackClock` as `QtPlayer` runs it (read just before the report anchors it);
- **naive polling**: the last `get_time()` read by a 40 ms timer, shown as is.

Figures: p50 / p99 / max of |error| in ms. Target: clock p99 ≤ 40 ms.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("CME_OFFLINE_VLC_ARGS", "--intf=dummy --vout=dummy --aout=dummy --no-video-title-show")

PLAY_S = 20.0
RATES = (1.0, 1.5)
POLL_MS = 40
SKIP_FIRST_REPORTS = 2  # the first reports after starting settle libvlc's clock


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(rate: float) -> tuple[list[float], list[float], int]:
    from PySide6.QtCore import QCoreApplication, QTimer

    from desktop.media import player as backend
    from desktop.media.qt_player import QtPlayer
    from tests.player.demo_media import DEMO_VIDEO

    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    clock_errors: list[float] = []
    naive_errors: list[float] = []
    reports = 0

    class Measured(QtPlayer):
        def __init__(self):
            self.arrived: dict[int, float] = {}
            self.polled: int | None = None
            super().__init__()

        def _post(self, kind, value):  # libvlc's thread: note when the report was made
            if kind == backend.TIME:
                self.arrived[value] = time.monotonic()
            super()._post(kind, value)

        def _on_libvlc_event(self, kind, value):
            nonlocal reports
            if kind == backend.TIME and self.is_playing():
                reports += 1
                now = time.monotonic()
                truth = value + (now - self.arrived.pop(value, now)) * self.rate * 1000
                if reports > SKIP_FIRST_REPORTS:
                    clock_errors.append(abs(self.clock.position_ms() - truth))
                    if self.polled is not None:
                        naive_errors.append(abs(self.polled - truth))
            super()._on_libvlc_event(kind, value)

    p = Measured()
    if not p.available:
        raise SystemExit(p.problem)
    p.load(DEMO_VIDEO)
    p.set_rate(rate)

    poll = QTimer()
    poll.setInterval(POLL_MS)
    poll.timeout.connect(lambda: setattr(p, "polled", p.player.time_ms()) if p.is_playing() else None)
    poll.start()
    QTimer.singleShot(int(PLAY_S * 1000), app.quit)
    p.play()
    app.exec()
    poll.stop()
    p.release()
    return clock_errors, naive_errors, reports


def line(name: str, errors: list[float]) -> str:
    if not errors:
        return f"  {name:<16} no samples"
    return (f"  {name:<16} p50 {statistics.median(errors):6.1f} ms   p99 {percentile(errors, 99):6.1f} ms"
            f"   max {max(errors):6.1f} ms   (n={len(errors)})")


def main() -> None:
    print(f"highlight error vs libvlc's time at its reports, real demo video, {PLAY_S:g} s per rate")
    for rate in RATES:
        clock_errors, naive_errors, reports = measure(rate)
        print(f"rate {rate:g}x: {reports} TimeChanged reports")
        print(line("PlaybackClock", clock_errors))
        print(line(f"poll {POLL_MS} ms", naive_errors))
        if clock_errors:
            verdict = "meets" if percentile(clock_errors, 99) <= 40 else "misses"
            print(f"  clock p99 {verdict} the 40 ms target")


if __name__ == "__main__":
    main()
