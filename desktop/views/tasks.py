"""Run slow work off the GUI thread and hand the outcome back on it.

Anki's QueryOp in miniature: `fn` runs on a worker of one shared QThreadPool and never
touches a widget; `on_done(result)` or `on_error(exc)` then run on the GUI thread. If the
`parent` widget has been deleted by the time the work ends, the outcome is dropped
instead of landing on a dead widget.

One long-lived relay object (living on the GUI thread) carries every outcome back through
a queued signal; no per-task QObjects are created or deleted.

At exit (and in tests) call `wait_for_tasks()` so no worker outlives the application.
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

log = logging.getLogger(__name__)

_pool: QThreadPool | None = None
_relay: _Relay | None = None
_lock = threading.Lock()
_ids = itertools.count(1)
_tasks: dict[int, Task] = {}  # started, outcome not yet delivered


@dataclass
class Task:
    id: int
    parent: QObject | None
    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None
    delivered: bool = False
    outcome: Any = field(default=None, repr=False)


def task_pool() -> QThreadPool:
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setObjectName("cme-offline-tasks")
        _pool.setMaxThreadCount(4)
    return _pool


def wait_for_tasks(timeout_ms: int = -1) -> bool:
    """Block until every started task has finished running (its outcome may still be queued)."""
    if _pool is None:
        return True
    return _pool.waitForDone(timeout_ms)


def pending_tasks() -> int:
    """Tasks started whose outcome has not yet reached the GUI thread."""
    with _lock:
        return len(_tasks)


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
    def __init__(self, fn: Callable[[], Any], task_id: int, relay: _Relay):
        super().__init__()
        self._fn = fn
        self._task_id = task_id
        self._relay = relay

    def run(self) -> None:  # on a worker thread
        fn, self._fn = self._fn, None
        try:
            result = fn()
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the GUI
            if not _is_expected(exc):
                log.exception("background task raised")
            self._relay.outcome.emit(self._task_id, False, exc)
        else:
            self._relay.outcome.emit(self._task_id, True, result)


def _is_expected(exc: BaseException) -> bool:
    from desktop.errors import CmeError

    return isinstance(exc, (CmeError, ValueError))


def run_task(
    parent: QObject | None,
    fn: Callable[[], Any],
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
) -> Task:
    """Run `fn()` on the task pool; deliver its result or exception on the GUI thread."""
    relay = _get_relay()
    task = Task(next(_ids), parent, on_done, on_error)
    with _lock:
        _tasks[task.id] = task
    task_pool().start(_Runnable(fn, task.id, relay))
    return task


class SerialQueue:
    """Run calls on the pool one after another, in the order they were queued.

    For writes whose order matters (a post-test's answers as chosen, then the submit; an
    evaluation's drafts, then its submission): each call starts only when the previous
    one's outcome has reached the GUI thread.
    """

    def __init__(self, parent: QObject):
        from collections import deque

        self.parent = parent
        self._queue: deque = deque()
        self._running = False

    def add(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None) -> None:
        self._queue.append((fn, on_done, on_error))
        self._next()

    def busy(self) -> bool:
        return self._running or bool(self._queue)

    def clear(self) -> None:
        """Drop what has not started (the view moved to another activity or learner)."""
        self._queue.clear()

    def _next(self) -> None:
        if self._running or not self._queue:
            return
        fn, on_done, on_error = self._queue.popleft()
        self._running = True

        def done(result: Any) -> None:
            self._running = False
            try:
                if on_done is not None:
                    on_done(result)
            finally:
                self._next()

        def failed(exc: BaseException) -> None:
            self._running = False
            try:
                if on_error is not None:
                    on_error(exc)
                else:
                    log.error("queued task failed", exc_info=exc)
            finally:
                self._next()

        run_task(self.parent, fn, done, failed)
