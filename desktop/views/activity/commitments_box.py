""""Your commitments" on the Evaluation & credit tab (DOMAIN rule 5).

Shown once the learner submitted the evaluation with commitments to change and asked to
be reminded: the commitments, when the reminder comes (or that it is due), and "Mark
reminder done" once it is due. The reminder's notification is views/reminder_watch.py's;
which reminders are due is desktop/learning/reminders.py's.
"""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from desktop.learning.reminders import status_text
from desktop.views.learning_text import local_time, locked_text
from desktop.views.tasks import run_write
from desktop.views.widgets import plain_label


class CommitmentsBox(QGroupBox):
    done = Signal()  # the learner marked the reminder done

    def __init__(self, parent: QWidget | None = None, *, clock=None):
        super().__init__("Your commitments", parent)
        self.setAccessibleName("Your commitments")
        self.setToolTip("The changes you committed to in the evaluation, and your reminder")
        self.clock = clock or (lambda: datetime.now(timezone.utc).replace(tzinfo=None))
        self.services = None
        self.activity_id: str | None = None
        self.reminder = None
        self.list_label = plain_label("", self, name="Your commitments to change")
        self.status_label = plain_label("", self, name="Reminder")
        self.done_button = QPushButton("Mark reminder done", self)
        self.done_button.setAccessibleName("Mark reminder done")
        self.done_button.setToolTip("You have reviewed how the change went: no more reminders for this activity")
        self.done_button.clicked.connect(self.mark_done)
        self.note = plain_label("", self, name="Reminder message")
        v = QVBoxLayout(self)
        v.addWidget(self.list_label)
        row = QHBoxLayout()
        row.addWidget(self.status_label, 1)
        row.addWidget(self.done_button)
        v.addLayout(row)
        v.addWidget(self.note)
        self.setVisible(False)

    def show_reminder(self, services, activity_id: str | None) -> None:
        """Read this learner's reminder for the activity and show it (hidden when there is none)."""
        self.services, self.activity_id = services, activity_id
        reminder = None
        if services is not None and activity_id is not None:
            try:
                reminder = services.commitment_reminder(activity_id)
            except Exception:  # not signed in: nothing to show
                reminder = None
        self.reminder = reminder
        self.setVisible(reminder is not None)
        if reminder is None:
            return
        self.list_label.setText("\n".join(f"• {c}" for c in reminder.commitments))
        now = self.clock()
        self.status_label.setText(status_text(reminder, now, local_time(reminder.due_at)))
        self.done_button.setVisible(reminder.is_due(now))
        self.done_button.setEnabled(True)

    def mark_done(self) -> None:
        if self.services is None or self.activity_id is None:
            return
        services, activity_id, now = self.services, self.activity_id, self.clock()
        self.done_button.setEnabled(False)

        def finished(_result) -> None:
            self.note.setText("")
            self.show_reminder(services, activity_id)
            self.done.emit()

        def failed(exc: BaseException) -> None:
            self.done_button.setEnabled(True)
            self.note.setText(f"⚠ {locked_text(exc)}")

        run_write(self, lambda: services.reminder_done(activity_id, now), finished, failed)
