"""The outbox: completions waiting to be sent, per learner, with their delivery tries.

An item is written with its completion in one transaction (`learning_store.add_completion`)
and leaves in the transaction that records the server's answer (`record_results`). A failed
try keeps it, counts it and backs it off (`record_failure`), so retries survive restarts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select

from cmecore import protocol
from desktop.cache import models as m
from desktop.cache.db import Database


@dataclass(frozen=True)
class OutboxEntry:
    completion_id: str
    learner_id: str
    payload: dict
    tries: int


def due_outbox(db: Database, server_url: str, now: datetime, *, ignore_backoff: bool = False) -> list[OutboxEntry]:
    """Outbox items of this server's learners, oldest first; those backing off are left out unless told."""
    with db.read() as s:
        q = (select(m.OutboxItem, m.Completion.payload)
             .join(m.Completion, m.Completion.id == m.OutboxItem.completion_id)
             .join(m.Learner, m.Learner.id == m.OutboxItem.learner_id)
             .where(m.Learner.server_url == server_url)
             .order_by(m.OutboxItem.created_at, m.OutboxItem.completion_id))
        if not ignore_backoff:
            q = q.where(or_(m.OutboxItem.next_attempt_at.is_(None), m.OutboxItem.next_attempt_at <= now))
        return [OutboxEntry(i.completion_id, i.learner_id, p, i.tries) for i, p in s.execute(q)]


def count_pending(db: Database, *, learner_id: str | None = None, server_url: str | None = None) -> int:
    with db.read() as s:
        q = select(func.count()).select_from(m.OutboxItem)
        if server_url is not None:
            q = q.join(m.Learner, m.Learner.id == m.OutboxItem.learner_id).where(m.Learner.server_url == server_url)
        if learner_id is not None:
            q = q.where(m.OutboxItem.learner_id == learner_id)
        return s.scalar(q) or 0


def backoff(tries: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at 1 hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, tries - 1)))


def record_failure(db: Database, completion_ids: Sequence[str], error: str, now: datetime) -> None:
    """A delivery try failed (network, server error): keep the items, back off, remember why."""
    with db.durable() as s:
        for item in s.scalars(select(m.OutboxItem).where(m.OutboxItem.completion_id.in_(list(completion_ids)))):
            item.tries = (item.tries or 0) + 1
            item.last_error = error
            item.next_attempt_at = now + backoff(item.tries)


def record_results(db: Database, results: Sequence[tuple[str, protocol.CompletionResult]], now: datetime) -> None:
    """The server's answers: accepted/duplicate → accepted; rejected → rejected with its reason.

    Either way the item leaves the outbox, in the same transaction; nothing is dropped
    silently: a rejection stays on the completion for the learner to see.
    """
    with db.durable() as s:
        for completion_id, r in results:
            c = s.get(m.Completion, completion_id)
            if c is None:
                continue
            if r.status in (protocol.CompletionStatus.accepted, protocol.CompletionStatus.duplicate):
                c.state = "accepted"
                c.reason = None
                c.reason_code = None
                c.certificate_id = r.certificate_id
                c.passed = True if r.passed is None else r.passed
            else:
                c.state = "rejected"
                c.reason = r.reason or "The server refused this claim."
                c.reason_code = r.reason_code.value if r.reason_code else None
                c.passed = r.passed
            c.server_score = r.server_score
            if r.credits_awarded is not None:
                c.credits_claimed = r.credits_awarded
            c.resolved_at = now
            s.execute(delete(m.OutboxItem).where(m.OutboxItem.completion_id == completion_id))
