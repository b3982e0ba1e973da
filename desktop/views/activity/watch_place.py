"""The learner's place in the video on screen: where to resume, and keeping it.

Saves go to the app's one writer (views/tasks.py: run_write), never on the GUI thread.
Until the writer has stored the last place, resuming uses the place queued here, so
leaving an activity and coming straight back does not jump to an older position. A place
queued for one learner is never stored for another who became current meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

from PySide6.QtCore import QObject

from desktop.learning.progress import WatchedIntervals
from desktop.views.tasks import pending_writes, run_write

log = logging.getLogger(__name__)

# Resuming within this much of the end starts again from the beginning instead.
RESTART_NEAR_END_MS = 3_000


class Place(NamedTuple):
    """Where a learner stopped in an activity, as last queued for saving."""
    learner_id: str | None
    activity_id: str
    position_ms: int
    duration_ms: int
    watched: WatchedIntervals


def resume_at(saved, start_ms: int | None) -> int:
    """Where to start: `start_ms` if asked for, else where the learner stopped (from the
    beginning if that was at the very end)."""
    start = start_ms
    if start is None and saved is not None:
        length = saved.duration_ms
        near_end = length and saved.position_ms >= length - RESTART_NEAR_END_MS
        start = 0 if near_end else saved.position_ms
    return max(0, start or 0)


class PlaceKeeper:
    """Queues the learner's place on the writer and remembers the last one queued.

    GUI thread only. `owner` is the widget the writes belong to: their outcomes are dropped
    if it is gone.
    """

    def __init__(self, owner: QObject):
        self.owner = owner
        self.queued: Place | None = None  # the last place sent to the writer
        self.moved = False  # played since the last place was queued

    def saved_place(self, services, learner_id: str | None, activity_id: str):
        """The stored place (a WatchProgressInfo), or the one queued here if the writer has
        not stored it yet; None if there is none."""
        if services is None:
            return None
        queued = self.queued
        if queued is not None and queued[:2] == (learner_id, activity_id) and pending_writes(self.owner):
            return queued
        return services.watch_progress(activity_id)

    def save(self, services, place: Place, then: Callable[[], None] | None = None) -> bool:
        """Queue `place`; `then()` runs on the GUI thread once it is stored.

        False (and `then` is not called) when there is nothing new to save.
        """
        if not self.moved and (place.position_ms == 0 or place == self.queued):
            return False  # never played, or already queued (the page hid, then the app quit)
        self.queued, self.moved = place, False

        def save():
            learner = services.current_learner()
            if learner is None or learner.id != place.learner_id:
                return None  # another learner is current now: this place is not theirs
            return services.save_watch_progress(place.activity_id, place.position_ms, place.duration_ms,
                                                place.watched)

        def failed(exc: BaseException) -> None:  # a busy or closed cache must not stop the video
            log.error("saving the watch position failed", exc_info=exc)
            self.moved = True

        run_write(self.owner, save, lambda _saved: then() if then is not None else None, failed)
        return True
