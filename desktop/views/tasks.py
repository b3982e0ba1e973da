"""Run slow work off the GUI thread and hand the outcome back on it.

Anki's QueryOp in miniature: `fn` runs on a worker of one shared QThreadPool and never
touches a widget; `on_done(result)` or `on_error(exc)` then run on the GUI thread. The
relay object is a child of `parent`, so if the widget is gone by the time the work ends,
the outcome is dropped instead of landing on a deleted widget.

At exit (and in tests) call `wait_for_tasks()` so no worker outlives the application.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

_pool: QThreadPool | None = None
_live: set[TaskHandle] = set()  # relays whose outcome has not been delivered yet


def task_pool() -> QThreadPool:
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setObjectName("cme-offline-tasks")
        _pool.setMaxThreadCount(4)
    return _pool


def wait_for_tasks(timeout_ms: int = -1) -> bool:
    """Block until every started task has finished running (not necessarily delivered)."""
    if _pool is None:
        return True
    return _pool.waitForDone(timeout_ms)


def pending_tasks() -> int:
    """Tasks started whose outcome has not yet reached the GUI thread."""
    return len(_live)


class TaskHandle(QObject):
    """Relays one task's outcome to the GUI thread (queued: it lives there)."""

    done = Signal(object)
    failed = Signal(object)
    finished = Signal()  # after on_done / on_error ran, either way

    def __init__(self, parent: QObject | None, on_done, on_error):
        super().__init__(parent)
        self._on_done = on_done
        self._on_error = on_error
        self.done.connect(self._deliver_done)
        self.failed.connect(self._deliver_failed)

    @Slot(object)
    def _deliver_done(self, result: Any) -> None:
        try:
            if self._on_done is not None:
                self._on_done(result)
        finally:
            self._release()

    @Slot(object)
    def _deliver_failed(self, exc: BaseException) -> None:
        try:
            if self._on_error is not None:
                self._on_error(exc)
            else:
                log.error("background task failed", exc_info=exc)
        finally:
            self._release()

    def _release(self) -> None:
        _live.discard(self)
        self.finished.emit()
        self.deleteLater()


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[], Any], handle: TaskHandle):
        super().__init__()
        self._fn = fn
        self._handle = handle

    def run(self) -> None:  # on a worker thread
        try:
            result = self._fn()
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the GUI
            if not _is_expected(exc):
                log.exception("background task raised")
            self._emit(self._handle.failed, exc)
        else:
            self._emit(self._handle.done, result)
        finally:
            self._fn = None

    def _emit(self, signal, value) -> None:
        try:
            signal.emit(value)
        except RuntimeError:
            # The parent widget (and with it the relay) was deleted: nobody to tell.
            _live.discard(self._handle)


def _is_expected(exc: BaseException) -> bool:
    from desktop.sync.errors import SyncError

    return isinstance(exc, (SyncError, ValueError))


def run_task(
    parent: QObject | None,
    fn: Callable[[], Any],
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
) -> TaskHandle:
    """Run `fn()` on the task pool; deliver its result or exception on the GUI thread."""
    handle = TaskHandle(parent, on_done, on_error)
    _live.add(handle)
    task_pool().start(_Runnable(fn, handle))
    return handle
