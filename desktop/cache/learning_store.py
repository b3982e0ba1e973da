"""A learner's records in the cache: disclosure acks, attempts, evaluations and claims (the
outbox is `outbox_store`, certificates `credit_store`). SQL only; the rules live in
`desktop.learning` and `cmecore.rules`.

Every function takes the learner id and touches only that learner's rows. Plain
dataclasses out; no ORM object leaves a session. Writes that must survive a crash or a
power cut (answers, submitted attempts, claims with their outbox item, delivery results)
go through `Database.durable()`, committed with `synchronous=FULL` (the rest of the
cache runs with NORMAL, which survives app crashes but not power loss).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from cmecore import protocol
from desktop.cache import models as m
from desktop.cache.db import Database
from desktop.errors import ClaimExists, RuleError
from desktop.learning.records import AttemptSummary, CompletionInfo
from desktop.learning.state import ActivityRules

# ---------------------------------------------------------------- the activity


def activity_rules(db: Database, activity_id: str) -> ActivityRules | None:
    with db.read() as s:
        a = s.get(m.Activity, activity_id)
        if a is None:
            return None
        statements = [
            protocol.AccreditationStatement(
                profession=st.profession, provider=st.provider, credit_type=st.credit_type,
                max_credits=st.max_credits, statement=st.statement, uan=st.uan,
                activity_type=st.activity_type, contact_hours=st.contact_hours,
            )
            for st in a.accreditation
        ]
        return ActivityRules(
            id=a.id, version=a.version, title=a.title, release_date=a.release_date, review_date=a.review_date,
            termination_date=a.termination_date,
            assessment=protocol.Assessment.model_validate(a.assessment) if a.assessment else None,
            evaluation=[protocol.EvaluationQuestion.model_validate(q) for q in (a.evaluation or [])],
            min_watched_share=a.min_watched_share or 0.0,
            statements=statements,
            evaluation_opens=a.evaluation_opens or "after_test",
        )


# ---------------------------------------------------------------- rule 1: disclosures


@dataclass(frozen=True)
class Ack:
    activity_version: int
    acknowledged_at: datetime  # local clock, naive UTC
    acknowledged_at_corrected: datetime


def get_ack(db: Database, learner_id: str, activity_id: str) -> Ack | None:
    with db.read() as s:
        row = s.get(m.DisclosureAck, (learner_id, activity_id))
        return Ack(row.activity_version, row.acknowledged_at, row.acknowledged_at_corrected) if row else None


def current_ack(db: Database, learner_id: str, activity_id: str) -> Ack | None:
    """The learner's acknowledgement of the disclosures of the version cached now (rule 1).

    An acknowledgement of an older version does not count: a new version may disclose new
    relationships, so the learner reads and acknowledges them again.
    """
    with db.read() as s:
        row = s.get(m.DisclosureAck, (learner_id, activity_id))
        if row is None:
            return None
        activity = s.get(m.Activity, activity_id)
        if activity is not None and row.activity_version < activity.version:
            return None
        return Ack(row.activity_version, row.acknowledged_at, row.acknowledged_at_corrected)


def acknowledge(db: Database, learner_id: str, activity_id: str, version: int, at: datetime, at_corrected: datetime) -> Ack:
    """Record the acknowledgement of `version`'s disclosures.

    Idempotent per version: the first acknowledgement of a version stands. A newer version
    (its disclosures may have changed) is acknowledged afresh and replaces the old record.
    """
    with db.durable() as s:
        row = s.get(m.DisclosureAck, (learner_id, activity_id))
        if row is None:
            row = m.DisclosureAck(learner_id=learner_id, activity_id=activity_id)
            s.add(row)
        if row.activity_version is None or row.activity_version < version:
            row.activity_version = version
            row.acknowledged_at = at
            row.acknowledged_at_corrected = at_corrected
        return Ack(row.activity_version, row.acknowledged_at, row.acknowledged_at_corrected)


# ---------------------------------------------------------------- rule 4: attempts


@dataclass(frozen=True)
class AttemptRow:
    id: str
    learner_id: str
    activity_id: str
    activity_version: int
    number: int
    option_order: dict[str, list[str]]
    answers: dict[str, list[str]]
    current_question: int
    started_at: datetime
    submitted_at: datetime | None
    local_score: float | None
    local_passed: bool | None


def _attempt(r: m.Attempt) -> AttemptRow:
    return AttemptRow(r.id, r.learner_id, r.activity_id, r.activity_version, r.number, dict(r.option_order or {}),
                      {k: list(v) for k, v in (r.answers or {}).items()}, r.current_question or 0, r.started_at,
                      r.submitted_at, r.local_score, r.local_passed)


def attempts(db: Database, learner_id: str, activity_id: str) -> list[AttemptRow]:
    with db.read() as s:
        rows = s.scalars(select(m.Attempt).where(m.Attempt.learner_id == learner_id, m.Attempt.activity_id == activity_id)
                         .order_by(m.Attempt.number))
        return [_attempt(r) for r in rows]


def summaries(rows: Sequence[AttemptRow]) -> list[AttemptSummary]:
    return [AttemptSummary(r.id, r.number, r.submitted_at, r.local_score, r.local_passed, r.started_at) for r in rows]


def get_attempt(db: Database, learner_id: str, attempt_id: str) -> AttemptRow | None:
    with db.read() as s:
        r = s.get(m.Attempt, attempt_id)
        return _attempt(r) if r is not None and r.learner_id == learner_id else None


def open_or_create_attempt(
    db: Database, learner_id: str, activity_id: str, version: int, attempt_id: str,
    option_order: dict[str, list[str]], now: datetime, *, may_create,
) -> AttemptRow:
    """The learner's open attempt, or a new one numbered after the last (in one transaction).

    `may_create(submitted_count)` returns "" to allow a new attempt or the reason not to.
    Raises RuleError(reason, "attempt") when refused.
    """
    with db.durable() as s:
        rows = list(s.scalars(select(m.Attempt).where(m.Attempt.learner_id == learner_id,
                                                      m.Attempt.activity_id == activity_id).order_by(m.Attempt.number)))
        open_row = next((r for r in rows if r.submitted_at is None), None)
        if open_row is not None:
            return _attempt(open_row)
        reason = may_create(sum(1 for r in rows if r.submitted_at is not None))
        if reason:
            raise RuleError(reason, "attempt")
        row = m.Attempt(id=attempt_id, learner_id=learner_id, activity_id=activity_id, activity_version=version,
                        number=(rows[-1].number + 1) if rows else 1, option_order=option_order, answers={},
                        current_question=0, started_at=now)
        s.add(row)
        s.flush()
        return _attempt(row)


def save_answer(db: Database, learner_id: str, attempt_id: str, question_id: str, option_ids: list[str],
                current_question: int | None) -> AttemptRow:
    with db.durable() as s:
        row = s.get(m.Attempt, attempt_id)
        if row is None or row.learner_id != learner_id:
            raise LookupError("There is no such attempt.")
        if row.submitted_at is not None:
            raise RuleError("This attempt was submitted; its answers can no longer change.", "attempt")
        answers = dict(row.answers or {})
        answers[question_id] = list(option_ids)
        row.answers = answers  # a new dict, so the JSON column is written
        if current_question is not None:
            row.current_question = int(current_question)
        return _attempt(row)


def submit_attempt(db: Database, learner_id: str, attempt_id: str, score: float, passed: bool, now: datetime) -> AttemptRow:
    with db.durable() as s:
        row = s.get(m.Attempt, attempt_id)
        if row is None or row.learner_id != learner_id:
            raise LookupError("There is no such attempt.")
        if row.submitted_at is None:
            row.submitted_at = now
            row.local_score = score
            row.local_passed = passed
        return _attempt(row)


# ---------------------------------------------------------------- rule 5: evaluation


@dataclass(frozen=True)
class EvaluationRow:
    responses: dict
    updated_at: datetime
    submitted_at: datetime | None


def get_evaluation(db: Database, learner_id: str, activity_id: str) -> EvaluationRow | None:
    with db.read() as s:
        r = s.get(m.EvaluationRecord, (learner_id, activity_id))
        return EvaluationRow(dict(r.responses or {}), r.updated_at, r.submitted_at) if r else None


def save_evaluation(db: Database, learner_id: str, activity_id: str, responses: dict, now: datetime,
                    submit: bool, reminder_due_at: datetime | None = None) -> EvaluationRow:
    """Save (or submit) the evaluation; on submission its reminder is set to `reminder_due_at` (None: none)."""
    with db.durable() as s:
        r = s.get(m.EvaluationRecord, (learner_id, activity_id))
        if r is None:
            r = m.EvaluationRecord(learner_id=learner_id, activity_id=activity_id)
            s.add(r)
        r.responses = dict(responses)
        r.updated_at = now
        if submit:
            r.submitted_at = now
            if r.reminder_due_at != reminder_due_at:
                r.reminder_due_at = reminder_due_at
                r.reminder_notified_at = r.reminder_done_at = None
        return EvaluationRow(dict(r.responses), r.updated_at, r.submitted_at)


# ---------------------------------------------------------------- rule 6: claims and the outbox


def _info(c: m.Completion, item: m.OutboxItem | None, certificate_here: bool = False) -> CompletionInfo:
    return CompletionInfo(
        id=c.id, state=c.state, reason=c.reason, server_score=c.server_score, passed=c.passed,
        certificate_id=c.certificate_id, credits_claimed=c.credits_claimed, credit_type=c.credit_type,
        reason_code=c.reason_code, completed_at=c.completed_at_corrected,
        attempts_sent=len((c.payload or {}).get("attempts") or []),
        last_error=item.last_error if item else None, tries=item.tries if item else 0,
        certificate_here=certificate_here,
    )


def latest_completion(db: Database, learner_id: str, activity_id: str) -> CompletionInfo | None:
    """The learner's claim for this activity that matters: accepted, else pending, else the newest.

    Whether its certificate's PDF is here is asked in the join, never by reading the PDF: SQLite
    tests `pdf IS NOT NULL` in a join or WHERE without loading the blob (as a result column it loads it)."""
    with db.read() as s:
        rows = list(s.execute(
            select(m.Completion, m.OutboxItem, m.Certificate.id)
            .outerjoin(m.OutboxItem, m.OutboxItem.completion_id == m.Completion.id)
            .outerjoin(m.Certificate, (m.Certificate.id == m.Completion.certificate_id)
                       & (m.Certificate.learner_id == learner_id) & m.Certificate.pdf.is_not(None))
            .where(m.Completion.learner_id == learner_id, m.Completion.activity_id == activity_id)
            .order_by(m.Completion.created_at.desc())
        ))
        if not rows:
            return None
        rank = {"accepted": 0, "pending": 1}
        c, item, pdf_here = min(rows, key=lambda r: rank.get(r[0].state, 2))
        return _info(c, item, pdf_here is not None)


def add_completion(db: Database, *, learner_id: str, payload: dict, title: str, created_at: datetime,
                   completed_at_corrected: datetime, credit_type: str, credits: float) -> CompletionInfo:
    """The claim and its outbox item in ONE transaction; refuses a second pending/accepted claim."""
    with db.durable() as s:
        existing = s.scalar(select(m.Completion.state).where(
            m.Completion.learner_id == learner_id, m.Completion.activity_id == payload["activity_id"],
            m.Completion.state.in_(("pending", "accepted"))).limit(1))
        if existing == "accepted":
            raise ClaimExists("Credit for this activity has already been awarded.")
        if existing == "pending":
            raise ClaimExists("You have already claimed credit for this activity; the claim goes at the next sync.")
        c = m.Completion(
            id=payload["id"], learner_id=learner_id, activity_id=payload["activity_id"],
            activity_version=payload["activity_version"], activity_title=title, payload=payload,
            created_at=created_at, completed_at_corrected=completed_at_corrected, credit_type=credit_type,
            credits_claimed=credits, state="pending",
        )
        s.add(c)
        s.flush()
        item = m.OutboxItem(completion_id=c.id, learner_id=learner_id, tries=0, created_at=created_at)
        s.add(item)
        s.flush()
        return _info(c, item)


