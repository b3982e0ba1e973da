"""The plain data of downloads: a job as callers see it, a progress event, the outcome of
a run, and the policy a run follows. No I/O; the queue (downloads.py) and its runs
(downloads_run.py) hand these to the services, the GUI and the CLI.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from cmecore.renditions import Quality
from desktop.cache import models as m
from desktop.policy import HoursWindow
from desktop.sync.downloads_ratelimit import kbps_to_bytes_per_s

# Small text assets first, so an activity is readable and searchable before its video lands.
PRIORITY = {"transcript": 0, "summary": 0, "video": 1}


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


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
    quality: Quality | None = None  # the form of the video this job fetches; None: transcripts, summaries


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


def job_info(j: m.DownloadJob, state: str | None = None, bytes_done: int | None = None) -> JobInfo:
    """A job row as plain data (optionally as it is about to be: a new state, bytes done)."""
    return JobInfo(
        id=j.id, activity_id=j.activity_id, kind=j.kind, sha256=j.sha256, size=j.size,
        bytes_done=j.bytes_done if bytes_done is None else bytes_done, state=j.state if state is None else state,
        priority=j.priority, attempts=j.attempts, error=j.error if state is None else None,
        next_attempt_at=j.next_attempt_at if state is None else None,
        quality=_quality(j.quality, j.kind),
    )


def _quality(value: str | None, kind: str) -> Quality | None:
    """A video job from before schema 0013 fetched the original."""
    if kind != "video":
        return None
    try:
        return Quality(value) if value else Quality.best
    except ValueError:
        return None
