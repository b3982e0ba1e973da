"""Headless `download` and `sync` SIGKILLed at random moments, restarted, and finished:
nothing damaged, nothing lost, nothing credited twice. `CME_CRASHLOOP_KILLS` sets how many
kills (default 6); tests/bench/bench_crashloop.py runs hundreds."""

from __future__ import annotations

import os

from tests.faults.crashloop import run_crash_loop


def test_random_sigkills_of_download_and_sync_lose_and_damage_nothing(server, tmp_path):
    kills = int(os.environ.get("CME_CRASHLOOP_KILLS", "6"))
    seed = int(os.environ.get("CME_CRASHLOOP_SEED", "7"))
    report = run_crash_loop(server, tmp_path / "loop", kills=kills, seed=seed, log=print)
    print(report.summary())
    assert report.problems == []
    assert report.kills == kills
    assert report.completions >= 5 and report.blobs >= 5 * 3
