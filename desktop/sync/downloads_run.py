"""One run of the download queue: worker threads, retries, progress, the store lock.

`DownloadQueue.run` (downloads.py) starts a `DownloadRun`: a few worker threads take the
most urgent due job, fetch it with the `BlobFetcher` (desktop/sync/sources.py) and record
the outcome. Retries wait with exponential backoff and jitter (or the server's Retry-After)
without holding a worker: the job goes back to `queued` with `next_attempt_at` set. A
failed attempt that still brought new bytes does not count towards giving up, and a
connection that broke after bringing them is taken up again at once by the same worker,
from the byte it reached (`_fetch`): no wait, no trip through the queue, as `curl -C -`
would. Progress goes to the listener from the worker threads, throttled by `JobMeter`.

A verified file is finished on the run's one *finishing* thread, in the order files
arrived: first `on_complete` (the services make a transcript or summary searchable, or
re-time the index for a video's length), then the job is recorded and announced as done.
So the worker takes the next job at once instead of indexing, and "done" is never shown
before search finds what the file brought. `go()` returns once the last file is finished.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, or_, select

from cmecore.private_files import open_private
from desktop.cache import models as m
from desktop.cache.blobstore import TransferInterrupted
from desktop.cache.job_state import JobState
from desktop.errors import (
    CmeError,
    DownloadsBusy,
    NotSignedIn,
    RetryableTransferError,
    SignInRequired,
    TransferError,
)
from desktop.sync.downloads_data import DownloadEvent, DownloadPolicy, DownloadSummary, job_info, utcnow
from desktop.sync.sources import BlobFetcher, FetchResult, FetchTarget

if os.name == "nt":  # the OS file lock: one module per platform
    import msvcrt
else:
    import fcntl

log = logging.getLogger(__name__)


class RunningJobs:
    """The stop events of the jobs this process is running, so a pause or cancel reaches them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._events: dict[int, threading.Event] = {}

    def start(self, job_id: int) -> threading.Event:
        with self._lock:
            event = self._events[job_id] = threading.Event()
            return event

    def end(self, job_id: int) -> None:
        with self._lock:
            self._events.pop(job_id, None)

    def stop(self, job_id: int) -> bool:
        """Ask a running job to stop after its current piece; False if it is not running here."""
        with self._lock:
            event = self._events.get(job_id)
            if event is not None:
                event.set()
            return event is not None

    def stop_all(self) -> None:
        with self._lock:
            for event in self._events.values():
                event.set()


