"""A learner's records in the cache: disclosure acks, attempts, evaluations, claims, the
outbox and certificates. SQL only; the rules live in `desktop.learning`.

Every function takes the learner id and touches only that learner's rows. Plain
dataclasses out; no ORM object leaves a session. Writes that must survive a crash or a
power cut (answers, submitted attempts, claims with their outbox item, delivery results)
go through `Database.durable()`, committed with `synchronous=FULL` (the rest of the
cache runs with NORMAL, which survives app crashes but not power loss).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select

from cmecore import protocol
from desktop.cache import models as m
from desktop.cache.db import Database
from desktop.learning.records import AttemptSummary, CompletionInfo
from desktop.learning.state import ActivityRules

# ---------------------------------------------------------------- activity and learner


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
        )


@dataclass(frozen=True)
class LearnerIds:
    """What a claim takes from the learner's profile (rules 6 and 8)."""

    id: str
    username: str
    server_url: str
    profession: str
    nabp_eprofile_id: str | None
    birth_mmdd: str | None
    board_id: str | None
    licence_state: str | None
    licence_number: str | None
    signed_in: bool


def learner_ids(db: Database, learner_id: str) -> LearnerIds | None:
    with db.read() as s:
        r = s.get(m.Learner, learner_id)
        if r is None:
            return None
        return LearnerIds(r.id, r.username, r.server_url, r.profession, r.nabp_eprofile_id, r.birth_mmdd,
                          r.board_id, r.licence_state, r.licence_number, bool(r.signed_in))


def learners_on(db: Database, server_url: str, learner_ids_: Sequence[str] | None = None) -> list[LearnerIds]:
    with db.read() as s:
        q = select(m.Learner).where(m.Learner.server_url == server_url)
        if learner_ids_ is not None:
            q = q.where(m.Learner.id.in_(list(learner_ids_)))
        return [
            LearnerIds(r.id, r.username, r.server_url, r.profession, r.nabp_eprofile_id, r.birth_mmdd,
                       r.board_id, r.licence_state, r.licence_number, bool(r.signed_in))
            for r in s.scalars(q.order_by(m.Learner.last_signed_in_at.desc()))
        ]


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
    Raises ValueError(reason) when refused.
    """
    with db.durable() as s:
        rows = list(s.scalars(select(m.Attempt).where(m.Attempt.learner_id == learner_id,
                                                      m.Attempt.activity_id == activity_id).order_by(m.Attempt.number)))
        open_row = next((r for r in rows if r.submitted_at is None), None)
        if open_row is not None:
            return _attempt(open_row)
        reason = may_create(sum(1 for r in rows if r.submitted_at is not None))
        if reason:
            raise ValueError(reason)
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
            raise ValueError("This attempt was submitted; its answers can no longer change.")
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
                    submit: bool) -> EvaluationRow:
    with db.durable() as s:
        r = s.get(m.EvaluationRecord, (learner_id, activity_id))
        if r is None:
            r = m.EvaluationRecord(learner_id=learner_id, activity_id=activity_id)
            s.add(r)
        r.responses = dict(responses)
        r.updated_at = now
        if submit:
            r.submitted_at = now
        return EvaluationRow(dict(r.responses), r.updated_at, r.submitted_at)


# ---------------------------------------------------------------- rule 6: claims and the outbox


class ClaimExists(ValueError):
    pass


def _info(c: m.Completion, item: m.OutboxItem | None) -> CompletionInfo:
    return CompletionInfo(
        id=c.id, state=c.state, reason=c.reason, server_score=c.server_score, passed=c.passed,
        certificate_id=c.certificate_id, credits_claimed=c.credits_claimed, credit_type=c.credit_type,
        reason_code=c.reason_code, completed_at=c.completed_at_corrected,
        attempts_sent=len((c.payload or {}).get("attempts") or []),
        last_error=item.last_error if item else None, tries=item.tries if item else 0,
    )


def latest_completion(db: Database, learner_id: str, activity_id: str) -> CompletionInfo | None:
    """The learner's claim for this activity that matters: accepted, else pending, else the newest."""
    with db.read() as s:
        rows = list(s.execute(
            select(m.Completion, m.OutboxItem).outerjoin(m.OutboxItem, m.OutboxItem.completion_id == m.Completion.id)
            .where(m.Completion.learner_id == learner_id, m.Completion.activity_id == activity_id)
            .order_by(m.Completion.created_at.desc())
        ))
        if not rows:
            return None
        rank = {"accepted": 0, "pending": 1}
        c, item = min(rows, key=lambda r: rank.get(r[0].state, 2))
        return _info(c, item)


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


