"""Runs the download queue on a worker thread and reports progress on the GUI thread.

`Services.run_downloads(listener, stop_event)` blocks until the queue is empty, so it runs
on a dedicated QThread. Its listener is called on the queue's own worker threads: it only
emits a Qt signal (queued to the GUI thread), at most ~10 times a second per job, plus
every change of state. The thread is stopped at exit: `stop()` sets the stop event and
waits; the queue then keeps each job `queued` with the bytes received so far, so the
next start resumes it.
"""

from __future__ import annotations

import logging
import threading
import time

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

log = logging.getLogger(__name__)

EMIT_INTERVAL_S = 0.1  # at most ~10 progress updates per second per job
RUNNING = "running"


class _RunThread(QThread):
    """One call of `run_downloads`; its outcome is kept for the GUI thread to read."""

    def __init__(self, services, listener, stop_event: threading.Event, parent=None):
        super().__init__(parent)
        self.setObjectName("cme-download-runner")
        self._services = services
        self._listener = listener
        self.stop_event = stop_event
        self.outcome: object = None  # DownloadSummary, or the exception that ended the run

    def run(self) -> None:  # on the worker thread: no widgets here
        try:
            self.outcome = self._services.run_downloads(self._listener, self.stop_event)
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the GUI
            from desktop.sync.errors import SyncError

            if not isinstance(exc, SyncError):
                log.exception("the download run failed")
            self.outcome = exc


class DownloadRunner(QObject):
    """Starts, restarts and stops background downloads for one Services."""

    event = Signal(object)  # a DownloadEvent, on the GUI thread (throttled while running)
    run_started = Signal()
    run_finished = Signal(object)  # DownloadSummary, or the exception that ended the run
    _posted = Signal(object)  # from download worker threads to the GUI thread

    def __init__(self, services, parent=None):
        super().__init__(parent)
        self.services = services
        self._thread: _RunThread | None = None
        self._stop_event: threading.Event | None = None
        self._closed = False
        self._again = False  # something was queued while a run was ending
        self._last_emit: dict[int, tuple[float, str]] = {}  # job id -> (monotonic, state)
        self._emit_lock = threading.Lock()
        self._posted.connect(self._deliver)
        self.last_error: BaseException | None = None

    # ------------------------------------------------------------ control (GUI thread)

    def is_running(self) -> bool:
        return self._thread is not None

    def start(self) -> bool:
        """Run the queue if it is not running already; False if closed."""
        if self._closed:
            return False
        if self._thread is not None:
            self._again = True  # the run picks up new jobs; if it is just ending, go again
            return True
        self._again = False
        self._stop_event = threading.Event()
        thread = _RunThread(self.services, self._listen, self._stop_event)
        thread.finished.connect(self._thread_finished)
        self._thread = thread
        self.last_error = None
        thread.start()
        self.run_started.emit()
        return True

    def start_if_queued(self) -> bool:
        """At start-up: resume jobs a previous session left queued or running."""
        try:
            pending = any(j.state in ("queued", "running") for j in self.services.download_jobs())
        except Exception:
            log.exception("reading the download queue failed")
            return False
        return self.start() if pending else False

    def stop(self, timeout_ms: int = 30_000) -> bool:
        """Ask the run to stop and wait for its thread; jobs stay queued with their bytes."""
        self._closed = True
        thread = self._thread
        if thread is None:
            return True
        if self._stop_event is not None:
            self._stop_event.set()
        finished = thread.wait(timeout_ms)
        if not finished:
            log.error("the download thread did not stop within %d ms", timeout_ms)
            return False
        self._thread_finished()
        return True

    # ------------------------------------------------------------ worker side

    def _listen(self, event) -> None:
        """Called on download worker threads: throttle, then post to the GUI thread."""
        now = time.monotonic()
        with self._emit_lock:
            last = self._last_emit.get(event.job_id)
            if (
                event.state == RUNNING and last is not None and last[1] == RUNNING
                and now - last[0] < EMIT_INTERVAL_S
            ):
                return
            self._last_emit[event.job_id] = (now, event.state)
        self._posted.emit(event)

    # ------------------------------------------------------------ GUI side

    @Slot(object)
    def _deliver(self, event) -> None:
        self.event.emit(event)

    def _thread_finished(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        outcome = thread.outcome
        thread.deleteLater()
        self._stop_event = None
        if isinstance(outcome, BaseException):
            self.last_error = outcome
        self.run_finished.emit(outcome)
        if self._closed or isinstance(outcome, BaseException):
            return
        # A job queued (or resumed) while the run was finding nothing left: run again.
        again, self._again = self._again, False
        if again or getattr(outcome, "remaining", 0):
            QTimer.singleShot(0, self.start_if_queued)
