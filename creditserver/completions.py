"""Earning credit: `POST /completions` (a batch) and `GET /me/completions`.

Each item of a batch is validated and judged on its own, so one malformed item is
rejected alone. The client's UUID is the idempotency key: the same id with the same
content answers `duplicate` with the stored result (same certificate); the same id with
other content is refused as a conflicting resubmission and logged. The server re-grades
every attempt against its own answer key for the version the learner took; a fail is
rejected and nothing is credited. An accepted item is passed and has a certificate.

The rules checked (DOMAIN.md): 1 disclosures acknowledged before starting; 3 availability
on the server-corrected clock (release, termination plus a grace for offline completions,
3 years past release or review); 4 attempts within the activity's policy, re-graded; 5 the
evaluation; 6 the claim (AMA PRA in 0.25 steps up to the maximum with attested time,
pharmacist NABP e-Profile ID and birth MMDD); 8 the reporting consent is stored per claim.
One credited completion per learner and activity.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from cmecore.signatures import canonical_json, sign_credential
# The accreditation rules are written once, as pure functions the client also applies
# offline; the server's verdict stays final because it runs them on its own data.
from cmecore.rules.assessment import grade
from cmecore.rules.availability import ENDURING_LIMIT_YEARS, enduring_limit
from cmecore.rules.claims import ClaimRefused, check_claim, is_ama
from cmecore.protocol import (
    API_PREFIX,
    CPE_MONITOR_NOTE,
    MAX_COMPLETION_BATCH,
    AccreditationStatement,
    Activity,
    CertificateRecord,
    CompletionBatch,
    CompletionBatchResult,
    CompletionIn,
    CompletionResult,
    CompletionStatus,
    LearnerProfile,
    MyCompletion,
    MyCompletions,
    Problem,
    Profession,
    RejectionCode,
)

from .auth import CurrentLearner
from .db import Database
from .keys import ServerKey
from .models import (
    ActivityRecord,
    ActivityVersion,
    Certificate,
    Completion,
    CompletionAttempt,
    CompletionEvaluation,
    CompletionRejection,
    utcnow,
)

log = logging.getLogger(__name__)

DEFAULT_GRACE_DAYS = 30
CLOCK_TOLERANCE = timedelta(hours=1)  # a corrected completion time this far in the future is still believed
_REJECTION_BODY_LIMIT = 64 * 1024
_EPS = 1e-9


@dataclass(frozen=True)
class CompletionSettings:
    grace_days: int = DEFAULT_GRACE_DAYS


# ---------------------------------------------------------------- activity versions


class _ActivityCache:
    """Parsed activity versions by (id, version). Published versions never change."""

    def __init__(self, maxsize: int = 4096) -> None:
        self._items: dict[tuple[str, int, str], Activity] = {}
        self._maxsize = maxsize

    def get(self, activity_id: str, version: int, json_text: str) -> Activity | None:
        key = (activity_id, version, hashlib.sha256(json_text.encode()).hexdigest())
        act = self._items.get(key)
        if act is None:
            try:
                act = Activity.model_validate_json(json_text)
            except ValidationError:
                return None
            if len(self._items) >= self._maxsize:
                self._items.clear()
            self._items[key] = act
        return act


_cache = _ActivityCache()


# ---------------------------------------------------------------- judging one item


class Rejected(Exception):
    def __init__(self, code: RejectionCode, reason: str, score: float | None = None, passed: bool | None = None):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.score = score
        self.passed = passed


@dataclass
class Graded:
    score: float | None  # None: the activity has no post-test
    attempt_scores: list[tuple[float, bool]] = field(default_factory=list)
    statement: AccreditationStatement | None = None


def _pct(x: float) -> str:
    return f"{x:g}%"


def _fmt_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _end_of_day(d: date) -> datetime:
    return datetime.combine(d + timedelta(days=1), time(0), tzinfo=UTC)


def judge(item: CompletionIn, act: Activity, learner: LearnerProfile, now: datetime, settings: CompletionSettings) -> Graded:
    """Apply the rules to one well-formed item; raise Rejected with plain words, or return the grade."""
    # -- clock
    if item.completed_at < item.started_at:
        raise Rejected(RejectionCode.clock, "The completion time is before the start time.")
    if item.completed_at_corrected > now + CLOCK_TOLERANCE:
        raise Rejected(
            RejectionCode.clock,
            f"The completion time {_fmt_time(item.completed_at_corrected)} is in the future; check the computer's clock and sync again.",
        )
    for a in item.attempts:
        if a.submitted_at < a.started_at:
            raise Rejected(RejectionCode.clock, f"Attempt {a.number} was submitted before it was started.")

    # -- rule 1: disclosures before content
    ack = item.disclosures_acknowledged_at
    if ack is None:
        raise Rejected(
            RejectionCode.disclosures,
            "The disclosures were not acknowledged. They must be acknowledged before the activity starts (rule 1).",
        )
    if ack > item.started_at:
        raise Rejected(
            RejectionCode.disclosures,
            f"The disclosures were acknowledged at {_fmt_time(ack)}, after the activity was started at "
            f"{_fmt_time(item.started_at)}. They must be acknowledged before the content (rule 1).",
        )

    # -- rule 3: availability, on the server-corrected clock
    done = item.completed_at_corrected
    done_day = done.astimezone(UTC).date()
    if done_day < act.release_date:
        raise Rejected(RejectionCode.not_released, f"The activity was completed before its release date {act.release_date}.")
    limit = enduring_limit(act.release_date, act.review_date)
    end = min(act.termination_date, limit)
    if done_day > act.termination_date:
        raise Rejected(
            RejectionCode.terminated,
            f"The activity was completed on {done_day}, after its termination date {act.termination_date}; "
            "credit can no longer be claimed.",
        )
    if done_day > limit:
        raise Rejected(
            RejectionCode.terminated,
            f"The activity was completed on {done_day}, more than {ENDURING_LIMIT_YEARS} years after its "
            f"release or last review ({max(act.release_date, act.review_date or act.release_date)}); "
            "credit can no longer be claimed.",
        )
    if now >= _end_of_day(end) + timedelta(days=settings.grace_days):
        raise Rejected(
            RejectionCode.grace_expired,
            f"The activity ended on {end}. Completions finished before then are accepted until "
            f"{end + timedelta(days=settings.grace_days)}; this one arrived too late.",
        )

    # -- participation
    need = act.participation.min_watched_share
    if item.watched_share + _EPS < need:
        raise Rejected(
            RejectionCode.participation,
            f"You watched {item.watched_share * 100:.0f}% of the video; this activity asks for at least {need * 100:.0f}%.",
        )

    # -- rule 4: attempts, re-graded by the server
    graded = Graded(score=None)
    if act.assessment is not None:
        assessment = act.assessment
        if not item.attempts:
            raise Rejected(RejectionCode.attempts, "No post-test attempt was sent.")
        numbers = [a.number for a in item.attempts]
        if numbers != list(range(1, len(numbers) + 1)):
            raise Rejected(RejectionCode.attempts, "The attempts must be numbered 1, 2, 3 … in order, every attempt kept.")
        if len({a.id for a in item.attempts}) != len(item.attempts):
            raise Rejected(RejectionCode.attempts, "Two attempts share one id.")
        allowed = assessment.attempts_allowed
        if allowed is not None and len(item.attempts) > allowed:
            raise Rejected(
                RejectionCode.attempts,
                f"This activity allows {allowed} attempt{'s' if allowed != 1 else ''} at the post-test; "
                f"{len(item.attempts)} were made.",
            )
        key = {q.id: set(q.correct) for q in assessment.questions}
        for a in item.attempts:
            unknown = sorted(set(a.answers) - set(key))
            if unknown:
                raise Rejected(
                    RejectionCode.invalid,
                    f"Attempt {a.number} answers question {unknown[0]!r}, which version {act.version} of this activity does not have.",
                )
            result = grade(assessment, a.answers)
            graded.attempt_scores.append((result.score, result.passed))
        passing = [s for s, ok in graded.attempt_scores if ok]
        best = max(s for s, _ in graded.attempt_scores)
        if not passing:
            told_pass = any(a.local_passed for a in item.attempts)
            raise Rejected(
                RejectionCode.not_passed,
                f"The server graded your best attempt at {_pct(best)}; the passing score is "
                f"{_pct(assessment.passing_score)}."
                + (" (Your device had marked it as passed.)" if told_pass else "")
                + " No credit was awarded.",
                score=best,
                passed=False,
            )
        graded.score = passing[0]

    # -- rule 5: evaluation
    if act.evaluation:
        ev = item.evaluation
        if ev is None:
            raise Rejected(RejectionCode.evaluation, "The evaluation was not completed; it is needed for credit.")
        questions = {q.id: q for q in act.evaluation}
        for qid in list(ev.ratings) + list(ev.texts):
            if qid not in questions:
                raise Rejected(RejectionCode.evaluation, f"The evaluation answers question {qid!r}, which this activity does not have.")
        for q in act.evaluation:
            if q.kind == "rating":
                value = ev.ratings.get(q.id)
                if value is not None and not 1 <= value <= q.scale:
                    raise Rejected(RejectionCode.evaluation, f"Evaluation question {q.id!r} takes a rating from 1 to {q.scale}.")
                if q.required and value is None:
                    raise Rejected(RejectionCode.evaluation, f"Evaluation question {q.id!r} must be answered.")
            elif q.kind == "text":
                if q.required and not ev.texts.get(q.id, "").strip():
                    raise Rejected(RejectionCode.evaluation, f"Evaluation question {q.id!r} must be answered.")
            elif q.kind == "commitment":
                if q.required and not (ev.commitments or ev.texts.get(q.id, "").strip()):
                    raise Rejected(RejectionCode.evaluation, "At least one commitment to change is required.")

    # -- rule 6: the claim
    claim = item.claim
    if claim.profession != learner.profession:
        raise Rejected(
            RejectionCode.claim,
            f"The claim is for a {claim.profession.value.replace('_', ' ')}, but your profile says "
            f"{learner.profession.value.replace('_', ' ')}.",
        )
    try:  # the same rule the client applies before it lets the learner claim
        statement = check_claim(
            claim.profession, act.accreditation, claim.credits_claimed, claim.attested_minutes,
            claim.reporting_consent, nabp_eprofile_id=claim.nabp_eprofile_id, birth_mmdd=claim.birth_mmdd,
        )
    except ClaimRefused as refused:
        raise Rejected(RejectionCode(refused.code), refused.reason) from None
    if claim.credit_type != statement.credit_type:
        raise Rejected(
            RejectionCode.claim, f"The claim is for {claim.credit_type!r}, but this activity offers {statement.credit_type!r}."
        )
    graded.statement = statement
    return graded


# ---------------------------------------------------------------- records


def _credential(
    cert: CertificateRecord, act: Activity, statement: AccreditationStatement, learner_id: str, completed: datetime,
    key: ServerKey, issued: str,
) -> dict[str, Any]:
    passing = act.assessment.passing_score if act.assessment else None
    steps = ["Review the disclosures", "take part in the activity"]
    if passing is not None:
        steps.append(f"pass the post-test ({passing}%)")
    if act.evaluation:
        steps.append("complete the evaluation")
    steps.append("claim credit")
    achievement: dict[str, Any] = {
        "id": f"urn:cme-offline:activity:{act.id}:v{act.version}",
        "type": ["Achievement"],
        "achievementType": "CertificateOfCompletion",
        "name": act.title,
        "description": statement.statement,
        "criteria": {"narrative": ", ".join(steps) + "."},
        "creditsAvailable": statement.max_credits,
        "creator": {"id": f"urn:cme-offline:provider:{hashlib.sha256(statement.provider.encode()).hexdigest()[:16]}",
                    "type": ["Profile"], "name": statement.provider},
        "format": act.format,
    }
    if cert.uan:
        achievement["humanCode"] = cert.uan
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "id": f"urn:cme-offline:learner:{learner_id}",
        "name": cert.learner_name,
        "profession": cert.profession.value,
        "activityEndDate": _iso(completed),
        "creditsEarned": cert.credits_claimed,
        "creditType": cert.credit_type,
        "achievement": achievement,
    }
    if cert.contact_hours is not None:
        subject["contactHours"] = cert.contact_hours
    if cert.cpe_monitor_note:
        subject["note"] = cert.cpe_monitor_note
    doc = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": f"urn:uuid:{uuid.UUID(hex=cert.id)}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{cert.credit_type}: {cert.activity_title}",
        "issuer": {"id": f"urn:cme-offline:issuer:{key.key_id}", "type": ["Profile"], "name": " and ".join(cert.providers)},
        "validFrom": issued,
        "credentialSubject": subject,
    }
    return sign_credential(doc, key.private_key, key.key_id, issued)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _accepted_rows(item: CompletionIn, body: dict[str, Any], content_hash: str, act: Activity, graded: Graded,
                   learner: LearnerProfile, key: ServerKey, now: datetime) -> tuple[CompletionResult, Completion, list[Any]]:
    """The result and the rows to store: the completion, then its attempts, evaluation and certificate."""
    statement = graded.statement
    assert statement is not None
    claim = item.claim
    cert_id = uuid.uuid4().hex
    pharmacist = claim.profession == Profession.pharmacist
    contact_hours = None
    if pharmacist:
        contact_hours = statement.contact_hours if statement.contact_hours is not None else claim.credits_claimed
    elif not is_ama(statement):
        contact_hours = claim.credits_claimed
    record = CertificateRecord(
        id=cert_id,
        completion_id=item.id,
        issued_at=now,
        learner_name=learner.display_name,
        profession=claim.profession,
        providers=act.providers,
        activity_id=act.id,
        activity_version=act.version,
        activity_title=act.title,
        format=act.format,
        completion_date=item.completed_at_corrected.astimezone(UTC).date(),
        credits_claimed=claim.credits_claimed,
        credit_type=statement.credit_type,
        contact_hours=contact_hours,
        uan=statement.uan if pharmacist else None,
        cpe_monitor_note=CPE_MONITOR_NOTE if pharmacist else None,
        pdf_url=f"{API_PREFIX}/certificates/{cert_id}",
        credential_url=f"{API_PREFIX}/certificates/{cert_id}.json",
    )
    credential = _credential(record, act, statement, learner.id, item.completed_at_corrected, key, _iso(now))
    result = CompletionResult(
        index=0,
        id=item.id,
        status=CompletionStatus.accepted,
        server_score=graded.score,
        passed=True,
        certificate_id=cert_id,
        credits_awarded=claim.credits_claimed,
        credit_type=statement.credit_type,
    )
    cid = str(item.id)
    parent = Completion(
        id=cid,
        learner_id=learner.id,
        activity_id=act.id,
        activity_version=act.version,
        content_hash=content_hash,
        body_json=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        result_json=result.model_dump_json(exclude={"index"}),
        received_at=now,
        disclosures_acknowledged_at=item.disclosures_acknowledged_at,
        started_at=item.started_at,
        completed_at=item.completed_at,
        completed_at_corrected=item.completed_at_corrected,
        watched_share=item.watched_share,
        server_score=graded.score,
        passed=True,
        profession=claim.profession.value,
        credit_type=statement.credit_type,
        credits_claimed=claim.credits_claimed,
        attested_minutes=claim.attested_minutes,
        reporting_consent=claim.reporting_consent,
        nabp_eprofile_id=claim.nabp_eprofile_id,
        birth_mmdd=claim.birth_mmdd,
        board_id=claim.board_id,
        licence_state=claim.licence_state,
        licence_number=claim.licence_number,
    )
    children: list[Any] = []
    grades: list[tuple[float | None, bool | None]] = list(graded.attempt_scores) or [(None, None)] * len(item.attempts)
    for a, (score, ok) in zip(item.attempts, grades, strict=True):
        children.append(
            CompletionAttempt(
                id=str(a.id),
                completion_id=cid,
                number=a.number,
                started_at=a.started_at,
                submitted_at=a.submitted_at,
                answers_json=json.dumps(a.answers, sort_keys=True, separators=(",", ":")),
                local_score=a.local_score,
                local_passed=a.local_passed,
                server_score=score,
                server_passed=ok,
            )
        )
    if item.evaluation is not None:
        ev = item.evaluation
        children.append(
            CompletionEvaluation(
                completion_id=cid,
                ratings_json=json.dumps(ev.ratings, sort_keys=True, separators=(",", ":")),
                texts_json=json.dumps(ev.texts, sort_keys=True, ensure_ascii=False, separators=(",", ":")),
                commitments_json=json.dumps(ev.commitments, ensure_ascii=False, separators=(",", ":")),
                reminder_weeks=ev.reminder_weeks,
            )
        )
    children.append(
        Certificate(
            id=cert_id,
            completion_id=cid,
            learner_id=learner.id,
            issued_at=now,
            record_json=record.model_dump_json(),
            credential_json=json.dumps(credential, ensure_ascii=False, separators=(",", ":")),
            completion_date=record.completion_date,
        )
    )
    return result, parent, children


# ---------------------------------------------------------------- the batch


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"{where}: {err.get('msg', 'invalid')}{more}" if where else f"{err.get('msg', 'invalid')}{more}"


def _raw_id(raw: Any) -> uuid.UUID | None:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        try:
            return uuid.UUID(raw["id"])
        except ValueError:
            return None
    return None


def _raw_text(raw: Any) -> str:
    try:
        text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        text = repr(raw)
    return text[:_REJECTION_BODY_LIMIT]


@dataclass
class _Parsed:
    index: int
    raw: Any
    item: CompletionIn | None = None
    body: dict[str, Any] | None = None
    content_hash: str = ""
    error: str = ""


def _parse(index: int, raw: Any) -> _Parsed:
    p = _Parsed(index, raw)
    try:
        p.item = CompletionIn.model_validate(raw)
    except ValidationError as exc:
        p.error = _first_error(exc)
        return p
    p.body = p.item.model_dump(mode="json")
    p.content_hash = hashlib.sha256(canonical_json(p.body)).hexdigest()
    return p


def _rejected(p: _Parsed, code: RejectionCode, reason: str, score: float | None = None, passed: bool | None = None) -> CompletionResult:
    return CompletionResult(
        index=p.index,
        id=p.item.id if p.item else _raw_id(p.raw),
        status=CompletionStatus.rejected,
        reason=reason,
        reason_code=code,
        server_score=score,
        passed=passed,
    )


def process_batch(
    db: Database, raws: list[Any], learner: LearnerProfile, key: ServerKey, settings: CompletionSettings
) -> list[CompletionResult]:
    parsed = [_parse(i, raw) for i, raw in enumerate(raws)]
    for attempt in range(3):
        try:
            return _process(db, parsed, learner, key, settings)
        except (IntegrityError, OperationalError) as exc:
            # Another request stored the same id or activity meanwhile (or SQLite was busy):
            # judge the whole batch again; the other request's rows are then visible.
            if isinstance(exc, OperationalError) and "locked" not in str(exc).lower() and "busy" not in str(exc).lower():
                raise
            if attempt == 2:
                raise
            log.info("completion batch retried after %s", type(exc).__name__)
    raise AssertionError("unreachable")


def _process(db: Database, parsed: list[_Parsed], learner: LearnerProfile, key: ServerKey, settings: CompletionSettings) -> list[CompletionResult]:
    now = utcnow()
    good = [p for p in parsed if p.item is not None]
    ids = sorted({str(p.item.id) for p in good})
    activity_ids = sorted({p.item.activity_id for p in good})
    results: list[CompletionResult] = []
    with db.session() as s:
        existing: dict[str, tuple[str, str, str]] = {}  # id → (learner, hash, result json)
        for chunk in range(0, len(ids), 500):
            for row in s.execute(
                select(Completion.id, Completion.learner_id, Completion.content_hash, Completion.result_json).where(
                    Completion.id.in_(ids[chunk : chunk + 500])
                )
            ):
                existing[row.id] = (row.learner_id, row.content_hash, row.result_json)
        credited: dict[str, datetime] = {}
        records: dict[str, ActivityRecord] = {}
        versions: dict[tuple[str, int], str] = {}
        for chunk in range(0, len(activity_ids), 500):
            part = activity_ids[chunk : chunk + 500]
            for row in s.execute(
                select(Completion.activity_id, Completion.completed_at_corrected).where(
                    Completion.learner_id == learner.id, Completion.activity_id.in_(part)
                )
            ):
                credited[row.activity_id] = row.completed_at_corrected
            for rec in s.execute(select(ActivityRecord).where(ActivityRecord.id.in_(part))).scalars():
                records[rec.id] = rec
                versions[(rec.id, rec.version)] = rec.json_text
            for row in s.execute(
                select(ActivityVersion.activity_id, ActivityVersion.version, ActivityVersion.json_text).where(
                    ActivityVersion.activity_id.in_(part)
                )
            ):
                versions[(row.activity_id, row.version)] = row.json_text

        rejections: list[CompletionRejection] = []
        parents: list[Completion] = []
        children: list[Any] = []

        def reject(p: _Parsed, code: RejectionCode, reason: str, score=None, passed=None) -> None:
            results.append(_rejected(p, code, reason, score, passed))
            cid = p.item.id if p.item else _raw_id(p.raw)
            rejections.append(
                CompletionRejection(
                    learner_id=learner.id,
                    completion_id=str(cid) if cid else None,
                    reason_code=code.value,
                    reason=reason,
                    body_json=_raw_text(p.raw),
                    received_at=now,
                )
            )

        for p in parsed:
            if p.item is None:
                reject(p, RejectionCode.invalid, f"The completion could not be read: {p.error}")
                continue
            item = p.item
            cid = str(item.id)
            if cid in existing:
                owner, content_hash, stored = existing[cid]
                if owner == learner.id and content_hash == p.content_hash:
                    results.append(
                        CompletionResult.model_validate(
                            {
                                **json.loads(stored),
                                "index": p.index,
                                "status": CompletionStatus.duplicate,
                                "reason": "Already received; this is the result given then.",
                            }
                        )
                    )
                else:
                    log.warning("conflicting resubmission of completion %s by learner %s", cid, learner.id)
                    reject(
                        p,
                        RejectionCode.conflicting_resubmission,
                        "conflicting resubmission: this completion id was already received with different content. "
                        "The first record stands.",
                    )
                continue
            rec = records.get(item.activity_id)
            if rec is None:
                reject(p, RejectionCode.unknown_activity, f"There is no activity {item.activity_id!r} on this server.")
                continue
            if rec.withdrawn:
                reject(p, RejectionCode.withdrawn, "This activity has been withdrawn by its provider; credit can no longer be claimed.")
                continue
            json_text = versions.get((item.activity_id, item.activity_version))
            act = _cache.get(item.activity_id, item.activity_version, json_text) if json_text else None
            if act is None:
                reject(
                    p, RejectionCode.unknown_version,
                    f"Version {item.activity_version} of this activity is not known to the server; sync the catalog and take the current version.",
                )
                continue
            if item.activity_id in credited:
                reject(
                    p, RejectionCode.already_credited,
                    f"You already received credit for this activity (completed {credited[item.activity_id].date()}); "
                    "credit is given once per activity.",
                )
                continue
            try:
                graded = judge(item, act, learner, now, settings)
            except Rejected as r:
                reject(p, r.code, r.reason, r.score, r.passed)
                continue
            result, parent, kids = _accepted_rows(item, p.body or {}, p.content_hash, act, graded, learner, key, now)
            parents.append(parent)
            children.extend(kids)
            results.append(result.model_copy(update={"index": p.index}))
            existing[cid] = (learner.id, p.content_hash, result.model_dump_json(exclude={"index"}))
            credited[item.activity_id] = item.completed_at_corrected
        # Completions first (one flush), then the rows that point at them.
        s.add_all(parents)
        s.flush()
        s.add_all(children)
        s.add_all(rejections)
    return results


# ---------------------------------------------------------------- routes

router = APIRouter(tags=["completions"])


class _RawBatch(BaseModel):
    # Items stay raw JSON here and are validated one by one as protocol.CompletionIn.
    completions: Annotated[list[Any], Field(min_length=1, max_length=MAX_COMPLETION_BATCH)]


@router.post(
    "/completions",
    response_model=CompletionBatchResult,
    responses={401: {"model": Problem}, 422: {"model": Problem, "description": "The body is not a batch (or too long)."}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompletionBatch"}}},
        }
    },
)
def post_completions(body: _RawBatch, request: Request, learner: CurrentLearner) -> CompletionBatchResult:
    """Deliver finished activities (a batch of `CompletionIn`); the answer has one result per item, in order."""
    results = process_batch(
        request.app.state.db, body.completions, learner, request.app.state.signing_key, request.app.state.completion_settings
    )
    counts = {st: sum(1 for r in results if r.status == st) for st in CompletionStatus}
    return CompletionBatchResult(
        results=results,
        accepted=counts[CompletionStatus.accepted],
        duplicate=counts[CompletionStatus.duplicate],
        rejected=counts[CompletionStatus.rejected],
    )


@router.get("/me/completions", response_model=MyCompletions, responses={401: {"model": Problem}})
def my_completions(request: Request, learner: CurrentLearner) -> MyCompletions:
    """The signed-in learner's credited completions, oldest first, each with its certificate."""
    db: Database = request.app.state.db
    with db.session() as s:
        rows = s.execute(
            select(Completion, Certificate.record_json)
            .outerjoin(Certificate, Certificate.completion_id == Completion.id)
            .where(Completion.learner_id == learner.id)
            .order_by(Completion.received_at, Completion.id)
        ).all()
        out = [
            MyCompletion(
                id=c.id,
                activity_id=c.activity_id,
                activity_version=c.activity_version,
                completed_at_corrected=c.completed_at_corrected,
                received_at=c.received_at,
                server_score=c.server_score,
                passed=c.passed,
                credits_awarded=c.credits_claimed,
                credit_type=c.credit_type,
                reporting_consent=c.reporting_consent,
                certificate=CertificateRecord.model_validate_json(record) if record else None,
            )
            for c, record in rows
        ]
    return MyCompletions(completions=out)


# Make the CompletionBatch schema part of the OpenAPI document (referenced above).
def install_schemas(app) -> None:
    from fastapi.openapi.utils import get_openapi

    def openapi():
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        batch = CompletionBatch.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in batch.pop("$defs", {}).items():
            components.setdefault(name, sub)
        components["CompletionBatch"] = batch
        app.openapi_schema = schema
        return schema

    app.openapi = openapi

