"""Runs the download queue on a worker thread and reports progress on the GUI thread.

`Services.run_downloads(listener, stop_event)` blocks until the queue is empty, so it runs
on a dedicated thread (a daemon Python thread rather than a QThread: if a transfer were
stuck past the wait at exit, a still-running QThread would abort the process, a daemon
thread does not; the queue recovers a job left `running` at the next start). Its listener is called on the queue's own worker threads: it only
emits a Qt signal (queued to the GUI thread), at most ~10 times a second per job, plus
every change of state. The thread is stopped at exit: `stop()` sets the stop event and
waits; the queue then keeps each job `queued` with the bytes received so far, so the
next start resumes it.
"""

from __future__ import annotations

import logging
import threading
import time

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from desktop.errors import CmeError
from desktop.cache.job_state import JobState

log = logging.getLogger(__name__)

EMIT_INTERVAL_S = 0.1  # at most ~10 progress updates per second per job
RUNNING = JobState.RUNNING


class _Run:
    """One call of `run_downloads` on its own thread; the outcome is read on the GUI thread."""

    def __init__(self):
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.outcome: object = None  # DownloadSummary, or the exception that ended the run


class DownloadRunner(QObject):
    """Starts, restarts and stops background downloads for one Services."""

    event = Signal(object)  # a DownloadEvent, on the GUI thread (throttled while running)
    run_started = Signal()
    run_finished = Signal(object)  # DownloadSummary, or the exception that ended the run
    _posted = Signal(object)  # from download worker threads to the GUI thread
    _ended = Signal(object)  # a _Run, from its thread to the GUI thread

    def __init__(self, services, parent=None):
        super().__init__(parent)
        self.services = services
        self._run: _Run | None = None
        self._closed = False
        self._again = False  # something was queued while a run was ending
        self._last_emit: dict[int, tuple[float, str]] = {}  # job id -> (monotonic, state)
        self._emit_lock = threading.Lock()
        self._posted.connect(self._deliver)
        self._ended.connect(self._run_ended)
        self.last_error: BaseException | None = None

    # ------------------------------------------------------------ control (GUI thread)

    def is_running(self) -> bool:
        return self._run is not None

    def start(self) -> bool:
        """Run the queue if it is not running already; False if closed."""
        if self._closed:
            return False
        if self._run is not None:
            self._again = True  # the run picks up new jobs; if it is just ending, go again
            return True
        self._again = False
        run = _Run()
        services, listener, ended = self.services, self._listen, self._ended

        def work() -> None:  # on the runner thread: no widgets here
            try:
                run.outcome = services.run_downloads(listener, run.stop_event)
            except BaseException as exc:  # noqa: BLE001 - every failure goes back to the GUI
                if not isinstance(exc, CmeError):
                    log.exception("the download run failed")
                run.outcome = exc
            try:
                ended.emit(run)
            except RuntimeError:  # the window is gone already
                pass

        run.thread = threading.Thread(target=work, name="cme-download-runner", daemon=True)
        self._run = run
        self.last_error = None
        run.thread.start()
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

    def stop(self, timeout_s: float = 40.0) -> bool:
        """Ask the run to stop and wait for its thread; jobs stay queued with their bytes.

        The wait covers a transfer blocked in a read (the read timeout is 30 s).
        """
        self._closed = True
        run = self._run
        if run is None:
            return True
        run.stop_event.set()
        run.thread.join(timeout_s)
        if run.thread.is_alive():
            log.error("the download thread did not stop within %.0f s", timeout_s)
            return False
        self._run_ended(run)
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

    @Slot(object)
    def _run_ended(self, run: _Run) -> None:
        if run is not self._run:
            return  # already handled by stop()
        self._run = None
        outcome = run.outcome
        if isinstance(outcome, BaseException):
            self.last_error = outcome
        self.run_finished.emit(outcome)
        if self._closed or isinstance(outcome, BaseException):
            return
        # A job queued (or resumed) while the run was finding nothing left: run again.
        again, self._again = self._again, False
        if again or getattr(outcome, "remaining", 0):
            QTimer.singleShot(0, self.start_if_queued)
