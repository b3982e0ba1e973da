"""`cme-credit-server publish` refuses activities that break an accreditation or
consistency rule (issue 11, item 7), with one line naming the field and the rule, and
stores nothing; an activity that has already ended needs `--allow-expired`."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from creditserver.cli import main

from tests.support.activities import activity_doc, today

from .conftest import write_folder

ASSETS = [{"path": "talk.mp4", "title": "Talk"}, {"path": "talk.vtt", "kind": "transcript"}]


def _doc(**overrides: Any) -> dict[str, Any]:
    """The demo activity (post-test, evaluation, five statements, 80% watched) with a video."""
    return activity_doc("checked", assets=copy.deepcopy(ASSETS), **overrides)


def _publish(tmp_path, capsys, doc: dict[str, Any], *extra: str) -> tuple[int, str]:
    folder = write_folder(tmp_path / "act", doc)
    code = main(["publish", "--data-dir", str(tmp_path / "data"), "--videos-as-is", *extra, str(folder)])
    captured = capsys.readouterr()
    return code, (captured.err or captured.out).strip()


def _question(doc: dict[str, Any], i: int) -> dict[str, Any]:
    return doc["assessment"]["questions"][i]


def _statement(doc: dict[str, Any], profession: str) -> dict[str, Any]:
    return next(s for s in doc["accreditation"] if s["profession"] == profession)


def _answer_key_names_a_missing_option(doc):
    _question(doc, 0)["correct"] = ["z"]


def _two_answers_on_a_single_answer_question(doc):
    _question(doc, 0)["correct"] = ["a", "b"]


def _duplicate_question_ids(doc):
    _question(doc, 3)["id"] = _question(doc, 1)["id"]


def _duplicate_option_ids(doc):
    _question(doc, 2)["options"][1]["id"] = _question(doc, 2)["options"][0]["id"]


def _duplicate_evaluation_ids(doc):
    doc["evaluation"][2]["id"] = doc["evaluation"][0]["id"]


def _termination_before_release(doc):
    doc["termination_date"] = (today() - timedelta(days=200)).isoformat()
    doc["release_date"] = (today() - timedelta(days=100)).isoformat()


def _two_statements_for_one_profession(doc):
    doc["accreditation"].append({**_statement(doc, "physician"), "provider": "Another provider"})


def _pharmacist_hours_differ_from_credits(doc):
    _statement(doc, "pharmacist")["contact_hours"] = 1.5


def _credits_beyond_the_estimated_time(doc):
    _statement(doc, "physician")["max_credits"] = 2.0  # the activity takes 30 minutes


def _passing_score_zero(doc):
    doc["assessment"]["passing_score"] = 0


def _watch_share_without_a_video(doc):
    doc["assets"] = [a for a in doc["assets"] if a["path"] != "talk.mp4"]


@pytest.mark.parametrize(("breaks", "field", "rule"), [
    (_answer_key_names_a_missing_option, "assessment.questions.0.correct", "names option 'z', which question 'q1' does not have"),
    (_two_answers_on_a_single_answer_question, "assessment.questions.0.correct", "single-answer question has exactly one correct option"),
    (_duplicate_question_ids, "assessment.questions.3.id", "question ids must be unique"),
    (_duplicate_option_ids, "assessment.questions.2.options.1.id", "option ids must be unique"),
    (_duplicate_evaluation_ids, "evaluation.2.id", "evaluation question ids must be unique"),
    (_termination_before_release, "termination_date", "must end after it is released"),
    (_two_statements_for_one_profession, "accreditation.5.profession", "one statement per profession"),
    (_pharmacist_hours_differ_from_credits, "accreditation.4.contact_hours", "must be equal"),
    (_credits_beyond_the_estimated_time, "accreditation.0.max_credits", "more than the activity's estimated time allows"),
    (_passing_score_zero, "assessment.passing_score", "between 1 and 100"),
    (_watch_share_without_a_video, "participation.min_watched_share", "no video asset"),
])
def test_publish_refuses_a_broken_activity_naming_the_field_and_the_rule(tmp_path, capsys, breaks, field, rule):
    doc = _doc()
    breaks(doc)

    code, err = _publish(tmp_path, capsys, doc)

    assert code == 2, err
    assert err.startswith(f"cme-credit-server: activity.json: {field}: "), err
    assert rule in err and len(err.splitlines()) == 1
    media = tmp_path / "data" / "media"
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))  # nothing copied


def test_the_unbroken_activity_is_published(tmp_path, capsys):
    code, out = _publish(tmp_path, capsys, _doc())
    assert code == 0 and out.startswith("published checked version 1"), out


def test_an_ended_activity_needs_allow_expired(tmp_path, capsys):
    ended = _doc(release=today() - timedelta(days=400), termination=today() - timedelta(days=1))

    code, err = _publish(tmp_path, capsys, ended)
    assert code == 2
    assert "termination_date:" in err and "has passed" in err and "--allow-expired" in err

    code, out = _publish(tmp_path, capsys, ended, "--allow-expired")
    assert code == 0 and "published checked" in out


def test_an_activity_past_its_three_year_enduring_period_needs_allow_expired(tmp_path, capsys):
    old = _doc(release=today() - timedelta(days=4 * 365), termination=today() + timedelta(days=30))
    old.pop("review_date", None)

    code, err = _publish(tmp_path, capsys, old)
    assert code == 2 and "enduring period ended" in err

    assert _publish(tmp_path, capsys, old, "--allow-expired")[0] == 0