class DownloadRun:
    """One call of `DownloadQueue.run` (the `queue`): its workers, counters and listener."""

    def __init__(self, queue, fetcher: BlobFetcher, policy: DownloadPolicy, listener, stop_event,
                 on_complete):
        self.q = queue
        self.db = queue.db
        self.fetcher = fetcher
        self.policy = policy
        self.listener = listener
        self.stop_event = stop_event
        self.on_complete = on_complete
        self.outcomes: dict[int, str] = {}
        self.bytes_fetched = 0
        self.fatal: BaseException | None = None
        self._count_lock = threading.Lock()
        # One thread, in arrival order: what a verified file brings, then "done" (module docstring).
        self._finishing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cme-download-finish")

    def go(self) -> DownloadSummary:
        workers = [
            threading.Thread(target=self._worker, name=f"cme-download-{i}", daemon=True)
            for i in range(max(1, self.policy.parallel))
        ]
        try:
            for w in workers:
                w.start()
            # join() returns the moment a worker ends (a poll on the stop event would add up to
            # its interval to every run); between joins, a stop or a fatal error reaches the jobs.
            for w in workers:
                while w.is_alive():
                    w.join(0.05)
                    if self.stop_event.is_set() or self.fatal is not None:
                        self.q.running.stop_all()
        finally:
            self._finishing.shutdown(wait=True)  # every file that arrived is finished (module docstring)
        if self.fatal is not None:
            raise self.fatal
        return self._summary()

    def _summary(self) -> DownloadSummary:
        with self.db.read() as s:
            remaining = s.scalar(select(func.count()).select_from(m.DownloadJob).where(m.DownloadJob.state == JobState.QUEUED))
        by_state = list(self.outcomes.values())
        failures = tuple(j for j in self.q.jobs([JobState.FAILED]) if self.outcomes.get(j.id) == JobState.FAILED)
        return DownloadSummary(
            done=by_state.count(JobState.DONE),
            failed=by_state.count(JobState.FAILED),
            paused=by_state.count(JobState.PAUSED),
            cancelled=by_state.count(JobState.CANCELLED),
            remaining=remaining or 0,
            bytes_fetched=self.bytes_fetched,
            failures=failures,
            stopped=self.stop_event.is_set(),
        )

    # ------------------------------------------------------------ worker

    def _worker(self) -> None:
        while not self.stop_event.is_set() and self.fatal is None:
            job, wait_s = self._claim()
            if job is None:
                if wait_s is None:
                    return  # nothing left to do
                self.stop_event.wait(min(wait_s, 0.25))
                continue
            try:
                self._process(job)
            except BaseException as exc:  # never lose a worker silently
                log.exception("download job %s crashed", job.id)
                self._finish(job, JobState.FAILED, error=f"Unexpected error: {exc}")

    def _outside_hours(self) -> float:
        """Seconds until the download window opens (0: downloads may run now)."""
        window = self.policy.download_window
        if window is None:
            return 0.0
        wait = window.seconds_until_open(self.policy.local_clock())
        q = self.q
        if wait > 0 and not q.waiting.is_set():
            q.waiting_message = (
                f"Downloads wait for the download hours set on this computer ({window}, local time)."
            )
            log.info("%s Next start in %.0f min.", q.waiting_message, wait / 60)
            q.waiting.set()
        elif wait == 0 and q.waiting.is_set():
            q.waiting.clear()
            q.waiting_message = None
        return wait

    def _claim(self) -> tuple[m.DownloadJob | None, float | None]:
        now = utcnow()
        hours_wait = self._outside_hours()
        if hours_wait > 0:
            with self.db.read() as s:
                queued = s.scalar(select(func.count()).select_from(m.DownloadJob).where(m.DownloadJob.state == JobState.QUEUED))
            return None, (hours_wait if queued else None)
        with self.db.write() as s:
            job = s.scalars(
                select(m.DownloadJob)
                .where(m.DownloadJob.state == JobState.QUEUED)
                .where(or_(m.DownloadJob.next_attempt_at.is_(None), m.DownloadJob.next_attempt_at <= now))
                .order_by(m.DownloadJob.priority, m.DownloadJob.id)
                .limit(1)
            ).first()
            if job is None:
                due = s.scalar(select(func.min(m.DownloadJob.next_attempt_at)).where(m.DownloadJob.state == JobState.QUEUED))
                queued = s.scalar(select(func.count()).select_from(m.DownloadJob).where(m.DownloadJob.state == JobState.QUEUED))
                if not queued:
                    return None, None
                return None, max(0.0, (due - now).total_seconds()) if due else 0.05
            job.state, job.updated_at = JobState.RUNNING, now
            s.flush()
            s.expunge(job)
        return job, None

    def _process(self, job: m.DownloadJob) -> None:
        stop = self.q.running.start(job.id)
        meter = JobMeter(job, self)
        meter.emit(JobState.RUNNING, force=True)
        try:
            result = self._fetch(job, meter, stop)
        except TransferInterrupted:
            self._interrupted(job, meter)
            return
        except TransferError as exc:
            self._failed_attempt(job, meter, exc, meter.progressed(exc))
            return
        except (SignInRequired, NotSignedIn) as exc:
            self._finish(job, JobState.QUEUED, error=None, meter=meter, emit=False)
            self.fatal = exc
            return
        except CmeError as exc:  # the token refresh could not reach the server, etc.
            self._failed_attempt(job, meter, RetryableTransferError(exc.message), False)
            return
        finally:
            self.q.running.end(job.id)
        meter.done = job.size
        self._finishing.submit(self._arrived, job, meter, result.etag)

    def _arrived(self, job: m.DownloadJob, meter: JobMeter, etag: str | None) -> None:
        """On the finishing thread: what the verified file brings (`on_complete`), then done."""
        if self.on_complete is not None:
            try:
                self.on_complete(job_info(job, JobState.DONE, job.size))
            except Exception:
                log.exception("on_complete hook failed for %s", job.sha256[:12])
        try:
            self._finish(job, JobState.DONE, error=None, meter=meter, etag=etag)
        except Exception:  # the file is in the store: the next run's enqueue marks the job done
            log.exception("recording download %s as done failed", job.sha256[:12])

    def _fetch(self, job: m.DownloadJob, meter: JobMeter, stop: threading.Event) -> FetchResult:
        """The job's blob. A connection that broke after bringing new bytes was working: it is
        taken up again at once, on this worker (as `curl -C -` would), without a trip through
        the queue; the break is still reported. Anything else goes back to the caller."""
        target = FetchTarget(job.sha256, job.size, job.url, job.etag)
        while True:
            meter.attempt_from = None
            try:
                return self.fetcher.fetch(target, progress=meter.progress, stop=stop)
            except TransferError as exc:
                if not meter.progressed(exc) or not exc.retryable or exc.retry_after is not None or stop.is_set():
                    raise
                job.attempts = 1  # as `_failed_attempt` counts it: giving up counts from here
                log.info("download %s: %s; continuing at once", job.sha256[:12], exc.message)
                meter.emit(JobState.QUEUED, error=exc.message, retry_in_s=0.0, force=True)
                meter.last_emit = 0.0  # the next progress report says it runs again

    def _interrupted(self, job: m.DownloadJob, meter: JobMeter) -> None:
        with self.db.read() as s:
            row = s.get(m.DownloadJob, job.id)
            state = row.state if row is not None else None
        if state == JobState.CANCELLED or state is None:
            self.q.blobs.part_path_for(job.sha256).unlink(missing_ok=True)
            meter.done = 0
            self._finish(job, JobState.CANCELLED, error=None, meter=meter, keep_state=True)
        elif state == JobState.PAUSED:
            self._finish(job, JobState.PAUSED, error=None, meter=meter, keep_state=True)
        else:  # the run was stopped: the job waits for the next run
            self._finish(job, JobState.QUEUED, error=None, meter=meter)

    def _failed_attempt(self, job, meter, exc, progressed: bool) -> None:
        attempts = 1 if progressed else job.attempts + 1
        message = exc.message
        if not exc.retryable or attempts >= self.policy.max_attempts:
            if exc.retryable:
                message = f"{exc.what}. Gave up after {attempts} attempts; resume the download to try again."
            self._finish(job, JobState.FAILED, error=message, meter=meter, attempts=attempts)
            return
        # A connection that broke after delivering bytes was working: reconnect at once
        # (as `curl -C -` would; `_fetch` does so itself unless the server asked for a wait).
        # Backoff is for attempts that got nowhere.
        if exc.retry_after is not None:
            delay = exc.retry_after
        else:
            delay = 0.0 if progressed else self.policy.backoff_s(attempts)
        log.info("download %s attempt %d failed (%s); retry in %.1fs", job.sha256[:12], attempts, message, delay)
        self._finish(
            job, JobState.QUEUED, error=message, meter=meter, attempts=attempts,
            next_attempt_at=utcnow() + timedelta(seconds=delay), retry_in_s=delay,
        )

    def _finish(self, job, state: str, *, error, meter: JobMeter | None = None, attempts: int | None = None,
                next_attempt_at: datetime | None = None, etag: str | None = None, retry_in_s: float | None = None,
                keep_state: bool = False, emit: bool = True) -> None:
        done = meter.done if meter is not None else job.bytes_done
        with self.db.write() as s:
            row = s.get(m.DownloadJob, job.id)
            if row is not None:
                if not keep_state:
                    if row.state == JobState.RUNNING or state in (JobState.DONE, JobState.FAILED):
                        row.state = state
                    # else: paused/cancelled from elsewhere meanwhile — theirs wins
                state = row.state
                row.bytes_done = done
                row.error = error
                row.updated_at = utcnow()
                if attempts is not None:
                    row.attempts = attempts
                row.next_attempt_at = next_attempt_at
                if etag:
                    row.etag = etag
        if state != JobState.QUEUED or error is not None:
            self.outcomes[job.id] = state
        if state == JobState.QUEUED and error is None:
            self.outcomes.pop(job.id, None)
        if emit and meter is not None:
            meter.emit(state, error=error, retry_in_s=retry_in_s, force=True)

    def emit(self, event: DownloadEvent) -> None:
        if self.listener is None:
            return
        try:
            self.listener(event)
        except Exception:
            log.exception("download listener failed")


