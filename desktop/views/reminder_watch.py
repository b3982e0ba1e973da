"""Commitment-to-change reminders, delivered (DOMAIN rule 5).

While the app runs, once a minute (and at start, and whenever the learner changes) this
asks the services for the current learner's reminders that have come due and were not
announced yet — so one due while the app was closed is announced at the next start —
shows one notification for them (the window's `notify`: a tray message where there is a
tray, else the status bar), records them as announced on the writer, and announces
learning_changed so the activity's "Your commitments" shows the due reminder.
The reading runs off the GUI thread; the rule is desktop/learning/reminders.py's.

Hook-up (the window owns the tray): MainWindow._build_pages creates one,
    self.reminders = ReminderWatch(self, lambda: self.services, events, self.notify)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone

from PySide6.QtCore import QObject, QTimer

from desktop.learning.reminders import notice_text
from desktop.views.events import AppEvents
from desktop.views.tasks import run_task, run_write

log = logging.getLogger(__name__)

CHECK_MS = 60_000


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class ReminderWatch(QObject):
    def __init__(self, parent: QObject, services: Callable[[], object], events: AppEvents,
                 notify: Callable[[str, str], None], *, clock: Callable[[], datetime] = _utcnow,
                 interval_ms: int = CHECK_MS):
        super().__init__(parent)
        self.services, self.events, self.notify, self.clock = services, events, notify, clock
        self._checking = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()
        events.learner_changed.connect(lambda _source: self.check())
        QTimer.singleShot(0, self.check)  # a reminder that came due while the app was closed

    def check(self) -> None:
        """Ask for due reminders off the GUI thread; announce them when they arrive."""
        services = self.services()
        if services is None or self._checking:
            return
        self._checking = True
        now = self.clock()

        def arrived(due) -> None:
            self._checking = False
            if due:
                self._announce(services, due, now)

        def failed(exc: BaseException) -> None:
            self._checking = False
            log.error("reading due reminders failed", exc_info=exc)

        run_task(self, lambda: services.due_reminders(now), arrived, failed)

    def _announce(self, services, due, now: datetime) -> None:
        title, text = notice_text(due)
        self.notify(title, text)
        run_write(self, lambda: services.reminders_announced([r.activity_id for r in due], now),
                  lambda _none: self.events.learning_changed.emit(self),
                  lambda exc: log.error("recording announced reminders failed", exc_info=exc))
