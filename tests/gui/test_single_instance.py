"""One app per data dir, with real processes: a second launch on the same data dir brings
the first window forward and exits 0; another data dir runs its own app; a lock left by a
killed app does not block the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop.views.single_instance import LOCK_FILE, lock_owner_pid, server_name
from tests.support.clients import dead_url

ROOT = Path(__file__).resolve().parents[2]
BROUGHT_FORWARD = "window brought forward for another launch"


def _env() -> dict[str, str]:
    return dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))


def _launch(data_dir: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "desktop.app", "--verbose", "--data-dir", str(data_dir), "--server", dead_url(),
         *extra], cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _log(data_dir: Path) -> str:
    path = data_dir / "logs" / "cme-offline.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _wait_for(condition, what: str, timeout: float = 30.0) -> None:
    """Poll another process's state (files it writes); Qt's own waits do not reach across processes."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _running(data_dir: Path, proc: subprocess.Popen) -> None:
    """Wait until `proc` holds `data_dir` (the lock file names it); it is then the one that answers."""
    _wait_for(lambda: proc.poll() is not None or lock_owner_pid(data_dir) == proc.pid, "the app to hold its data dir")
    assert proc.poll() is None, proc.communicate(timeout=10)


@pytest.fixture
def apps():
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=20)


def test_a_second_launch_on_the_same_data_dir_raises_the_first_and_exits(apps, tmp_path):
    data_dir = tmp_path / "data"
    first = _launch(data_dir)
    apps.append(first)
    _running(data_dir, first)

    started = time.monotonic()
    second = subprocess.run(
        [sys.executable, "-m", "desktop.app", "--data-dir", str(data_dir), "--demo"],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=30)
    took = time.monotonic() - started
    assert second.returncode == 0, second.stderr
    assert took < 10, f"the second launch took {took:.1f} s"
    _wait_for(lambda: BROUGHT_FORWARD in _log(data_dir), "the first window to be brought forward")
    assert "--demo" in _log(data_dir)  # what the second launch asked for is logged, not acted on
    assert first.poll() is None, "the first app must keep running"
    assert lock_owner_pid(data_dir) == first.pid


def test_another_data_dir_runs_its_own_app(apps, tmp_path):
    one, other = tmp_path / "one", tmp_path / "other"
    assert server_name(one) != server_name(other)
    first = _launch(one)
    apps.append(first)
    _running(one, first)
    second = _launch(other)
    apps.append(second)
    _running(other, second)
    assert first.poll() is None and second.poll() is None
    assert BROUGHT_FORWARD not in _log(one)


def test_a_lock_left_by_a_killed_app_does_not_block_the_next_start(apps, tmp_path):
    data_dir = tmp_path / "data"
    killed = _launch(data_dir)
    apps.append(killed)
    _running(data_dir, killed)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=20)
    assert (data_dir / LOCK_FILE).exists()  # the dead app's lock (and its socket file) are still there

    again = _launch(data_dir)
    apps.append(again)
    _running(data_dir, again)
    third = subprocess.run([sys.executable, "-m", "desktop.app", "--data-dir", str(data_dir)],
                           cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=30)
    assert third.returncode == 0, third.stderr  # the new owner answers on the same name
    _wait_for(lambda: BROUGHT_FORWARD in _log(data_dir), "the new owner to be brought forward")
