"""The start-up path's helpers: the first-paint benchmark hook and when the process began.

Imported by main_window before the first paint, so nothing heavy here (stdlib only).
With `CME_OFFLINE_BENCH_FIRST_PAINT=1` the window skips the start-up sync and the
first-run dialog and, after the library's first paint that shows rows, prints
`first-paint-ms <ms>` and, for each start-up step marked with `mark()`, `phase <name>
<ms since the step before>`, and quits (tests/bench/bench_startup.py prints the shares). The time is measured from `CME_OFFLINE_T0` (seconds
since the epoch, as from `time.time()`) if set, else from the process start time the OS
reports.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

_IMPORTED_AT = time.time()
_MARKS: list[tuple[str, float]] = []
BENCH_ENV = "CME_OFFLINE_BENCH_FIRST_PAINT"
T0_ENV = "CME_OFFLINE_T0"


def bench_mode() -> bool:
    return os.environ.get(BENCH_ENV, "") not in ("", "0")


def process_start_time() -> float:
    """Seconds since the epoch when this process started (or the benchmark's T0)."""
    env = os.environ.get(T0_ENV)
    if env:
        try:
            return float(env)
        except ValueError:
            log.warning("%s=%r is not a number; using the process start", T0_ENV, env)
    try:  # Linux: start time in clock ticks after boot, and the boot time
        with open("/proc/self/stat", encoding="ascii") as fh:
            ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat", encoding="ascii") as fh:
            btime = next(int(line.split()[1]) for line in fh if line.startswith("btime"))
        return btime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration, AttributeError):
        return _IMPORTED_AT


def first_paint_ms() -> float:
    """Milliseconds from the process start (or T0) until now."""
    return (time.time() - process_start_time()) * 1000.0


def mark(step: str) -> None:
    """Note that start-up step `step` just ended (kept only in bench mode; a list append)."""
    if bench_mode():
        _MARKS.append((step, time.time()))


def callgrind_mark() -> None:
    """The first paint, for bench_startup's exact instruction count: `valgrind --tool=callgrind
    --dump-before=getppid` ends a count at each getppid(), which nothing calls before this."""
    os.getppid()


def phase_lines() -> list[str]:
    """`phase <step> <ms>` for each marked step: its own time, from the step before (the
    first from the process start or T0), in the order they happened; then
    `main-thread-cpu-ms <ms>`, the CPU this thread has used (other load on the machine
    stretches the wall clock far more than this)."""
    lines, before = [], process_start_time()
    for step, at in _MARKS:
        lines.append(f"phase {step.replace(' ', '_')} {(at - before) * 1000:.1f}")
        before = at
    lines.append(f"main-thread-cpu-ms {time.thread_time() * 1000:.1f}")
    return lines


@contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection while start-up runs; back on when it ends, if not before.

    Start-up allocates much and frees little: the collector's passes over every object made
    so far are ~2% of the first paint's instructions, for nothing. The window, once up, ends
    the pause with `resume_collector`; a command (cli) with gc.enable."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def resume_collector() -> None:
    """The window is up: collect again, leaving out what start-up made (gc.freeze). Modules,
    classes and the window live as long as the process, and the first collection would
    otherwise walk them all (~9 M instructions, in the middle of the first paint). Only after
    `collector_paused`: a process that never paused it (tests) keeps all its objects collectable."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
