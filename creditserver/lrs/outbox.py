"""The xAPI outbox in the server's database: statements queued with their completion,
claimed by one sender at a time, marked sent or refused.

Durable by construction: `enqueue_statements` runs inside the transaction that accepts the
completions, so a completion is never stored without its statements, nor the reverse, and
a server stopped with statements unsent sends them after its next start.

Several server processes may share the database, each with its own sender. A sender claims
a few due rows by writing its lease (a fresh owner token and an expiry) in one UPDATE whose
WHERE clause says "queued, due, and not leased (or the lease ran out)": on SQLite the
UPDATE holds the write lock, so one sender wins; on PostgreSQL the candidate rows are
locked with FOR UPDATE SKIP LOCKED and the lease condition is checked again on the row,
so two senders never hold the same row. Every later write names the owner token, so a
sender whose lease ran out (it stalled) cannot undo another's work. Sending one statement
twice is harmless anyway: its id is fixed (statements.py) and the LRS keeps one copy.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ..db import Database
from ..models import ActivityRecord, ActivityVersion, Completion, CompletionAttempt, XapiOutboxItem, utcnow
from .statements import ActivityFacts, AttemptFacts, CompletionFacts, XapiReporting, completion_statements

QUEUED, SENT, REFUSED = "queued", "sent", "refused"
STATES = (QUEUED, SENT, REFUSED)
ERROR_LIMIT = 500


def enqueue_statements(session: Session, completions: Iterable[Completion], reporting: XapiReporting | None) -> int:
    """Queue the statements of freshly accepted `completions` in the caller's transaction
    (their rows must be flushed already). Nothing happens without a configured LRS
    (`reporting` None). Returns how many statements were queued."""
    rows = list(completions)
    if reporting is None or not rows:
        return 0
    attempts = _attempts_of(session, [c.id for c in rows])
    items = []
    for c in rows:
        activity = _activity_facts(session, c.activity_id, c.activity_version)
        facts = CompletionFacts(
            id=c.id, learner_id=c.learner_id, started_at=c.started_at, completed_at=c.completed_at_corrected,
            score=c.server_score, watched_share=c.watched_share, attested_minutes=c.attested_minutes,
        )
        for st in completion_statements(facts, activity, attempts.get(c.id, []), reporting):
            items.append(
                XapiOutboxItem(
                    statement_id=st.id, completion_id=c.id, kind=st.kind, state=QUEUED,
                    statement_json=json.dumps(st.body, ensure_ascii=False, separators=(",", ":")),
                )
            )
    session.add_all(items)
    return len(items)


def _attempts_of(session: Session, completion_ids: list[str]) -> dict[str, list[AttemptFacts]]:
    out: dict[str, list[AttemptFacts]] = {}
    query = (
        select(CompletionAttempt)
        .where(CompletionAttempt.completion_id.in_(completion_ids))
        .order_by(CompletionAttempt.completion_id, CompletionAttempt.number)
    )
    for a in session.execute(query).scalars():
        out.setdefault(a.completion_id, []).append(
            AttemptFacts(a.id, a.number, a.started_at, a.submitted_at, a.server_score, a.server_passed)
        )
    return out


def _activity_facts(session: Session, activity_id: str, version: int) -> ActivityFacts:
    """Title, description and passing score of the version the learner took."""
    text = session.execute(
        select(ActivityVersion.json_text).where(ActivityVersion.activity_id == activity_id, ActivityVersion.version == version)
    ).scalar()
    if text is None:  # published before activity_versions existed: the current row is that version
        text = session.execute(select(ActivityRecord.json_text).where(ActivityRecord.id == activity_id)).scalar()
    doc = json.loads(text) if text else {}
    assessment = doc.get("assessment") or {}
    return ActivityFacts(
        id=activity_id,
        version=version,
        title=str(doc.get("title") or activity_id),
        description=str(doc.get("description") or ""),
        passing_score=assessment.get("passing_score") if assessment.get("questions") else None,
    )


# ---------------------------------------------------------------- the sender's side


@dataclass(frozen=True)
class Claimed:
    statement_id: str
    statement_json: str
    tries: int


def claim(db: Database, owner: str, *, limit: int, lease_s: float, now: datetime | None = None) -> list[Claimed]:
    """Lease up to `limit` due statements to `owner` (see the module docstring); oldest first."""
    now = now or utcnow()
    free = or_(XapiOutboxItem.lease_until.is_(None), XapiOutboxItem.lease_until < now)
    due = (
        select(XapiOutboxItem.statement_id)
        .where(XapiOutboxItem.state == QUEUED, XapiOutboxItem.next_try_at <= now, free)
        .order_by(XapiOutboxItem.created_at, XapiOutboxItem.statement_id)
        .limit(limit)
    )
    with db.session() as s:  # a read first, in its own transaction: an idle poll takes no write lock
        if s.execute(due.limit(1)).first() is None:
            return []
    with db.session() as s:
        if s.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        s.execute(
            update(XapiOutboxItem)
            .where(XapiOutboxItem.statement_id.in_(due.scalar_subquery()), XapiOutboxItem.state == QUEUED, free)
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_s))
            .execution_options(synchronize_session=False)
        )
        rows = s.execute(
            select(XapiOutboxItem.statement_id, XapiOutboxItem.statement_json, XapiOutboxItem.tries)
            .where(XapiOutboxItem.lease_owner == owner, XapiOutboxItem.state == QUEUED)
            .order_by(XapiOutboxItem.created_at, XapiOutboxItem.statement_id)
        ).all()
    return [Claimed(r.statement_id, r.statement_json, r.tries) for r in rows]


def new_owner() -> str:
    return uuid.uuid4().hex


def mark_sent(db: Database, owner: str, statement_ids: list[str]) -> None:
    if statement_ids:
        _finish(db, owner, statement_ids, state=SENT, sent_at=utcnow(), last_error=None, count_try=True)


def mark_retry(db: Database, owner: str, statement_id: str, error: str, next_try_at: datetime) -> None:
    """Leave it queued, to be tried again from `next_try_at`; `error` says what happened."""
    _finish(db, owner, [statement_id], state=QUEUED, next_try_at=next_try_at, last_error=_bounded(error), count_try=True)


def mark_refused(db: Database, owner: str, statement_id: str, error: str) -> None:
    """The LRS will not take it: kept with the reason, not tried again (`lrs retry` re-queues)."""
    _finish(db, owner, [statement_id], state=REFUSED, last_error=_bounded(error), count_try=True)


def release(db: Database, owner: str, next_try_at: datetime) -> None:
    """Give back every row still leased to `owner`, untried, due again at `next_try_at`."""
    with db.session() as s:
        s.execute(
            update(XapiOutboxItem)
            .where(XapiOutboxItem.lease_owner == owner, XapiOutboxItem.state == QUEUED)
            .values(lease_owner=None, lease_until=None, next_try_at=next_try_at)
        )


def _finish(db: Database, owner: str, ids: list[str], *, count_try: bool, **values) -> None:
    values.update(lease_owner=None, lease_until=None)
    if count_try:
        values["tries"] = XapiOutboxItem.tries + 1
    with db.session() as s:
        s.execute(
            update(XapiOutboxItem)
            .where(XapiOutboxItem.statement_id.in_(ids), XapiOutboxItem.lease_owner == owner)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _bounded(text: str) -> str:
    return text if len(text) <= ERROR_LIMIT else text[: ERROR_LIMIT - 1] + "…"


# ---------------------------------------------------------------- what the provider sees


@dataclass
class QueueStatus:
    counts: dict[str, int] = field(default_factory=dict)
    oldest_queued: datetime | None = None
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (statement id, state, last error)

    def summary(self) -> str:
        parts = [f"{self.counts.get(st, 0)} {st}" for st in STATES]
        line = "xAPI statements: " + ", ".join(parts)
        if self.oldest_queued is not None:
            line += f"; oldest queued since {self.oldest_queued.strftime('%Y-%m-%d %H:%M:%SZ')}"
        return line


def queue_status(db: Database, *, problems: int = 10) -> QueueStatus:
    """Counts by state, the oldest statement still queued, and the latest reasons given."""
    with db.session() as s:
        by_state = select(XapiOutboxItem.state, func.count()).group_by(XapiOutboxItem.state)
        counts = {state: n for state, n in s.execute(by_state)}
        oldest = s.execute(select(func.min(XapiOutboxItem.created_at)).where(XapiOutboxItem.state == QUEUED)).scalar()
        latest = s.execute(
            select(XapiOutboxItem.statement_id, XapiOutboxItem.state, XapiOutboxItem.last_error)
            .where(XapiOutboxItem.last_error.is_not(None), XapiOutboxItem.state != SENT)
            .order_by(XapiOutboxItem.state.desc(), XapiOutboxItem.next_try_at.desc())
            .limit(problems)
        ).all()
    return QueueStatus(counts, oldest, [(r.statement_id, r.state, r.last_error or "") for r in latest])


def requeue(db: Database, *, include_sent: bool = False) -> int:
    """Queue refused statements again (and, with `include_sent`, sent ones: the LRS keeps one
    copy of each id, so this only proves delivery). Returns how many."""
    states = (REFUSED, SENT) if include_sent else (REFUSED,)
    with db.session() as s:
        done = s.execute(
            update(XapiOutboxItem)
            .where(XapiOutboxItem.state.in_(states))
            .values(state=QUEUED, tries=0, next_try_at=utcnow(), lease_owner=None, lease_until=None, last_error=None)
        )
        return done.rowcount or 0
