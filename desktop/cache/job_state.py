"""The states of a download job, one vocabulary for the queue, the cache and the views.

    queued ──► running ──► done
      ▲  ▲        │ ├────► failed     (gave up after N attempts, or retrying cannot help)
      │  └────────┘ ├────► paused     (pause; `resume` puts it back to queued)
      │   retry     └────► cancelled  (cancel; its .part is deleted)
      └── resume / enqueue again (failed, paused, cancelled)

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

# Jobs that will still move without the learner's help (a paused one waits for them).
MOVING_JOB_STATES: tuple[JobState, ...] = (JobState.QUEUED, JobState.RUNNING)

# Jobs that `resume` (or enqueueing again) puts back in the queue.
RESTARTABLE_JOB_STATES: tuple[JobState, ...] = (JobState.PAUSED, JobState.FAILED, JobState.CANCELLED)
