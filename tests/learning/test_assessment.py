"""DOMAIN rule 4 (assessment): option order per attempt, all-or-nothing grading, passing
score, attempts policy, and the participation gate before the post-test."""

from __future__ import annotations

import pytest

from cmecore.rules.assessment import (
    AnswerInvalid,
    assessment_gate,
    attempts_left,
    check_answer,
    grade,
    option_order,
)
from tests.support.activities import CORRECT


def test_rule4_shuffle_is_deterministic_per_attempt_and_differs_between_attempts(demo):
    first = option_order(demo.assessment, "3b0c6f1e-0000-4000-8000-000000000001")
    assert first == option_order(demo.assessment, "3b0c6f1e-0000-4000-8000-000000000001")  # resumed: same
    for q in demo.assessment.questions:
        assert sorted(first[q.id]) == sorted(o.id for o in q.options)
    others = [option_order(demo.assessment, f"3b0c6f1e-0000-4000-8000-{n:012d}") for n in range(2, 8)]
    assert any(o != first for o in others)
    plain = demo.assessment.model_copy(update={"shuffle_options": False})
    assert option_order(plain, "any")["q1"] == ["a", "b", "c", "d"]  # catalog order when not shuffled


def test_rule4_grading_all_or_nothing_score_and_pass_mark(demo):
    assert demo.assessment.passing_score == 75  # shown before starting
    full = grade(demo.assessment, CORRECT)
    assert (full.score, full.passed) == (100.0, True)
    partial_multiple = {**CORRECT, "q2": ["a", "b"]}  # 2 of 3 right options: the question is wrong
    g = grade(demo.assessment, partial_multiple)
    assert g.score == 80.0 and g.passed
    q2 = next(q for q in g.questions if q.question_id == "q2")
    assert not q2.right and q2.correct == ("a", "b", "d") and "arm circumference" in q2.rationale
    two_wrong = {**CORRECT, "q1": ["a"], "q3": ["a"]}
    assert grade(demo.assessment, two_wrong).score == 60.0 and not grade(demo.assessment, two_wrong).passed
    assert grade(demo.assessment, {}).score == 0.0  # unanswered counts as wrong
    at_mark = demo.assessment.model_copy(update={"passing_score": 80})
    assert grade(at_mark, partial_multiple).passed  # score >= passing score


def test_rule4_answers_must_fit_their_question(demo):
    assert check_answer(demo.assessment, "q2", ["d", "a", "a"]) == ["a", "d"]
    with pytest.raises(AnswerInvalid, match="Choose one"):
        check_answer(demo.assessment, "q1", ["a", "b"])
    with pytest.raises(AnswerInvalid, match="no option"):
        check_answer(demo.assessment, "q1", ["z"])
    with pytest.raises(AnswerInvalid, match="no question"):
        check_answer(demo.assessment, "q9", ["a"])


def test_rule4_attempts_policy_unlimited_or_n():
    assert attempts_left(None, 12) is None
    assert attempts_left(2, 1) == 1 and attempts_left(2, 2) == 0 and attempts_left(2, 5) == 0


def test_rule4_gate_watched_share_passed_and_attempts(demo):
    base = dict(acknowledged=True, available=True, availability_reason="", min_watched_share=0.8,
                submitted=0, passed=False)
    assert "acknowledge the disclosures" in assessment_gate(demo.assessment, **{**base, "acknowledged": False},
                                                            watched_share=1.0).reason
    low = assessment_gate(demo.assessment, **base, watched_share=0.79)
    assert not low.open and "80%" in low.reason and "79%" in low.reason
    assert assessment_gate(demo.assessment, **base, watched_share=0.8).open
    assert not assessment_gate(demo.assessment, **{**base, "passed": True}, watched_share=1.0).open
    two = demo.assessment.model_copy(update={"attempts_allowed": 2})
    used = assessment_gate(two, **{**base, "submitted": 2}, watched_share=1.0)
    assert not used.open and "all 2 attempts" in used.reason
    assert assessment_gate(two, **{**base, "submitted": 2}, watched_share=1.0, has_open_attempt=True).open
    ended = assessment_gate(demo.assessment, **{**base, "available": False, "availability_reason": "Ended."},
                            watched_share=1.0)
    assert not ended.open and ended.reason == "Ended."
