"""A private D-Bus session bus for the tests that run the app as a desktop would (the
AT-SPI test, the tray test), and the two chores of driving another process: reading
its next line with a deadline, and stopping it.

A private bus keeps the developer's own session (its screen reader, its tray watcher,
its notification daemon) out of the test, and the test out of it.
"""

from __future__ import annotations

import select
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager


def read_line(proc: subprocess.Popen, timeout_s: float) -> str:
    """The process's next line on stdout, or a failure saying it did not answer."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if line:
                return line.strip()
        if proc.poll() is not None:
            break
    raise AssertionError(f"the process did not answer in {timeout_s} s (exit {proc.poll()})")


def stop(proc: subprocess.Popen | None) -> None:
    """Terminate a process this test started (kill it if it does not end in 10 s)."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def session_bus() -> Iterator[str]:
    """Run dbus-daemon --session for the duration; yields its address (for
    DBUS_SESSION_BUS_ADDRESS)."""
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        yield read_line(bus, 10)
    finally:
        stop(bus)