class JobMeter:
    """Progress of one running job: speed over a sliding window, throttled events and saves."""

    WINDOW_S = 3.0

    def __init__(self, job: m.DownloadJob, run: DownloadRun):
        self.job = job
        self.run = run
        self.done = job.bytes_done
        self.fresh_bytes = 0
        self.attempt_from: int | None = None  # bytes in the file when the current attempt began
        self.samples: deque[tuple[float, int]] = deque()
        self.last_emit = 0.0
        self.last_save = time.monotonic()

    def progress(self, bytes_in_part: int, received: int) -> None:
        now = time.monotonic()
        if self.attempt_from is None:  # the first report of an attempt: what it starts from
            self.attempt_from = bytes_in_part - received
        self.done = bytes_in_part
        if received:
            self.fresh_bytes += received
            with self.run._count_lock:
                self.run.bytes_fetched += received
        self.samples.append((now, self.fresh_bytes))
        while self.samples and now - self.samples[0][0] > self.WINDOW_S:
            self.samples.popleft()
        if now - self.last_save >= self.run.policy.db_interval_s:
            self.last_save = now
            self._save_and_check()
        self.emit(JobState.RUNNING)

    def progressed(self, failure: TransferError) -> bool:
        """Whether the attempt that ended in `failure` left more bytes in the file than it
        found there (bytes received and then dropped, as after a restart from 0, are not)."""
        return self.attempt_from is not None and self.done > self.attempt_from and not failure.discarded

    def _save_and_check(self) -> None:
        """Save bytes_done; notice a pause or cancel made by another process."""
        with self.run.db.write() as s:
            row = s.get(m.DownloadJob, self.job.id)
            if row is None or row.state != JobState.RUNNING:
                self.run.q.running.stop(self.job.id)
                return
            row.bytes_done = self.done
            row.updated_at = utcnow()

    def speed(self) -> float:
        if len(self.samples) < 2:
            return 0.0
        (t0, b0), (t1, b1) = self.samples[0], self.samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0

    def emit(self, state: str, *, error: str | None = None, retry_in_s: float | None = None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_emit < self.run.policy.progress_interval_s:
            return
        self.last_emit = now
        speed = self.speed() if state == JobState.RUNNING else 0.0
        eta = (self.job.size - self.done) / speed if speed > 0 else None
        self.run.emit(
            DownloadEvent(
                job_id=self.job.id, activity_id=self.job.activity_id, kind=self.job.kind, sha256=self.job.sha256,
                bytes_done=self.done, size=self.job.size, speed_bps=round(speed, 1),
                eta_s=round(eta, 1) if eta is not None else None, state=state, error=error, retry_in_s=retry_in_s,
            )
        )


class StoreLock:
    """An exclusive OS lock on a file beside the blobs: one downloading process per store.

    The OS drops the lock when the process dies, so a killed download never blocks the next.
    """

    def __init__(self, path: Path):
        self.path = path
        self._fh = None

    def __enter__(self) -> StoreLock:
        self._fh = os.fdopen(open_private(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND), "a+b")
        try:
            if os.name == "nt":
                self._fh.seek(0)
                msvcrt.locking(self._fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._fh.close()
            self._fh = None
            raise DownloadsBusy() from None
        return self

    def __exit__(self, *exc) -> None:
        if self._fh is None:
            return
        try:
            if os.name == "nt":
                self._fh.seek(0)
                msvcrt.locking(self._fh.fileno(), msvcrt.LK_UNLCK, 1)
            else:
                fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
        finally:
            self._fh.close()
            self._fh = None
