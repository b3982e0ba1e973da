"""The crash loop: headless commands SIGKILLed at random moments, again and again.

`run_crash_loop(server, workdir, kills=N, seed=S)` prepares a data dir (activities with
media published on `server`, a learner signed in with claims waiting to be sent, a
bandwidth cap so downloads take a while), then repeatedly starts

    python -m desktop.app download --all --data-dir D --server URL
    python -m desktop.app sync --data-dir D --server URL

in a subprocess and SIGKILLs it after a random delay (seeded `random.Random(seed)`; the
delay is drawn up to about how long that command took when it last ran to the end). When
one command runs out of work it is given more: the downloaded videos are removed again,
or another learner signs in on the same computer and finishes every activity. After each
kill the store, the database and the server are checked (nothing damaged, nothing held
twice). At the end both commands run to completion and the final checks are strict: every
asset present and hashing to its name, no `.part` left, `PRAGMA integrity_check` ok, the
outbox empty, and the server holding exactly the completions made here, each with one
certificate (cached and verified here).

Used by tests/faults/test_crashloop.py (a few kills) and tests/bench/bench_crashloop.py (many).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.faults.checks import (
    blob_problems,
    completion_problems,
    local_delivery_problems,
    sqlite_problems,
)
from tests.faults.learning import claim_activity
from tests.support.activities import DEMO_ID
from tests.support.media_publish import publish_activity

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "demo"
COMMAND_TIMEOUT_S = 180


@dataclass
class CrashLoopReport:
    kills: int = 0
    runs: int = 0  # commands started in the loop
    finished_before_kill: int = 0
    refills: Counter = field(default_factory=Counter)
    by_command: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    completions: int = 0  # expected on the server at the end
    blobs: int = 0
    wall_s: float = 0.0

    def summary(self) -> str:
        return (f"kills={self.kills} runs={self.runs} finished_before_kill={self.finished_before_kill} "
                f"by_command={dict(self.by_command)} refills={dict(self.refills)} completions={self.completions} "
                f"blobs={self.blobs} problems={len(self.problems)} wall={self.wall_s:.1f}s")


class _Loop:
    def __init__(self, server, workdir: Path, *, seed: int, activities: int, video_size: int,
                 bandwidth_kbps: int, log: Callable[[str], None]):
        self.server = server
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.rng = random.Random(seed)
        self.seed = seed
        self.log = log
        self.activity_ids = [DEMO_ID] + [f"crash-{i}" for i in range(activities)]
        self.video_size = video_size
        self.bandwidth_kbps = bandwidth_kbps
        self.expected: dict[str, set[str]] = {}
        self.learners = 0
        # Roughly how long each command takes when left alone (updated as they finish).
        self.estimate_s = {"download": 4.0, "sync": 2.5}
        self.report = CrashLoopReport()
        self.t0 = time.monotonic()

    # ------------------------------------------------------------ set-up and refills

    def services(self):
        from desktop.config import Paths
        from desktop.services import Services

        return Services(Paths(self.data_dir), server_url=self.server.url)

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for i, activity_id in enumerate(self.activity_ids[1:]):
            publish_activity(self.server, self.workdir / "publish" / activity_id, activity_id,
                             video_size=self.video_size, seed=self.seed * 100 + i)
        services = self.services()
        try:
            services.update_settings(bandwidth_cap_kbps=self.bandwidth_kbps)
        finally:
            services.close()
        self.new_learner("demo")

    def new_learner(self, username: str | None = None) -> None:
        """Another learner signs in here and finishes (and claims) every activity."""
        if username is None:
            username = f"nurse{self.learners}"
            self.server.add_learner(username, PASSWORD, profession="physician", display_name=f"Dr. {username}")
        self.learners += 1
        services = self.services()
        try:
            services.sign_in(username, PASSWORD)
            services.sync()
            made = {claim_activity(services, a) for a in self.activity_ids}
        finally:
            services.close()
        self.expected[username] = made

    def pending(self) -> int:
        return self._count("SELECT count(*) FROM outbox")

    def downloads_left(self) -> bool:
        from tests.support.media_publish import store_files

        wanted = {sha for (sha,) in self._rows("SELECT DISTINCT sha256 FROM assets")}
        return not wanted <= set(store_files(self.data_dir / "blobs"))

    def _rows(self, sql: str) -> list[tuple]:
        import sqlite3

        conn = sqlite3.connect(f"file:{self._db_path()}?mode=ro", uri=True)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def _count(self, sql: str) -> int:
        return self._rows(sql)[0][0]

    def remove_videos(self) -> None:
        services = self.services()
        try:
            for activity_id in self.activity_ids:
                services.remove_downloaded_video(activity_id)
        finally:
            services.close()

    # ------------------------------------------------------------ running commands

    def command(self, name: str) -> list[str]:
        args = ["download", "--all", "--json"] if name == "download" else ["sync"]
        return [sys.executable, "-m", "desktop.app", *args, "--data-dir", str(self.data_dir),
                "--server", self.server.url]

    def start(self, name: str) -> subprocess.Popen:
        return subprocess.Popen(self.command(name), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})

    def run_to_end(self, name: str) -> None:
        started = time.monotonic()
        done = subprocess.run(self.command(name), cwd=ROOT, capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT_S, env={**os.environ, "PYTHONPATH": str(ROOT)})
        if done.returncode != 0:
            self.problem(f"`{name}` run to the end exited {done.returncode}: {done.stderr.strip()[-500:]}")
        else:
            self.estimate_s[name] = time.monotonic() - started

    def one_round(self) -> None:
        name = self.rng.choice(["download", "sync"])
        if name == "download" and not self.downloads_left():
            self.remove_videos()
            self.report.refills["videos removed"] += 1
        if name == "sync" and self.pending() == 0:
            self.new_learner()
            self.report.refills["learner added"] += 1
        delay = self.rng.uniform(0.1, 1.1 * self.estimate_s[name])
        started = time.monotonic()
        proc = self.start(name)
        self.report.runs += 1
        self.report.by_command[name] += 1
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            self.report.kills += 1
            self.log(f"[{time.monotonic() - self.t0:6.1f}s] kill {self.report.kills}: {name} after {delay:.2f}s")
        else:
            self.report.finished_before_kill += 1
            err = proc.stderr.read().decode(errors="replace").strip()
            if proc.returncode != 0:
                self.problem(f"`{name}` exited {proc.returncode} on its own: {err[-500:]}")
            else:
                self.estimate_s[name] = time.monotonic() - started
        finally:
            proc.stderr.close()
        self.check(final=False)

    # ------------------------------------------------------------ checks

    def problem(self, text: str) -> None:
        self.log(f"PROBLEM: {text}")
        self.report.problems.append(text)

    def check(self, *, final: bool) -> None:
        found = blob_problems(self.data_dir / "blobs", allow_partial=not final)
        found += sqlite_problems(self._db_path())
        found += completion_problems(self.server.api_url, self.expected, PASSWORD, final=final)
        if final:
            found += local_delivery_problems(self._db_path(), self.expected)
            if self.downloads_left():
                found.append("some assets are still not in the store after a full download")
        for text in found:
            self.problem(text)

    def _db_path(self) -> Path:
        from desktop.config import Paths

        return Paths(self.data_dir).database


def run_crash_loop(server, workdir: Path, *, kills: int, seed: int = 1, activities: int = 4,
                   video_size: int = 300_000, bandwidth_kbps: int = 2400,
                   log: Callable[[str], None] = lambda s: None, max_runs: int | None = None) -> CrashLoopReport:
    """Kill headless commands `kills` times at random, then finish them; see the module doc."""
    started = time.monotonic()
    loop = _Loop(server, Path(workdir), seed=seed, activities=activities, video_size=video_size,
                 bandwidth_kbps=bandwidth_kbps, log=log)
    loop.prepare()
    max_runs = max_runs if max_runs is not None else kills * 4 + 10
    while loop.report.kills < kills and loop.report.runs < max_runs:
        loop.one_round()
    if loop.report.kills < kills:
        loop.problem(f"only {loop.report.kills} of {kills} kills landed in {loop.report.runs} runs")

    # The end: no cap, both commands to completion, then the strict checks.
    services = loop.services()
    try:
        services.update_settings(bandwidth_cap_kbps=None)
    finally:
        services.close()
    loop.run_to_end("download")
    loop.run_to_end("sync")
    loop.check(final=True)
    from tests.support.media_publish import store_files

    loop.report.completions = sum(len(ids) for ids in loop.expected.values())
    loop.report.blobs = len(store_files(loop.data_dir / "blobs"))
    loop.report.wall_s = time.monotonic() - started
    return loop.report


def isolated_environment(home: Path) -> dict[str, str]:
    """What the subprocesses and the in-process Services need outside pytest: the keyring
    file backend in its own folder, and no machine policy."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "XDG_DATA_HOME": str(home / "keyring-home"),
        "CME_OFFLINE_POLICY_FILE": str(home / "no-policy.toml"),
        "QT_QPA_PLATFORM": "offscreen",
    }
