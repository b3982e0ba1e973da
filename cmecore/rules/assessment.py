"""Rule 4 (the post-test): option order, grading, attempts policy, the participation gate.

Pure: no SQL, no Qt, no HTTP. Grading is the server's (creditserver/completions/judging.py,
`judge`): a question is right when the set of chosen options equals the set of correct
ones; the score is right / questions x 100 rounded to 2 places; an attempt passes at
score >= passing_score. The client's grade is provisional; the server re-grades and its
answer is final.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cmecore.protocol import Assessment

_EPS = 1e-9  # the server's tolerance


def option_order(assessment: Assessment, attempt_id: str) -> dict[str, list[str]]:
    """question id -> option ids in the order this attempt shows them.

    Catalog order unless the activity says `shuffle_options`; then a shuffle that depends
    only on the attempt id and the question (so a resumed attempt shows the same order on
    any machine, and each new attempt a different one).
    """
    out: dict[str, list[str]] = {}
    for q in assessment.questions:
        ids = [o.id for o in q.options]
        if assessment.shuffle_options:
            ids.sort(key=lambda oid: hashlib.sha256(f"{attempt_id}\x00{q.id}\x00{oid}".encode()).digest())
        out[q.id] = ids
    return out


@dataclass(frozen=True)
class QuestionGrade:
    question_id: str
    chosen: tuple[str, ...]
    correct: tuple[str, ...]
    right: bool
    rationale: str


@dataclass(frozen=True)
class Grade:
    score: float  # percent, 2 decimals
    passed: bool
    questions: tuple[QuestionGrade, ...]


def score_of(right: int, total: int) -> float:
    return round(100.0 * right / total, 2) if total else 0.0


def passes(score: float, passing_score: float) -> bool:
    return score + _EPS >= passing_score


def grade(assessment: Assessment, answers: Mapping[str, Iterable[str]]) -> Grade:
    """Grade `answers` (question id -> chosen option ids), all-or-nothing per question."""
    results = []
    for q in assessment.questions:
        chosen = tuple(answers.get(q.id, ()))
        right = set(chosen) == set(q.correct)
        results.append(QuestionGrade(q.id, chosen, tuple(q.correct), right, q.rationale))
    score = score_of(sum(r.right for r in results), len(results))
    return Grade(score, passes(score, assessment.passing_score), tuple(results))


class AnswerInvalid(ValueError):
    """An answer that does not fit its question (unknown question/option, two for a single)."""


def check_answer(assessment: Assessment, question_id: str, option_ids: Sequence[str]) -> list[str]:
    """The answer cleaned (duplicates dropped, catalog order); raises AnswerInvalid."""
    q = next((q for q in assessment.questions if q.id == question_id), None)
    if q is None:
        raise AnswerInvalid(f"This post-test has no question {question_id!r}.")
    known = [o.id for o in q.options]
    unknown = [o for o in option_ids if o not in known]
    if unknown:
        raise AnswerInvalid(f"Question {question_id!r} has no option {unknown[0]!r}.")
    chosen = [o for o in known if o in set(option_ids)]
    if q.kind == "single" and len(chosen) > 1:
        raise AnswerInvalid("Choose one answer for this question.")
    return chosen


def attempts_left(attempts_allowed: int | None, used: int) -> int | None:
    """None: unlimited; otherwise how many attempts remain (never below 0)."""
    if attempts_allowed is None:
        return None
    return max(0, attempts_allowed - used)


def watched_enough(watched_share: float, min_watched_share: float) -> bool:
    return watched_share + _EPS >= min_watched_share


@dataclass(frozen=True)
class Gate:
    open: bool
    reason: str  # "" when open


def assessment_gate(
    assessment: Assessment | None,
    *,
    acknowledged: bool,
    available: bool,
    availability_reason: str,
    watched_share: float,
    min_watched_share: float,
    submitted: int,
    passed: bool,
    has_open_attempt: bool = False,
) -> Gate:
    """May the learner take (or go on with) the post-test now? The reason in plain words if not.

    An open attempt may always be resumed once unlocked (its answers are kept); a new one
    needs: disclosures acknowledged (rule 1), the activity available (rule 3), enough of
    the video watched, not passed yet, and attempts left (rule 4).
    """
    if assessment is None:
        return Gate(False, "This activity has no post-test.")
    if not acknowledged:
        return Gate(False, "Read and acknowledge the disclosures on the Overview tab first.")
    if not available:
        return Gate(False, availability_reason)
    if not watched_enough(watched_share, min_watched_share):
        return Gate(
            False,
            f"Watch at least {min_watched_share * 100:.0f}% of the video to unlock the post-test "
            f"(so far {watched_share * 100:.0f}%).",
        )
    if has_open_attempt:
        return Gate(True, "")
    if passed:
        return Gate(False, "You have passed the post-test.")
    left = attempts_left(assessment.attempts_allowed, submitted)
    if left == 0:
        n = assessment.attempts_allowed
        return Gate(False, f"You have used all {n} attempt{'s' if n != 1 else ''} this activity allows.")
    return Gate(True, "")
