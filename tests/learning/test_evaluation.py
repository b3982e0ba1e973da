"""DOMAIN rule 5 (evaluation): required questions, ratings in range, up to three
commitments to change, an optional reminder; the server's checks, before sending."""

from __future__ import annotations

import pytest

from cmecore.rules.evaluation import EvaluationInvalid, check_complete, clean, missing


def test_rule5_required_questions_and_rating_range(demo):
    q = demo.evaluation
    draft = clean(q, {"e1": 5}, {}, [], None)
    assert missing(q, draft) == ["e2"]
    with pytest.raises(EvaluationInvalid, match="Answer the required question"):
        check_complete(q, draft)
    done = clean(q, {"e1": 5, "e2": 1}, {"e4": "  More on deprescribing.  "}, [], None)
    check_complete(q, done)
    assert done.texts == {"e4": "More on deprescribing."}
    with pytest.raises(EvaluationInvalid, match="1 to 5"):
        clean(q, {"e1": 6}, {}, [], None)
    with pytest.raises(EvaluationInvalid, match="no rating question"):
        clean(q, {"e9": 3}, {}, [], None)
    with pytest.raises(EvaluationInvalid, match="no text question"):
        clean(q, {}, {"e1": "text for a rating"}, [], None)


def test_rule5_at_most_three_commitments_sane_lengths_and_reminder(demo):
    q = demo.evaluation
    ok = clean(q, {}, {}, ["Ask for a 7-day log", " ", "Recheck sodium", "Teach cuff sizing"][:4], 6)
    assert ok.commitments == ["Ask for a 7-day log", "Recheck sodium", "Teach cuff sizing"]  # blanks dropped
    assert ok.reminder_weeks == 6
    with pytest.raises(EvaluationInvalid, match="at most 3"):
        clean(q, {}, {}, ["a", "b", "c", "d"], None)
    with pytest.raises(EvaluationInvalid, match="2,000"):
        clean(q, {}, {}, ["x" * 2001], None)
    with pytest.raises(EvaluationInvalid, match="too long"):
        clean(q, {}, {"e4": "x" * 20_001}, [], None)
    with pytest.raises(EvaluationInvalid, match="1 to 52"):
        clean(q, {}, {}, [], 53)
    no_commitment_question = [x for x in q if x.kind != "commitment"]
    with pytest.raises(EvaluationInvalid, match="does not ask"):
        clean(no_commitment_question, {}, {}, ["a"], None)
