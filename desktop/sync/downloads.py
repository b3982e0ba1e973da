"""The download queue: which assets to fetch, in what order, and what became of each.

The queue lives in SQLite (`download_jobs`), so it survives restarts and crashes. One row
per blob (SHA-256); an asset shared by two activities is fetched once. Its states and their
moves are `JobState` (desktop/cache/job_state.py).

`run()` blocks while a `DownloadRun` (downloads_run.py) works through the due jobs, each
brought in by a `BlobFetcher` from the first source that offers it (desktop/sync/sources.py).
Progress goes to a plain listener callable (`DownloadEvent`), called from worker threads;
the GUI bridges it to Qt signals, the CLI prints it. Nothing here imports Qt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from sqlalchemy import select, update

from cmecore.renditions import Choice, Quality
from desktop.cache import models as m
from desktop.cache.blobstore import BlobStore
from desktop.cache.db import Database
from desktop.cache.job_state import ACTIVE_JOB_STATES, RESTARTABLE_JOB_STATES, JobState
from desktop.errors import UnknownActivity
from desktop.sync.downloads_data import PRIORITY, DownloadPolicy, DownloadSummary, JobInfo, Listener, job_info, utcnow
from desktop.sync.downloads_ratelimit import BandwidthLimiter
from desktop.sync.downloads_run import DownloadRun, RunningJobs, StoreLock
from desktop.sync.sources import BlobFetcher


class _Wanted(NamedTuple):
    """One file to have here: an asset, or the chosen form of an activity's video."""

    activity_id: str
    kind: str
    sha256: str
    url: str
    size: int
    quality: str | None  # video: the form (cmecore.renditions.Quality)


class DownloadQueue:
    def __init__(self, db: Database, blobs: BlobStore):
        self.db = db
        self.blobs = blobs
        self.running = RunningJobs()  # this process's running jobs, so pause and cancel reach them
        self._limiter: BandwidthLimiter | None = None
        # Set while a run waits for its download hours (`waiting_message` says until when).
        self.waiting = threading.Event()
        self.waiting_message: str | None = None

    # ------------------------------------------------------------ what to fetch

    def enqueue(self, activity_ids: Iterable[str] | None = None,
                videos: Mapping[str, Mapping[str, Choice | None]] | None = None) -> list[JobInfo]:
        """Queue every asset of these activities (None: all) that is not stored yet.

        `videos`: per activity, per video (by the sha256 of the original, as the asset
        lists it) the form to fetch instead of the original, or None to fetch none (a form
        is here already, or none is allowed); a video not in it gets the original. Jobs
        that failed, were paused or cancelled are queued again with a fresh count of
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
            for row in s.scalars(query):
                asset = _Wanted(row.activity_id, row.kind, row.sha256, row.url, row.size,
                                Quality.best.value if row.kind == "video" else None)
                forms = videos.get(row.activity_id, {}) if videos is not None and row.kind == "video" else {}
                if row.sha256 in forms:
                    form = forms[row.sha256]
                    if form is None:
                        continue
                    asset = _Wanted(row.activity_id, row.kind, form.sha256, form.url, form.size, form.quality.value)
                present = self.blobs.path_for(asset.sha256).is_file()
                job = jobs.get(asset.sha256)
                if present:
                    if job is not None and job.state != JobState.DONE and job.state != JobState.RUNNING:
                        job.state, job.error, job.updated_at = JobState.DONE, None, now
                        job.bytes_done = job.size
                    continue
                if job is None:
                    job = m.DownloadJob(
                        sha256=asset.sha256, activity_id=asset.activity_id, kind=asset.kind, quality=asset.quality,
                        url=asset.url,
                        size=asset.size, priority=PRIORITY.get(asset.kind, 1), state=JobState.QUEUED, bytes_done=0,
                        attempts=0, created_at=now, updated_at=now,
                    )
                    s.add(job)
                    jobs[asset.sha256] = job
                elif job.state in (JobState.DONE, *RESTARTABLE_JOB_STATES):
                    job.state, job.attempts, job.error, job.next_attempt_at = JobState.QUEUED, 0, None, None
                    job.url, job.size, job.updated_at = asset.url, asset.size, now  # the catalog may have moved it
                    job.quality = asset.quality
                    job.bytes_done = self._part_size(job.sha256)
                s.flush()
                touched.append(job.id)
        return [j for j in self.jobs() if j.id in set(touched) and j.state in ACTIVE_JOB_STATES]

    def jobs(self, states: Iterable[str] | None = None) -> list[JobInfo]:
        with self.db.read() as s:
            query = select(m.DownloadJob).order_by(m.DownloadJob.priority, m.DownloadJob.id)
            if states is not None:
                query = query.where(m.DownloadJob.state.in_(list(states)))
            return [job_info(j) for j in s.scalars(query)]

    # ------------------------------------------------------------ pause, resume, cancel

    def pause(self, job_id: int | None = None) -> int:
        """Pause one job (None: every queued or running job); the .part is kept."""
        return self._set_state(job_id, (JobState.QUEUED, JobState.RUNNING), JobState.PAUSED)

    def resume(self, job_id: int | None = None) -> int:
        """Queue a paused, failed or cancelled job again (None: all of them)."""
        return self._set_state(job_id, RESTARTABLE_JOB_STATES, JobState.QUEUED, reset=True)

    def cancel(self, job_id: int | None = None) -> int:
        """Cancel one job (None: all unfinished); its partial file is deleted."""
        unfinished = (JobState.QUEUED, JobState.RUNNING, JobState.PAUSED, JobState.FAILED)
        return self._set_state(job_id, unfinished, JobState.CANCELLED)

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
        for jid, sha in changed:
            if to_state in (JobState.PAUSED, JobState.CANCELLED) and self.running.stop(jid):
                continue  # the worker stops after the current piece (and deletes a cancelled .part)
            if to_state == JobState.CANCELLED:
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
            if row is not None and row.state != JobState.RUNNING:
                s.delete(row)

    def set_bandwidth(self, bytes_per_s: float | None) -> None:
        limiter = self._limiter
        if limiter is not None:
            limiter.set_rate(bytes_per_s)

    # ------------------------------------------------------------ running

    def run(
        self,
        fetcher_factory: Callable[[BandwidthLimiter], BlobFetcher],
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
        stop_event = stop_event or threading.Event()
        self.blobs.make_folder(self.blobs.root)
        with StoreLock(self.blobs.root / ".downloads.lock"):
            self._recover_stale_running()
            self._limiter = BandwidthLimiter(policy.bandwidth_bytes_per_s)
            run = DownloadRun(self, fetcher_factory(self._limiter), policy, listener, stop_event, on_complete)
            try:
                return run.go()
            finally:
                self._limiter = None
                self.waiting.clear()
                self.waiting_message = None

    def _recover_stale_running(self) -> None:
        """Jobs left `running` by a process that died: back to queued (their .part is kept)."""
        with self.db.write() as s:
            running = m.DownloadJob.state == JobState.RUNNING
            s.execute(update(m.DownloadJob).where(running).values(state=JobState.QUEUED, updated_at=utcnow()))

    def _part_size(self, sha256: str) -> int:
        try:
            return self.blobs.part_path_for(sha256).stat().st_size
        except OSError:
            return 0
