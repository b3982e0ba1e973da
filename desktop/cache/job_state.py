"""The states of a download job, one vocabulary for the queue, the cache and the views.

Standard library only: `library_snapshot` reads it before the first paint.
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    FAILED = "failed"
    DONE = "done"
    CANCELLED = "cancelled"


# Jobs that still hold a place in the queue (their file is not in the store yet).
ACTIVE_JOB_STATES: tuple[JobState, ...] = (JobState.QUEUED, JobState.RUNNING, JobState.PAUSED)
