"""Watched share: only what was really played counts towards participation."""

from __future__ import annotations

import json

import pytest

from desktop.learning.progress import WatchedIntervals, WatchTracker


def test_intervals_merge_overlaps_and_touching_ranges():
    watched = WatchedIntervals()
    watched.add(10_000, 20_000)
    watched.add(30_000, 40_000)
    watched.add(15_000, 25_000)  # overlaps the first
    watched.add(25_000, 30_000)  # touches both neighbours: one range now
    watched.add(50_000, 50_000)  # empty: ignored
    watched.add(0, 1_000)
    assert watched.intervals == ((0, 1_000), (10_000, 40_000))
    assert watched.watched_ms() == 31_000


def test_share_counts_only_inside_the_duration():
    watched = WatchedIntervals([(0, 30_000), (50_000, 70_000)])
    assert watched.share(60_000) == pytest.approx(40_000 / 60_000)
    assert watched.share(0) == 0.0
    assert WatchedIntervals().share(60_000) == 0.0


def test_json_round_trip_and_corrupt_data_refused():
    watched = WatchedIntervals([(5, 10), (0, 3)])
    stored = json.loads(json.dumps(watched.to_json()))
    assert stored == [[0, 3], [5, 10]]
    assert WatchedIntervals.from_json(stored) == watched
    for bad in ({"a": 1}, [[1, 2, 3]], [["0", 5]], [[True, 5]]):
        with pytest.raises(ValueError):
            WatchedIntervals.from_json(bad)


def play(tracker: WatchTracker, start_ms: int, end_ms: int, step_ms: int = 250, rate: float = 1.0):
    for position in range(start_ms, end_ms + 1, step_ms):
        tracker.observe(position, rate)


def test_seeking_ahead_does_not_count_as_watching():
    tracker = WatchTracker()
    play(tracker, 0, 10_000)
    play(tracker, 40_000, 50_000)  # the learner dragged the seek bar from 10 s to 40 s
    assert tracker.watched.intervals == ((0, 10_000), (40_000, 50_000))
    assert tracker.watched.share(60_000) == pytest.approx(20_000 / 60_000)


def test_going_back_and_rewatching_counts_once():
    tracker = WatchTracker()
    play(tracker, 0, 20_000)
    play(tracker, 5_000, 25_000)  # jumped back 15 s and played on
    assert tracker.watched.intervals == ((0, 25_000),)


def test_fast_playback_still_counts_but_a_skip_does_not():
    tracker = WatchTracker()
    play(tracker, 0, 20_000, step_ms=900, rate=2.0)  # 2x: 0.45 s readings move 0.9 s
    assert tracker.watched.watched_ms() == 19_800
    tracker.observe(26_000, 2.0)  # 6.2 s at once: a seek even at 2x
    assert tracker.watched.watched_ms() == 19_800


def test_interrupt_starts_afresh_and_pause_adds_nothing():
    tracker = WatchTracker(WatchedIntervals([(0, 1_000)]))
    play(tracker, 1_000, 3_000)
    for _ in range(10):
        tracker.observe(3_000)  # paused: the same position again and again
    tracker.interrupt()
    tracker.observe(3_500)  # first reading after a stop: not counted on its own
    assert tracker.watched.intervals == ((0, 3_000),)
