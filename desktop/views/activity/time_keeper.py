"""Measures the time the learner really spends on the open activity, for the claim's
"time spent" (rule 6: credit commensurate with participation).

Once a second it asks the page whether the learner is engaged — the video playing, or a
post-test question on screen in the active window — and feeds the answer to the pure
`ActiveTime` (desktop/learning/time_spent.py). Sampling the page keeps the Watch tab and
the post-test free of bookkeeping: nothing there reports to this. What accrued is added
to the learner's record on the app's writer every few seconds of engagement, when the
learner leaves the activity and before another activity or learner takes the page.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer

from desktop.learning.time_spent import ActiveTime
from desktop.views.tasks import run_write

log = logging.getLogger(__name__)

SAMPLE_MS = 1000
FLUSH_AFTER_MS = 10_000  # add to the record after this much engaged time


class TimeKeeper(QObject):
    """Owned by an ActivityPage (its `watch_tab`, `assessment_tab`, `tabs`, `detail`)."""

    def __init__(self, page, *, clock: Callable[[], float] = time.monotonic):
        super().__init__(page)
        self.page = page
        self.clock = clock
        self.active = ActiveTime()
        self.key: tuple | None = None  # (services, learner id, activity id) the time belongs to
        self.timer = QTimer(self)
        self.timer.setInterval(SAMPLE_MS)
        self.timer.timeout.connect(self.tick)
        self._learner: tuple | None = None  # (services, activity id, learner id) as last read
        page.installEventFilter(self)
        page.events.learner_changed.connect(self._learner_changed)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.page:
            if event.type() == QEvent.Type.Show:
                self.timer.start()
            elif event.type() == QEvent.Type.Hide:
                self.timer.stop()
                self.active.stop(self.clock())
                self.flush()
        return False

    def engaged(self) -> bool:
        """Playing, or answering a post-test question in the active window."""
        page = self.page
        player = page.watch_tab.player
        if player is not None and player.is_playing():
            return True
        assessment = page.assessment_tab
        return (page.isActiveWindow() and page.tabs.currentWidget() is assessment
                and assessment.stack.currentWidget() is assessment.question_page)

    def tick(self) -> None:
        key = self._current_key()
        if key != self.key:  # another activity or learner: what accrued is the previous one's
            self.active.stop(self.clock())
            self.flush()
            self.key = key
        self.active.sample(key is not None and self.engaged(), self.clock())
        if self.active.pending_ms >= FLUSH_AFTER_MS:
            self.flush()

    def flush(self) -> None:
        """Queue what accrued for the learner it belongs to (dropped if another is current by then)."""
        ms = self.active.take()
        if ms <= 0 or self.key is None:
            return
        services, learner_id, activity_id = self.key

        def failed(exc: BaseException) -> None:  # a closed or busy cache must not disturb the learner
            log.error("recording the time spent failed", exc_info=exc)

        run_write(self, lambda: services.add_time_spent(activity_id, ms, learner_id), None, failed)

    def _learner_changed(self, _source) -> None:
        self.active.stop(self.clock())
        self.flush()
        self._learner = None  # read again at the next tick

    def _current_key(self) -> tuple | None:
        page = self.page
        services = page._services()
        if services is None or page.detail is None:
            return None
        if self._learner is None or self._learner[:2] != (services, page.detail.id):
            learner = services.current_learner()  # once per activity or learner, not per tick
            self._learner = (services, page.detail.id, learner.id if learner is not None else None)
        learner_id = self._learner[2]
        return (services, learner_id, page.detail.id) if learner_id is not None else None
