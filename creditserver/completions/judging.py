"""The accreditation rules applied to one completion, in the order a learner meets them.

`judge` takes one well-formed item, the activity version the learner took and the
signed-in learner, and either returns the server's grade or raises `Rejected` with a
stable code and plain words. It touches no database: the batch (batch.py) loads what it
needs and stores what it decides. The rules are DOMAIN.md's: 1 disclosures before
content, 3 availability on the server-corrected clock, 4 attempts re-graded, 5 the
evaluation, 6 the claim (through cmecore.rules.claims, the rule the client applies too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from cmecore.protocol import AccreditationStatement, Activity, CompletionIn, LearnerProfile, RejectionCode

# The accreditation rules are written once, as pure functions the client also applies
# offline; the server's verdict stays final because it runs them on its own data.
from cmecore.rules.assessment import grade
from cmecore.rules.availability import ENDURING_LIMIT_YEARS, enduring_limit
from cmecore.rules.claims import ClaimRefused, check_claim

from ..lrs.statements import XapiReporting

DEFAULT_GRACE_DAYS = 30
CLOCK_TOLERANCE = timedelta(hours=1)  # a corrected completion time this far in the future is still believed
_EPS = 1e-9


@dataclass(frozen=True)
class CompletionSettings:
    grace_days: int = DEFAULT_GRACE_DAYS
    xapi: XapiReporting | None = None  # what accepted completions report to an LRS (None: no LRS configured)


class Rejected(Exception):
    """An item breaks a rule: nothing is credited. `reason` is for the learner, `code` for clients."""

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


def judge(item: CompletionIn, act: Activity, learner: LearnerProfile, now: datetime, settings: CompletionSettings) -> Graded:
    """Apply the rules to one well-formed item; raise Rejected with plain words, or return the grade."""
    check_clock(item, now)
    check_disclosures(item)
    check_availability(item, act, now, settings)
    check_participation(item, act)
    graded = grade_attempts(item, act)
    check_evaluation(item, act)
    graded.statement = check_credit_claim(item, act, learner)
    return graded


def check_clock(item: CompletionIn, now: datetime) -> None:
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


def check_disclosures(item: CompletionIn) -> None:
    """Rule 1: disclosures before content."""
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


def check_availability(item: CompletionIn, act: Activity, now: datetime, settings: CompletionSettings) -> None:
    """Rule 3: availability, on the server-corrected clock, with a grace for offline completions."""
    done_day = item.completed_at_corrected.astimezone(UTC).date()
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


def check_participation(item: CompletionIn, act: Activity) -> None:
    need = act.participation.min_watched_share
    if item.watched_share + _EPS < need:
        raise Rejected(
            RejectionCode.participation,
            f"You watched {item.watched_share * 100:.0f}% of the video; this activity asks for at least {need * 100:.0f}%.",
        )


def grade_attempts(item: CompletionIn, act: Activity) -> Graded:
    """Rule 4: every attempt kept, within the activity's policy, re-graded by the server.

    The grade is the first passing attempt's score; no passing attempt rejects the item.
    """
    assessment = act.assessment
    if assessment is None:
        return Graded(score=None)
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
    questions = {q.id for q in assessment.questions}
    graded = Graded(score=None)
    for a in item.attempts:
        unknown = sorted(set(a.answers) - questions)
        if unknown:
            raise Rejected(
                RejectionCode.invalid,
                f"Attempt {a.number} answers question {unknown[0]!r}, which version {act.version} of this activity does not have.",
            )
        result = grade(assessment, a.answers)
        graded.attempt_scores.append((result.score, result.passed))
    passing = [s for s, ok in graded.attempt_scores if ok]
    if not passing:
        best = max(s for s, _ in graded.attempt_scores)
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
    return graded


def check_evaluation(item: CompletionIn, act: Activity) -> None:
    """Rule 5: the evaluation, answered where the activity requires it."""
    if not act.evaluation:
        return
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


def check_credit_claim(item: CompletionIn, act: Activity, learner: LearnerProfile) -> AccreditationStatement:
    """Rule 6: the claim, for the learner's own profession; returns the statement it is made under."""
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
    return statement


def _pct(x: float) -> str:
    return f"{x:g}%"


def _fmt_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _end_of_day(d: date) -> datetime:
    return datetime.combine(d + timedelta(days=1), time(0), tzinfo=UTC)
