"""Where a learner stands in one activity: rules 1, 3, 4, 5, 6 put together. Pure.

`learning_state` takes what the cache holds (an activity's rules and the learner's
records) plus the server-corrected time, and returns the `LearningState` the GUI shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from cmecore.rules import assessment as asm
from cmecore.rules import claims
from cmecore.rules.availability import availability
from cmecore.rules.evaluation import evaluation_gate
from desktop.learning.records import AttemptSummary, CompletionInfo, LearningState
from cmecore.protocol import AccreditationStatement, Assessment, EvaluationQuestion


@dataclass(frozen=True)
class ActivityRules:
    id: str
    version: int
    title: str
    release_date: date
    review_date: date | None
    termination_date: date
    assessment: Assessment | None
    evaluation: list[EvaluationQuestion]
    min_watched_share: float
    statements: list[AccreditationStatement]
    evaluation_opens: str = "after_test"  # or "any_time" (the activity says so)


@dataclass(frozen=True)
class LearnerRecords:
    profession: str
    nabp_eprofile_id: str | None
    birth_mmdd: str | None
    acknowledged_at: datetime | None
    attempts: list[AttemptSummary] = field(default_factory=list)  # oldest first
    watched_share: float = 0.0
    watched_ms: int = 0
    evaluation_submitted: bool = False
    completion: CompletionInfo | None = None  # the latest claim
    spent_ms: int = 0  # time really spent (playing, answering), measured on this computer
    profile_ids: dict = field(default_factory=dict)  # the learner's CLAIM_IDS values by field name


def passed_now(records: LearnerRecords) -> bool:
    """A submitted attempt passed on this computer, and no server re-grade says otherwise.

    When the server graded a claim as failed, the attempts it carried no longer count as
    passed here; a later passing attempt does (the learner retook the test).
    """
    c = records.completion
    refuted = c.attempts_sent if c is not None and c.passed is False else 0
    return any(a.local_passed for a in records.attempts if a.submitted_at is not None and a.number > refuted)


def server_grade_differs(records: LearnerRecords) -> bool:
    c = records.completion
    if c is None or c.passed is None:
        return False
    sent = [a for a in records.attempts if a.submitted_at is not None and a.number <= c.attempts_sent]
    if not sent:
        return False
    local_passed = any(a.local_passed for a in sent)
    if local_passed != c.passed:
        return True
    if c.server_score is None:
        return False
    first_pass = next((a.local_score for a in sent if a.local_passed), None)
    local = first_pass if first_pass is not None else max((a.local_score or 0.0) for a in sent)
    return abs((local or 0.0) - c.server_score) > 0.005


def participation_date(records: LearnerRecords) -> date | None:
    """When the learner took part: the claim's completion, else the passing attempt, else the acknowledgement."""
    if records.completion is not None and records.completion.completed_at is not None:
        return records.completion.completed_at.date()
    passed = [a.submitted_at for a in records.attempts if a.local_passed and a.submitted_at]
    if passed:
        return min(passed).date()
    return records.acknowledged_at.date() if records.acknowledged_at else None


def learning_state(rules: ActivityRules, records: LearnerRecords, now_corrected: datetime) -> LearningState:
    avail = availability(rules.release_date, rules.review_date, rules.termination_date, now_corrected)
    acknowledged = records.acknowledged_at is not None
    submitted = [a for a in records.attempts if a.submitted_at is not None]
    open_attempt = next((a for a in records.attempts if a.submitted_at is None), None)
    passed = passed_now(records)
    assessment = rules.assessment
    gate = asm.assessment_gate(
        assessment, acknowledged=acknowledged, available=avail.available, availability_reason=avail.reason,
        watched_share=records.watched_share, min_watched_share=rules.min_watched_share,
        submitted=len(submitted), passed=passed, has_open_attempt=open_attempt is not None,
    )
    left = asm.attempts_left(assessment.attempts_allowed, len(submitted)) if assessment else None
    options = claims.claim_options(
        records.profession, rules.statements, watched_ms=records.watched_ms, spent_ms=records.spent_ms,
        nabp_eprofile_id=records.nabp_eprofile_id, birth_mmdd=records.birth_mmdd,
    )
    completion = records.completion
    credited = completion is not None and completion.state == "accepted"
    can_claim, claim_code, reason = _claimable(rules, records, avail.available, avail.reason, passed, options)
    warning = claims.reporting_window_warning(
        records.profession, participation_date(records) if (passed or completion) else None,
        now_corrected.date(), credited=credited,
    )
    evaluation_open, evaluation_reason = evaluation_gate(
        acknowledged=acknowledged, has_assessment=assessment is not None, passed=passed,
        opens=rules.evaluation_opens)
    return LearningState(
        activity_id=rules.id,
        acknowledged_at=records.acknowledged_at,
        available=avail.available,
        availability_reason=avail.reason,
        watched_share=records.watched_share,
        min_watched_share=rules.min_watched_share,
        assessment_unlocked=gate.open,
        assessment_reason=gate.reason,
        attempts=list(records.attempts),
        open_attempt_id=open_attempt.id if open_attempt else None,
        attempts_left=left,
        passed=passed,
        evaluation_done=records.evaluation_submitted,
        completion=completion,
        can_claim=can_claim,
        claim_reason=reason,
        claim_code=claim_code,
        claim_options=options,
        reporting_window_warning=warning,
        has_assessment=assessment is not None,
        passing_score=assessment.passing_score if assessment else None,
        attempts_allowed=assessment.attempts_allowed if assessment else None,
        has_evaluation=bool(rules.evaluation),
        server_grade_differs=server_grade_differs(records),
        can_acknowledge=avail.available or acknowledged,
        over=avail.over,
        evaluation_open=evaluation_open,
        evaluation_reason=evaluation_reason,
        spent_ms=records.spent_ms,
        reported_ids=tuple(f.name for f in claims.reported_ids(records.profession)
                           if records.profile_ids.get(f.name)),
    )


def _claimable(
    rules: ActivityRules, records: LearnerRecords, available: bool, availability_reason: str, passed: bool,
    options: claims.ClaimOptions,
) -> tuple[bool, str, str]:
    """(can claim, the RuleError code of why not, the reason in plain words); ("", "") when it can."""
    c = records.completion
    if c is not None and c.state == "accepted":
        return False, "claim", "Credit for this activity has been awarded."
    if c is not None and c.state == "pending":
        return False, "claim", "Your claim is waiting to be sent; it goes at the next sync."
    if records.acknowledged_at is None:
        return False, "claim", "Read and acknowledge the disclosures on the Overview tab first."
    if not available:
        return False, "claim", availability_reason
    if not asm.watched_enough(records.watched_share, rules.min_watched_share):
        return False, "claim", (
            f"Watch at least {rules.min_watched_share * 100:.0f}% of the video "
            f"(so far {records.watched_share * 100:.0f}%)."
        )
    if rules.assessment is not None and not passed:
        return False, "claim", f"Pass the post-test ({rules.assessment.passing_score}% or more) first."
    if rules.evaluation and not records.evaluation_submitted:
        return False, "claim", "Complete the evaluation first."
    if options.credit_type is None:
        return False, "claim", f"This activity offers no credit for a {records.profession.replace('_', ' ')}."
    if options.missing_pharmacist_ids:
        return False, "pharmacist-ids", (
            "A pharmacist's claim needs your NABP e-Profile ID and birth date (MMDD). Add them to your "
            "profile with your provider, sync, and claim again."
        )
    return True, "", ""
