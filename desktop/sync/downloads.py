"""The download queue: which assets to fetch, in what order, and what became of each.

The queue lives in SQLite (`download_jobs`), so it survives restarts and crashes. One row
per blob (SHA-256); an asset shared by two activities is fetched once. States:

    queued ──► running ──► done
      ▲  ▲        │ ├────► failed     (gave up after N attempts, or retrying cannot help)
      │  └────────┘ ├────► paused     (pause; `resume` puts it back to queued)
      │   retry     └────► cancelled  (cancel; its .part is deleted)
      └── resume / enqueue again (failed, paused, cancelled)

`run()` blocks: a few worker threads take the most urgent due job (transcripts and
summaries first, the video last), fetch it with `BlobFetcher`, and record the outcome.
Retries wait with exponential backoff and jitter (or the server's Retry-After) without
holding a worker: the job goes back to `queued` with `next_attempt_at` set. A failed
attempt that still brought new bytes does not count towards giving up.

Progress goes to a plain listener callable (`DownloadEvent`), called from worker
threads; the GUI bridges it to Qt signals, the CLI prints it. Nothing here imports Qt.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, or_, select, update

from desktop.cache import models as m
from desktop.cache.blobstore import BlobStore
from desktop.cache.db import Database
from desktop.policy import HoursWindow
from desktop.errors import CmeError, DownloadsBusy, NotSignedIn, SignInRequired, UnknownActivity  # noqa: F401

log = logging.getLogger(__name__)

QUEUED, RUNNING, PAUSED, DONE, FAILED, CANCELLED = "queued", "running", "paused", "done", "failed", "cancelled"
ACTIVE_STATES = (QUEUED, RUNNING, PAUSED)
RESTARTABLE_STATES = (PAUSED, FAILED, CANCELLED)

# Small text assets first, so an activity is readable and searchable before its video lands.
PRIORITY = {"transcript": 0, "summary": 0, "video": 1}


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# ---------------------------------------------------------------- plain data for callers


@dataclass(frozen=True)
class JobInfo:
    id: int
    activity_id: str
    kind: str
    sha256: str
    size: int
    bytes_done: int
    state: str
    priority: int
    attempts: int
    error: str | None
    next_attempt_at: datetime | None  # naive UTC


@dataclass(frozen=True)
class DownloadEvent:
    """One progress report. `state` is the job's state; `error` the last problem, if any.

    A job that will be retried is reported as `queued` with `error` set and `retry_in_s`.
    """

    job_id: int
    activity_id: str
    kind: str
    sha256: str
    bytes_done: int
    size: int
    speed_bps: float  # bytes per second over the last few seconds
    eta_s: float | None
    state: str
    error: str | None = None
    retry_in_s: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


Listener = Callable[[DownloadEvent], None]


@dataclass(frozen=True)
class DownloadSummary:
    done: int  # fetched (or found already present) in this run
    failed: int
    paused: int
    cancelled: int
    remaining: int  # still queued (e.g. the run was stopped or a retry is due later)
    bytes_fetched: int  # bytes received over the network in this run
    failures: tuple[JobInfo, ...]
    stopped: bool  # the stop event ended the run

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def as_dict(self) -> dict:
        data = asdict(self)
        data["failures"] = [
            {"job_id": j.id, "activity_id": j.activity_id, "kind": j.kind, "error": j.error} for j in self.failures
        ]
        data["ok"] = self.ok
        return data


@dataclass(frozen=True)
class DownloadPolicy:
    parallel: int = 2
    bandwidth_bytes_per_s: float | None = None
    max_attempts: int = 8
    backoff_base_s: float = 2.0
    backoff_max_s: float = 300.0
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    disk_margin_bytes: int = 64 * 1024 * 1024
    chunk_size: int = 64 * 1024
    progress_interval_s: float = 0.25
    db_interval_s: float = 1.0  # how often bytes_done is saved and a pause from elsewhere noticed
    # Downloads start only inside this daily local-time window (machine policy or settings);
    # outside it the queue waits. `local_clock` is the local wall clock (tests replace it).
    download_window: HoursWindow | None = None
    local_clock: Callable[[], datetime] = datetime.now

    @classmethod
    def from_settings(cls, settings, **overrides) -> DownloadPolicy:
        from desktop.sync.downloads_ratelimit import kbps_to_bytes_per_s

        hours = getattr(settings, "download_hours", None)
        overrides.setdefault("download_window", HoursWindow.parse(hours) if hours else None)
        return cls(
            parallel=settings.parallel_downloads,
            bandwidth_bytes_per_s=kbps_to_bytes_per_s(settings.bandwidth_cap_kbps),
            **overrides,
        )

    def backoff_s(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random."""
        delay = min(self.backoff_max_s, self.backoff_base_s * (2 ** max(0, attempt - 1)))
        return delay / 2 + random.uniform(0, delay / 2)


