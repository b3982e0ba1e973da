"""Run slow work off the GUI thread and hand the outcome back on it.

Anki's QueryOp in miniature: `fn` runs on a worker of one shared QThreadPool and never
touches a widget; `on_done(result)` or `on_error(exc)` then run on the GUI thread. If the
`parent` widget has been deleted by the time the work ends, the outcome is dropped
instead of landing on a dead widget.

One long-lived relay object (living on the GUI thread) carries every outcome back through
a queued signal; no per-task QObjects are created or deleted.

Writes to the local store go through `run_write` instead: one writer thread for the
whole app (Anki's CollectionOp on a single-worker executor; Picard's one-thread save
pool), so writes never race one another and run in the order they were asked for,
whichever widget asked. Reads and network work (sync, sign-in, which record their own
results in their own transactions) stay on the task pool.

At exit (and in tests) call `wait_for_tasks()` so no worker outlives the application;
`wait_for_writes(timeout_ms)` drains the writer alone (the window does it, with a bound,
after queueing its last save and before the database closes).
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThread, QThreadPool, Signal, Slot

from desktop.errors import CmeError

log = logging.getLogger(__name__)

_pool: QThreadPool | None = None
_writer: QThreadPool | None = None
_relay: _Relay | None = None
_lock = threading.Lock()
_ids = itertools.count(1)
_tasks: dict[int, Task] = {}  # queued or running, outcome not yet delivered


@dataclass
class Task:
    id: int
    parent: QObject | None
    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None
    delivered: bool = False
    outcome: Any = field(default=None, repr=False)
    write: bool = False  # on the writer (run_write), not the task pool
    started: bool = False  # its function has begun to run
    discarded: bool = False  # dropped before it started (discard_writes): it never runs


def task_pool() -> QThreadPool:
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setObjectName("cme-offline-tasks")
        _pool.setMaxThreadCount(4)
    return _pool


def write_pool() -> QThreadPool:
    """The one writer thread: writes run on it one at a time, first asked, first run."""
    global _writer
    if _writer is None:
        _writer = QThreadPool()
        _writer.setObjectName("cme-offline-writer")
        _writer.setMaxThreadCount(1)
    return _writer


def wait_for_tasks(timeout_ms: int = -1, *, writes: bool = True) -> bool:
    """Block until every started task (and write, unless `writes=False`) has finished running.

    Their outcomes may still be queued for the GUI thread.
    """
    writes_done = wait_for_writes(timeout_ms) if writes else True
    if _pool is None:
        return writes_done
    return _pool.waitForDone(timeout_ms) and writes_done


def wait_for_writes(timeout_ms: int = -1) -> bool:
    """Block until every queued write has run (False if `timeout_ms` passed first)."""
    if _writer is None:
        return True
    return _writer.waitForDone(timeout_ms)


def pending_tasks() -> int:
    """Tasks and writes started whose outcome has not yet reached the GUI thread."""
    with _lock:
        return len(_tasks)


def pending_writes(owner: QObject | None = None) -> int:
    """Writes queued or running whose outcome has not reached the GUI thread (only `owner`'s if given)."""
    with _lock:
        return sum(t.write and (owner is None or t.parent is owner) for t in _tasks.values())


class _Relay(QObject):
    outcome = Signal(int, bool, object)  # task id, succeeded, result or exception

    def __init__(self):
        super().__init__()
        self.outcome.connect(self._deliver)

    @Slot(int, bool, object)
    def _deliver(self, task_id: int, ok: bool, value: Any) -> None:
        with _lock:
            task = _tasks.pop(task_id, None)
        if task is None:
            return
        task.delivered = True
        task.outcome = value
        parent, task.parent = task.parent, None
        if parent is not None and not shiboken6.isValid(parent):
            return  # the widget that asked is gone
        callback = task.on_done if ok else task.on_error
        task.on_done = task.on_error = None
        if callback is not None:
            callback(value)
        elif not ok:
            log.error("background task failed", exc_info=value)


def _get_relay() -> _Relay:
    global _relay
    if _relay is None or not shiboken6.isValid(_relay):
        app = QCoreApplication.instance()
        if app is None or QThread.currentThread() is not app.thread():
            raise RuntimeError("run_task must be called on the GUI thread of a running QApplication")
        _relay = _Relay()
    return _relay


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[], Any], task: Task, relay: _Relay):
        super().__init__()
        self._fn = fn
        self._task = task
        self._task_id = task.id
        self._relay = relay

    def run(self) -> None:  # on a worker thread
        fn, self._fn = self._fn, None
        task, self._task = self._task, None
        with _lock:
            if task.discarded:
                return
            task.started = True
        try:
            result = fn()
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the GUI
            if not _is_expected(exc):
                log.exception("background task raised")
            self._relay.outcome.emit(self._task_id, False, exc)
        else:
            self._relay.outcome.emit(self._task_id, True, result)


def _is_expected(exc: BaseException) -> bool:
    """A failure the app reports to a person (the error tree); anything else is a bug, logged."""
    return isinstance(exc, CmeError)


def run_task(
    parent: QObject | None,
    fn: Callable[[], Any],
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
) -> Task:
    """Run `fn()` on the task pool; deliver its result or exception on the GUI thread."""
    return _start(task_pool(), parent, fn, on_done, on_error, write=False)


def run_write(
    parent: QObject | None,
    fn: Callable[[], Any],
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
) -> Task:
    """Queue `fn()`, a write to the local store, on the one writer thread.

    Writes run one at a time in the order they were queued, from every widget; the next
    one may start before the previous one's outcome reaches the GUI thread. `on_done` /
    `on_error` run on the GUI thread, unless `parent` is gone by then.
    """
    return _start(write_pool(), parent, fn, on_done, on_error, write=True)


def discard_writes(parent: QObject) -> int:
    """Drop `parent`'s writes that have not started (it moved to another activity or learner).

    A write already running finishes and its outcome is delivered. Returns how many were
    dropped; their callbacks never run.
    """
    with _lock:
        dropped = [t for t in _tasks.values() if t.write and t.parent is parent and not t.started]
        for t in dropped:
            t.discarded = True
            del _tasks[t.id]
    return len(dropped)


def _start(pool: QThreadPool, parent, fn, on_done, on_error, *, write: bool) -> Task:
    relay = _get_relay()
    task = Task(next(_ids), parent, on_done, on_error, write=write)
    with _lock:
        _tasks[task.id] = task
    pool.start(_Runnable(fn, task, relay))
    return task
