"""Rule 5 (the evaluation): tied to the learner, up to three commitment-to-change statements.

Pure: no SQL, no Qt, no HTTP. The checks are the server's (creditserver/completions/judging.py,
`judge`) plus the protocol's limits (`EvaluationResponse`), so an evaluation that passes
here is not refused there: required questions answered, ratings within 1..scale, no
unknown question, at most 3 commitments of 1-2,000 characters, texts up to 20,000
characters, a reminder 1-52 weeks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cmecore.protocol import EvaluationQuestion

MAX_COMMITMENTS = 3
MAX_COMMITMENT_CHARS = 2000
MAX_TEXT_CHARS = 20_000


class EvaluationInvalid(ValueError):
    """The evaluation breaks rule 5 (or the protocol's limits); the message says how."""


@dataclass(frozen=True)
class CleanEvaluation:
    ratings: dict[str, int]
    texts: dict[str, str]
    commitments: list[str]
    reminder_weeks: int | None


def clean(
    questions: Sequence[EvaluationQuestion],
    ratings: Mapping[str, int],
    texts: Mapping[str, str],
    commitments: Sequence[str],
    reminder_weeks: int | None,
) -> CleanEvaluation:
    """Check what is given (a draft may be incomplete) and trim it; raises EvaluationInvalid."""
    by_id = {q.id: q for q in questions}
    out_ratings: dict[str, int] = {}
    for qid, value in ratings.items():
        q = by_id.get(qid)
        if q is None or q.kind != "rating":
            raise EvaluationInvalid(f"The evaluation has no rating question {qid!r}.")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= q.scale:
            raise EvaluationInvalid(f"Evaluation question {qid!r} takes a rating from 1 to {q.scale}.")
        out_ratings[qid] = value
    out_texts: dict[str, str] = {}
    for qid, text in texts.items():
        q = by_id.get(qid)
        if q is None or q.kind == "rating":
            raise EvaluationInvalid(f"The evaluation has no text question {qid!r}.")
        text = (text or "").strip()
        if len(text) > MAX_TEXT_CHARS:
            raise EvaluationInvalid(f"The answer to {qid!r} is too long (at most {MAX_TEXT_CHARS:,} characters).")
        if text:
            out_texts[qid] = text
    out_commitments = [c.strip() for c in commitments if c and c.strip()]
    if len(out_commitments) > MAX_COMMITMENTS:
        raise EvaluationInvalid(f"Write at most {MAX_COMMITMENTS} commitments to change.")
    for c in out_commitments:
        if len(c) > MAX_COMMITMENT_CHARS:
            raise EvaluationInvalid(f"A commitment to change may be at most {MAX_COMMITMENT_CHARS:,} characters.")
    if out_commitments and not any(q.kind == "commitment" for q in questions):
        raise EvaluationInvalid("This evaluation does not ask for commitments to change.")
    if reminder_weeks is not None and (isinstance(reminder_weeks, bool) or not 1 <= int(reminder_weeks) <= 52):
        raise EvaluationInvalid("A reminder can be set 1 to 52 weeks ahead.")
    return CleanEvaluation(out_ratings, out_texts, out_commitments, int(reminder_weeks) if reminder_weeks else None)


def missing(questions: Sequence[EvaluationQuestion], ev: CleanEvaluation) -> list[str]:
    """Ids of required questions not answered yet (the server refuses such an evaluation)."""
    out = []
    for q in questions:
        if not q.required:
            continue
        if q.kind == "rating" and q.id not in ev.ratings:
            out.append(q.id)
        elif q.kind == "text" and not ev.texts.get(q.id):
            out.append(q.id)
        elif q.kind == "commitment" and not (ev.commitments or ev.texts.get(q.id)):
            out.append(q.id)
    return out


def check_complete(questions: Sequence[EvaluationQuestion], ev: CleanEvaluation) -> None:
    """Raise EvaluationInvalid naming the first required question left unanswered."""
    gaps = missing(questions, ev)
    if gaps:
        q = next(q for q in questions if q.id == gaps[0])
        if q.kind == "commitment":
            raise EvaluationInvalid("At least one commitment to change is required.")
        raise EvaluationInvalid(f"Answer the required question: {q.text}")


def evaluation_gate(*, acknowledged: bool, has_assessment: bool, passed: bool,
                    opens: str = "after_test") -> tuple[bool, str]:
    """(open, why not): the evaluation is of the whole activity, so it opens once the
    post-test is passed — at once when the activity has no post-test, or when the activity
    says it opens at any time (`opens="any_time"`). The server takes the evaluation only
    with a claim, which needs the pass anyway (rule 4)."""
    if not acknowledged:
        return False, "Read and acknowledge the disclosures on the Overview tab first."
    if has_assessment and not passed and opens != "any_time":
        return False, "The evaluation opens once you have passed the post-test."
    return True, ""