# ---------------------------------------------------------------- the queue


class DownloadQueue:
    def __init__(self, db: Database, blobs: BlobStore):
        self.db = db
        self.blobs = blobs
        self._lock = threading.Lock()
        self._running: dict[int, threading.Event] = {}  # job id -> its stop event, this process
        self._limiter = None
        # Set while a run waits for its download hours (`waiting_message` says until when).
        self.waiting = threading.Event()
        self.waiting_message: str | None = None

    # ------------------------------------------------------------ what to fetch

    def enqueue(self, activity_ids: Iterable[str] | None = None) -> list[JobInfo]:
        """Queue every asset of these activities (None: all) that is not stored yet.

        Jobs that failed, were paused or cancelled are queued again with a fresh count of
        attempts; an asset already present gets no job. Returns the jobs now waiting.
        """
        now = utcnow()
        wanted = None if activity_ids is None else list(dict.fromkeys(activity_ids))
        touched: list[int] = []
        with self.db.write() as s:
            query = select(m.Asset).order_by(m.Asset.activity_id, m.Asset.position)
            if wanted is not None:
                known = set(s.scalars(select(m.Activity.id).where(m.Activity.id.in_(wanted))))
                missing = [a for a in wanted if a not in known]
                if missing:
                    raise UnknownActivity(
                        f"No activity {missing[0]!r} is in the library. Sync the catalog first "
                        "(cme-offline sync), or check the id with cme-offline status."
                    )
                query = query.where(m.Asset.activity_id.in_(wanted))
            jobs = {j.sha256: j for j in s.scalars(select(m.DownloadJob))}
            for asset in s.scalars(query):
                present = self.blobs.path_for(asset.sha256).is_file()
                job = jobs.get(asset.sha256)
                if present:
                    if job is not None and job.state != DONE and job.state != RUNNING:
                        job.state, job.error, job.updated_at = DONE, None, now
                        job.bytes_done = job.size
                    continue
                if job is None:
                    job = m.DownloadJob(
                        sha256=asset.sha256, activity_id=asset.activity_id, kind=asset.kind, url=asset.url,
                        size=asset.size, priority=PRIORITY.get(asset.kind, 1), state=QUEUED, bytes_done=0,
                        attempts=0, created_at=now, updated_at=now,
                    )
                    s.add(job)
                    jobs[asset.sha256] = job
                elif job.state in (DONE, *RESTARTABLE_STATES):
                    job.state, job.attempts, job.error, job.next_attempt_at = QUEUED, 0, None, None
                    job.url, job.size, job.updated_at = asset.url, asset.size, now  # the catalog may have moved it
                    job.bytes_done = self._part_size(job.sha256)
                s.flush()
                touched.append(job.id)
        return [j for j in self.jobs() if j.id in set(touched) and j.state in ACTIVE_STATES]

    def jobs(self, states: Iterable[str] | None = None) -> list[JobInfo]:
        with self.db.read() as s:
            query = select(m.DownloadJob).order_by(m.DownloadJob.priority, m.DownloadJob.id)
            if states is not None:
                query = query.where(m.DownloadJob.state.in_(list(states)))
            return [_info(j) for j in s.scalars(query)]

    # ------------------------------------------------------------ pause, resume, cancel

    def pause(self, job_id: int | None = None) -> int:
        """Pause one job (None: every queued or running job); the .part is kept."""
        return self._set_state(job_id, (QUEUED, RUNNING), PAUSED)

    def resume(self, job_id: int | None = None) -> int:
        """Queue a paused, failed or cancelled job again (None: all of them)."""
        n = self._set_state(job_id, RESTARTABLE_STATES, QUEUED, reset=True)
        return n

    def cancel(self, job_id: int | None = None) -> int:
        """Cancel one job (None: all unfinished); its partial file is deleted."""
        return self._set_state(job_id, (QUEUED, RUNNING, PAUSED, FAILED), CANCELLED)

    def _set_state(self, job_id: int | None, from_states, to_state: str, reset: bool = False) -> int:
        now = utcnow()
        with self.db.write() as s:
            query = select(m.DownloadJob).where(m.DownloadJob.state.in_(list(from_states)))
            if job_id is not None:
                query = query.where(m.DownloadJob.id == job_id)
            rows = list(s.scalars(query))
            for job in rows:
                job.state, job.updated_at = to_state, now
                if reset:
                    job.attempts, job.error, job.next_attempt_at = 0, None, None
                    job.bytes_done = self._part_size(job.sha256)
            changed = [(j.id, j.sha256) for j in rows]
        with self._lock:
            for jid, sha in changed:
                event = self._running.get(jid)
                if event is not None and to_state in (PAUSED, CANCELLED):
                    event.set()  # the worker stops after the current chunk
                elif to_state == CANCELLED:
                    self.blobs.part_path_for(sha).unlink(missing_ok=True)
        return len(changed)

    def forget(self, sha256: str) -> None:
        """Drop the job for a blob the learner removed (stopping it first if it runs)."""
        with self.db.read() as s:
            job = s.scalars(select(m.DownloadJob).where(m.DownloadJob.sha256 == sha256)).first()
        if job is None:
            return
        self.cancel(job.id)
        with self.db.write() as s:
            row = s.get(m.DownloadJob, job.id)
            if row is not None and row.state != RUNNING:
                s.delete(row)

    def set_bandwidth(self, bytes_per_s: float | None) -> None:
        limiter = self._limiter
        if limiter is not None:
            limiter.set_rate(bytes_per_s)

    # ------------------------------------------------------------ running

    def run(
        self,
        fetcher_factory: Callable,
        *,
        policy: DownloadPolicy,
        listener: Listener | None = None,
        stop_event: threading.Event | None = None,
        on_complete: Callable[[JobInfo], None] | None = None,
    ) -> DownloadSummary:
        """Fetch queued jobs until none is left (or `stop_event` is set); blocks.

        `fetcher_factory(limiter)` builds the `BlobFetcher` shared by the workers. Raises
        `SignInRequired`/`NotSignedIn` if the server wants a new sign-in (jobs stay queued),
        and `DownloadsBusy` if another process is downloading into the same store.
        """
        from desktop.sync.downloads_ratelimit import BandwidthLimiter

        stop_event = stop_event or threading.Event()
        self.blobs.root.mkdir(parents=True, exist_ok=True)
        with _StoreLock(self.blobs.root / ".downloads.lock"):
            self._recover_stale_running()
            self._limiter = BandwidthLimiter(policy.bandwidth_bytes_per_s)
            run = _Run(self, fetcher_factory(self._limiter), policy, listener, stop_event, on_complete)
            try:
                return run.go()
            finally:
                self._limiter = None
                self.waiting.clear()
                self.waiting_message = None

    def _recover_stale_running(self) -> None:
        """Jobs left `running` by a process that died: back to queued (their .part is kept)."""
        with self.db.write() as s:
            s.execute(
                update(m.DownloadJob).where(m.DownloadJob.state == RUNNING).values(state=QUEUED, updated_at=utcnow())
            )

    def _part_size(self, sha256: str) -> int:
        try:
            return self.blobs.part_path_for(sha256).stat().st_size
        except OSError:
            return 0