# ---------------------------------------------------------------- certificates (rule 7)


def missing_certificates(db: Database, learner_id: str) -> list[tuple[str, str]]:
    """(completion id, certificate id) of accepted claims whose certificate is not fully cached."""
    with db.read() as s:
        rows = s.execute(
            select(m.Completion.id, m.Completion.certificate_id)
            .outerjoin(m.Certificate, m.Certificate.id == m.Completion.certificate_id)
            .where(m.Completion.learner_id == learner_id, m.Completion.state == "accepted",
                   m.Completion.certificate_id.is_not(None),
                   or_(m.Certificate.id.is_(None), m.Certificate.pdf.is_(None), m.Certificate.credential.is_(None)))
            .order_by(m.Completion.created_at)
        )
        return [(a, b) for a, b in rows]


def store_certificate(db: Database, learner_id: str, record: protocol.CertificateRecord, pdf: bytes | None,
                      credential: dict | None, verified: bool, now: datetime) -> None:
    with db.write() as s:
        row = s.get(m.Certificate, record.id)
        if row is None:
            row = m.Certificate(id=record.id, learner_id=learner_id, completion_id=str(record.completion_id))
            s.add(row)
        elif row.learner_id != learner_id:
            return
        row.record = record.model_dump(mode="json")
        if pdf is not None:
            row.pdf = pdf
        if credential is not None:
            row.credential = credential
        row.verified = verified
        row.fetched_at = now


@dataclass(frozen=True)
class CertificateRow:
    id: str
    completion_id: str
    record: dict
    pdf: bytes | None
    credential: dict | None
    verified: bool


def get_certificate(db: Database, learner_id: str, certificate_id: str) -> CertificateRow | None:
    with db.read() as s:
        r = s.get(m.Certificate, certificate_id)
        if r is None or r.learner_id != learner_id:
            return None
        return CertificateRow(r.id, r.completion_id, dict(r.record or {}), r.pdf, r.credential, bool(r.verified))


# ---------------------------------------------------------------- my credits


@dataclass(frozen=True)
class CompletionRow:
    id: str
    activity_id: str
    title: str
    completed_at_corrected: datetime
    credit_type: str
    credits: float
    state: str
    reason: str | None
    certificate_id: str | None


def completion_rows(db: Database, learner_id: str) -> list[CompletionRow]:
    with db.read() as s:
        rows = s.scalars(select(m.Completion).where(m.Completion.learner_id == learner_id)
                         .order_by(m.Completion.completed_at_corrected.desc(), m.Completion.created_at.desc()))
        return [CompletionRow(c.id, c.activity_id, c.activity_title, c.completed_at_corrected, c.credit_type,
                              c.credits_claimed, c.state, c.reason, c.certificate_id) for c in rows]


# ---------------------------------------------------------------- the server's signing key


def signing_key(db: Database, server_url: str) -> tuple[str, str] | None:
    """(key id, raw Ed25519 public key, base64) kept from sign-in or GET /keys."""
    with db.read() as s:
        st = s.get(m.SyncState, server_url)
        if st is None or not st.signing_public_key:
            return None
        return st.signing_key_id or "", st.signing_public_key


def save_signing_key(db: Database, server_url: str, key_id: str | None, public_key: str) -> None:
    with db.write() as s:
        st = s.get(m.SyncState, server_url)
        if st is None:
            st = m.SyncState(server_url=server_url)
            s.add(st)
        st.signing_key_id = key_id
        st.signing_public_key = public_key


def clock_offset_ms(db: Database, server_url: str | None) -> int | None:
    if server_url is None:
        return None
    with db.read() as s:
        st = s.get(m.SyncState, server_url)
        return st.clock_offset_ms if st else None


# ---------------------------------------------------------------- several learners on one workstation


def make_current(db: Database, learner_id: str, now: datetime):
    """Make a learner signed in on this machine the current one (switching learners): LearnerInfo."""
    from desktop.cache.learners import _info

    with db.write() as s:
        row = s.get(m.Learner, learner_id)
        if row is None:
            raise LookupError(learner_id)
        row.signed_in = True
        row.last_signed_in_at = now
        s.flush()
        return _info(row)


def signed_in_learners(db: Database, server_url: str):
    """Every learner signed in (not signed out) on this server, the current one first: list[LearnerInfo]."""
    from desktop.cache.learners import _info

    with db.read() as s:
        rows = s.scalars(
            select(m.Learner)
            .where(m.Learner.server_url == server_url, m.Learner.signed_in.is_(True))
            .order_by(m.Learner.last_signed_in_at.desc())
        )
        return [_info(r) for r in rows]
