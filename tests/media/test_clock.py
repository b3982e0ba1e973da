"""The playback clock: a highlight that moves smoothly and never flicks backwards.

A fake `now` stands in for time.monotonic so time passes exactly as the test says.
"""

from __future__ import annotations

import random

import pytest

from desktop.media.clock import PlaybackClock


class FakeTime:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def now() -> FakeTime:
    return FakeTime()


def test_interpolates_between_time_reports(now):
    clock = PlaybackClock(now)
    clock.play()
    clock.on_time(10_000)
    now.advance(0.2)
    assert clock.position_ms() == 10_200
    now.advance(0.2)
    assert clock.position_ms() == 10_400


def test_rate_change_applies_from_the_moment_it_is_made(now):
    clock = PlaybackClock(now)
    clock.play()
    clock.on_time(0)
    now.advance(0.4)
    clock.set_rate(1.5)
    assert clock.position_ms() == 400
    now.advance(0.4)
    assert clock.position_ms() == 400 + 600
    with pytest.raises(ValueError):
        clock.set_rate(0)


def test_pause_freezes_and_play_resumes(now):
    clock = PlaybackClock(now)
    clock.play()
    clock.on_time(5_000)
    now.advance(0.3)
    clock.pause()
    now.advance(10)
    assert clock.position_ms() == 5_300
    clock.play()
    now.advance(0.25)
    assert clock.position_ms() == 5_550


def test_a_report_slightly_behind_holds_instead_of_jumping_back(now):
    clock = PlaybackClock(now)
    clock.play()
    clock.on_time(1_000)
    now.advance(0.5)
    shown = clock.position_ms()  # 1 500
    clock.on_time(1_400)  # libvlc is a little behind what we showed
    assert clock.position_ms() == shown
    now.advance(0.05)
    assert clock.position_ms() == shown  # held until the new anchor catches up
    now.advance(0.1)
    assert clock.position_ms() == 1_550  # 1 400 + 150: moving again


def test_does_not_run_ahead_when_reports_stop(now):
    clock = PlaybackClock(now)
    clock.play()
    clock.on_time(20_000)
    now.advance(5)  # libvlc stalls (buffering): no reports
    assert clock.position_ms() == 21_000  # at most one second past the last report


def test_seek_goes_backwards_and_stale_reports_are_ignored(now):
    clock = PlaybackClock(now)
    clock.play()
    clock.on_time(60_000)
    clock.seek(10_000)
    assert clock.position_ms() == 10_000
    now.advance(0.1)
    clock.on_time(60_250)  # still in flight from before the seek
    assert clock.position_ms() == 10_100
    clock.on_time(10_050)  # the first report from the new place
    now.advance(0.1)
    assert clock.position_ms() == 10_150


def test_a_large_backwards_report_is_followed(now):
    clock = PlaybackClock(now)
    clock.play()
    clock.on_time(50_000)
    clock.on_time(2_000)  # playback restarted without our seek: trust libvlc
    assert clock.position_ms() == 2_000


@pytest.mark.parametrize("rate", [0.5, 1.0, 1.5, 2.0])
def test_never_backwards_and_close_to_truth_with_irregular_reports(now, rate):
    rng = random.Random(7)
    clock = PlaybackClock(now)
    clock.set_rate(rate)
    clock.play()
    true_ms = 0.0
    clock.on_time(0)
    shown = []
    next_report = rng.uniform(0.25, 0.5)
    for _ in range(3000):  # 30 ms GUI ticks, ~90 s of wall time
        now.advance(0.03)
        true_ms += 30 * rate
        next_report -= 0.03
        if next_report <= 0:
            # libvlc reports a coarse time: truncated to 10 ms, sometimes a bit stale
            clock.on_time(int(true_ms - rng.uniform(0, 40)) // 10 * 10)
            next_report = rng.uniform(0.25, 0.5)
        shown.append(clock.position_ms())
        assert abs(shown[-1] - true_ms) < 150 * max(rate, 1)
    assert all(b >= a for a, b in zip(shown, shown[1:]))
