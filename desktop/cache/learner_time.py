"""A learner's own clock on an activity: the time really spent on it, and the
commitment-to-change reminder set with the evaluation (rules 5 and 6).

Queries only; what counts as time spent and which reminders are due are
desktop/learning's (time_spent.py, reminders.py). Plain values out, no ORM object.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from desktop.cache import models as m
from desktop.cache.db import Database
from desktop.learning.reminders import Reminder


def add_time_spent(db: Database, learner_id: str, activity_id: str, ms: int, now: datetime) -> int:
    """Add `ms` to the learner's time on the activity; returns the new total (ms)."""
    with db.write() as s:
        row = s.get(m.TimeSpent, (learner_id, activity_id))
        if row is None:
            row = m.TimeSpent(learner_id=learner_id, activity_id=activity_id, spent_ms=0)
            s.add(row)
        row.spent_ms = (row.spent_ms or 0) + max(0, int(ms))
        row.updated_at = now
        return row.spent_ms


def time_spent(db: Database, learner_id: str, activity_id: str) -> int:
    """The learner's measured time on the activity (ms; 0 when none was measured)."""
    with db.read() as s:
        row = s.get(m.TimeSpent, (learner_id, activity_id))
        return row.spent_ms if row is not None else 0


def _reminder(e: m.EvaluationRecord, title: str | None) -> Reminder:
    commitments = tuple((e.responses or {}).get("commitments") or ())
    return Reminder(e.activity_id, title or e.activity_id, commitments, e.reminder_due_at,
                    e.reminder_notified_at, e.reminder_done_at)


def reminders(db: Database, learner_id: str, *, due_by: datetime | None = None,
              activity_id: str | None = None) -> list[Reminder]:
    """The learner's reminders (those set on a submitted evaluation), earliest first.

    `due_by`: only those due by then, not done and not yet notified (what a notification is for).
    """
    query = (
        select(m.EvaluationRecord, m.Activity.title)
        .outerjoin(m.Activity, m.Activity.id == m.EvaluationRecord.activity_id)
        .where(m.EvaluationRecord.learner_id == learner_id, m.EvaluationRecord.reminder_due_at.is_not(None))
        .order_by(m.EvaluationRecord.reminder_due_at)
    )
    if activity_id is not None:
        query = query.where(m.EvaluationRecord.activity_id == activity_id)
    if due_by is not None:
        query = query.where(m.EvaluationRecord.reminder_due_at <= due_by,
                            m.EvaluationRecord.reminder_done_at.is_(None),
                            m.EvaluationRecord.reminder_notified_at.is_(None))
    with db.read() as s:
        return [_reminder(e, title) for e, title in s.execute(query)]


def mark_notified(db: Database, learner_id: str, activity_ids: list[str], now: datetime) -> None:
    """The learner was told of these reminders: they are not announced again."""
    with db.write() as s:
        for activity_id in activity_ids:
            row = s.get(m.EvaluationRecord, (learner_id, activity_id))
            if row is not None and row.reminder_notified_at is None:
                row.reminder_notified_at = now


def mark_done(db: Database, learner_id: str, activity_id: str, now: datetime) -> bool:
    """The learner reviewed their commitments; False when there is no reminder to mark."""
    with db.write() as s:
        row = s.get(m.EvaluationRecord, (learner_id, activity_id))
        if row is None or row.reminder_due_at is None:
            return False
        if row.reminder_done_at is None:
            row.reminder_done_at = now
        if row.reminder_notified_at is None:
            row.reminder_notified_at = now  # done before it was announced: never announce it
        return True
