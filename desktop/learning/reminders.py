"""Commitment-to-change reminders (DOMAIN rule 5): which are due, and what they say.

A learner who submits the evaluation with "remind me about my commitments in N weeks"
gets, N weeks later — while the app runs, or at the next start after — one notification
and a "Your commitments" item on the activity until they mark it done. The rule is pure:
`due_at` from the submission, `to_notify` from what the cache holds and the clock. Times
are naive UTC on the device clock (a reminder is the learner's own, no server involved).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Reminder:
    activity_id: str
    title: str
    commitments: tuple[str, ...]
    due_at: datetime
    notified_at: datetime | None = None
    done_at: datetime | None = None

    def is_due(self, now: datetime) -> bool:
        return self.done_at is None and self.due_at <= now


def due_at(submitted_at: datetime | None, weeks: int | None) -> datetime | None:
    """When the reminder of an evaluation submitted at `submitted_at` is due (None: no reminder)."""
    if submitted_at is None or not weeks:
        return None
    return submitted_at + timedelta(weeks=int(weeks))


def to_notify(reminders: Iterable[Reminder], now: datetime) -> list[Reminder]:
    """The reminders due at `now`, not done and not yet notified, earliest first."""
    return sorted((r for r in reminders if r.is_due(now) and r.notified_at is None), key=lambda r: r.due_at)


def notice_text(due: list[Reminder]) -> tuple[str, str]:
    """(title, text) of one notification for the reminders that came due."""
    if len(due) == 1:
        r = due[0]
        first = r.commitments[0] if r.commitments else ""
        more = f" (and {len(r.commitments) - 1} more)" if len(r.commitments) > 1 else ""
        return ("Your commitments to change",
                f"{r.title}: you committed to “{first}”{more}. How did it go? Open the activity to review it.")
    titles = "; ".join(r.title for r in due)
    return ("Your commitments to change",
            f"Reminders for {len(due)} activities are due: {titles}. Open each to review your commitments.")


def status_text(r: Reminder, now: datetime, when: str) -> str:
    """One line on the activity: done, due, or when it will come (`when`: due_at as the learner reads it)."""
    if r.done_at is not None:
        return "You marked this reminder done."
    if r.is_due(now):
        return "Your reminder is due: how did the change go? Mark it done when you have reviewed it."
    return f"You will be reminded on {when}."