class _Run:
    """One call of `DownloadQueue.run`: its workers, counters and listener."""

    def __init__(self, queue: DownloadQueue, fetcher, policy: DownloadPolicy, listener, stop_event, on_complete):
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

    def go(self) -> DownloadSummary:
        workers = [
            threading.Thread(target=self._worker, name=f"cme-download-{i}", daemon=True)
            for i in range(max(1, self.policy.parallel))
        ]
        for w in workers:
            w.start()
        while any(w.is_alive() for w in workers):
            if self.stop_event.wait(0.05) or self.fatal is not None:
                with self.q._lock:
                    for event in self.q._running.values():
                        event.set()
            for w in workers:
                w.join(0.01)
        if self.fatal is not None:
            raise self.fatal
        return self._summary()

    def _summary(self) -> DownloadSummary:
        with self.db.read() as s:
            remaining = s.scalar(select(func.count()).select_from(m.DownloadJob).where(m.DownloadJob.state == QUEUED))
        by_state = list(self.outcomes.values())
        failures = tuple(j for j in self.q.jobs([FAILED]) if self.outcomes.get(j.id) == FAILED)
        return DownloadSummary(
            done=by_state.count(DONE),
            failed=by_state.count(FAILED),
            paused=by_state.count(PAUSED),
            cancelled=by_state.count(CANCELLED),
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
                self._finish(job, FAILED, error=f"Unexpected error: {exc}")

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
                queued = s.scalar(select(func.count()).select_from(m.DownloadJob).where(m.DownloadJob.state == QUEUED))
            return None, (hours_wait if queued else None)
        with self.db.write() as s:
            job = s.scalars(
                select(m.DownloadJob)
                .where(m.DownloadJob.state == QUEUED)
                .where(or_(m.DownloadJob.next_attempt_at.is_(None), m.DownloadJob.next_attempt_at <= now))
                .order_by(m.DownloadJob.priority, m.DownloadJob.id)
                .limit(1)
            ).first()
            if job is None:
                due = s.scalar(select(func.min(m.DownloadJob.next_attempt_at)).where(m.DownloadJob.state == QUEUED))
                queued = s.scalar(select(func.count()).select_from(m.DownloadJob).where(m.DownloadJob.state == QUEUED))
                if not queued:
                    return None, None
                return None, max(0.0, (due - now).total_seconds()) if due else 0.05
            job.state, job.updated_at = RUNNING, now
            s.flush()
            s.expunge(job)
        with self.q._lock:
            self.q._running[job.id] = threading.Event()
        return job, None

    def _process(self, job: m.DownloadJob) -> None:
        from desktop.sync.downloads_transfer import (
            FetchTarget,
            RetryableTransferError,
            TransferError,
            TransferInterrupted,
        )

        stop = self.q._running[job.id]
        meter = _Meter(job, self)
        meter.emit(RUNNING, force=True)
        try:
            result = self.fetcher.fetch(
                FetchTarget(job.sha256, job.size, job.url, job.etag), progress=meter.progress, stop=stop
            )
        except TransferInterrupted:
            self._interrupted(job, meter)
            return
        except TransferError as exc:
            self._failed_attempt(job, meter, exc, meter.fresh_bytes > 0 and not exc.discarded)
            return
        except (SignInRequired, NotSignedIn) as exc:
            self._finish(job, QUEUED, error=None, meter=meter, emit=False)
            self.fatal = exc
            return
        except CmeError as exc:  # the token refresh could not reach the server, etc.
            self._failed_attempt(job, meter, RetryableTransferError(exc.message), False)
            return
        finally:
            with self.q._lock:
                self.q._running.pop(job.id, None)
        meter.done = job.size
        self._finish(job, DONE, error=None, meter=meter, etag=result.etag)
        if self.on_complete is not None:
            try:
                self.on_complete(_info_from(job, DONE, job.size, None))
            except Exception:
                log.exception("on_complete hook failed for %s", job.sha256[:12])

    def _interrupted(self, job: m.DownloadJob, meter: _Meter) -> None:
        with self.db.read() as s:
            row = s.get(m.DownloadJob, job.id)
            state = row.state if row is not None else None
        if state == CANCELLED or state is None:
            self.q.blobs.part_path_for(job.sha256).unlink(missing_ok=True)
            meter.done = 0
            self._finish(job, CANCELLED, error=None, meter=meter, keep_state=True)
        elif state == PAUSED:
            self._finish(job, PAUSED, error=None, meter=meter, keep_state=True)
        else:  # the run was stopped: the job waits for the next run
            self._finish(job, QUEUED, error=None, meter=meter)

    def _failed_attempt(self, job, meter, exc, progressed: bool) -> None:
        attempts = 1 if progressed else job.attempts + 1
        message = exc.message
        if not exc.retryable or attempts >= self.policy.max_attempts:
            if exc.retryable:
                message = f"{exc.what}. Gave up after {attempts} attempts; resume the download to try again."
            self._finish(job, FAILED, error=message, meter=meter, attempts=attempts)
            return
        # A connection that broke after delivering bytes was working: reconnect at once
        # (as `curl -C -` would). Backoff is for attempts that got nowhere.
        if exc.retry_after is not None:
            delay = exc.retry_after
        else:
            delay = 0.0 if progressed else self.policy.backoff_s(attempts)
        log.info("download %s attempt %d failed (%s); retry in %.1fs", job.sha256[:12], attempts, message, delay)
        self._finish(
            job, QUEUED, error=message, meter=meter, attempts=attempts,
            next_attempt_at=utcnow() + timedelta(seconds=delay), retry_in_s=delay,
        )

    def _finish(self, job, state: str, *, error, meter: _Meter | None = None, attempts: int | None = None,
                next_attempt_at: datetime | None = None, etag: str | None = None, retry_in_s: float | None = None,
                keep_state: bool = False, emit: bool = True) -> None:
        done = meter.done if meter is not None else job.bytes_done
        with self.db.write() as s:
            row = s.get(m.DownloadJob, job.id)
            if row is not None:
                if not keep_state:
                    if row.state == RUNNING or state in (DONE, FAILED):
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
        if state != QUEUED or error is not None:
            self.outcomes[job.id] = state
        if state == QUEUED and error is None:
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


class _Meter:
    """Progress of one running job: speed over a sliding window, throttled events and saves."""

    WINDOW_S = 3.0

    def __init__(self, job: m.DownloadJob, run: _Run):
        self.job = job
        self.run = run
        self.done = job.bytes_done
        self.fresh_bytes = 0
        self.samples: deque[tuple[float, int]] = deque()
        self.last_emit = 0.0
        self.last_save = time.monotonic()

    def progress(self, bytes_in_part: int, received: int) -> None:
        now = time.monotonic()
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
        self.emit(RUNNING)

    def _save_and_check(self) -> None:
        """Save bytes_done; notice a pause or cancel made by another process."""
        with self.run.db.write() as s:
            row = s.get(m.DownloadJob, self.job.id)
            if row is None or row.state != RUNNING:
                event = self.run.q._running.get(self.job.id)
                if event is not None:
                    event.set()
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
        speed = self.speed() if state == RUNNING else 0.0
        eta = (self.job.size - self.done) / speed if speed > 0 else None
        self.run.emit(
            DownloadEvent(
                job_id=self.job.id, activity_id=self.job.activity_id, kind=self.job.kind, sha256=self.job.sha256,
                bytes_done=self.done, size=self.job.size, speed_bps=round(speed, 1),
                eta_s=round(eta, 1) if eta is not None else None, state=state, error=error, retry_in_s=retry_in_s,
            )
        )


# ---------------------------------------------------------------- helpers


def _info(j: m.DownloadJob) -> JobInfo:
    return JobInfo(
        id=j.id, activity_id=j.activity_id, kind=j.kind, sha256=j.sha256, size=j.size, bytes_done=j.bytes_done,
        state=j.state, priority=j.priority, attempts=j.attempts, error=j.error, next_attempt_at=j.next_attempt_at,
    )


def _info_from(j: m.DownloadJob, state: str, bytes_done: int, error: str | None) -> JobInfo:
    return JobInfo(
        id=j.id, activity_id=j.activity_id, kind=j.kind, sha256=j.sha256, size=j.size, bytes_done=bytes_done,
        state=state, priority=j.priority, attempts=j.attempts, error=error, next_attempt_at=None,
    )


class _StoreLock:
    """An exclusive OS lock on a file beside the blobs: one downloading process per store.

    The OS drops the lock when the process dies, so a killed download never blocks the next.
    """

    def __init__(self, path: Path):
        self.path = path
        self._fh = None

    def __enter__(self) -> _StoreLock:
        self._fh = open(self.path, "a+b")
        try:
            if os.name == "nt":
                import msvcrt

                self._fh.seek(0)
                msvcrt.locking(self._fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

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
                import msvcrt

                self._fh.seek(0)
                msvcrt.locking(self._fh.fileno(), msvcrt.LK_UNLCK, 1)
            else:
                import fcntl

                fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
        finally:
            self._fh.close()
            self._fh = None
