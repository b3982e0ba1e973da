"""POST /completions and GET /me/completions against a real server over loopback.

Each test names the DOMAIN.md rule it checks. The server re-grades, its answer is final,
and a client UUID is an idempotency key (xAPI: a repeated id never changes the record).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from creditserver.models import Certificate, Completion, CompletionAttempt, CompletionEvaluation, CompletionRejection
from cmecore.protocol import CompletionBatchResult, MyCompletions

from tests.support.activities import CORRECT, WRONG, activity_doc, today

from .conftest import CREDIT_ACTIVITY, client_for
from .credit_support import claim_for, completion, count_rows, post, publish, publish_copies, signed_in


@pytest.fixture
def demo_auth(credit_api):
    return signed_in(credit_api, "demo")


def test_accepted_completion_is_regraded_stored_and_certified_rules_4_5_6_7(credit_server, credit_api, demo_auth):
    item = completion(CREDIT_ACTIVITY)

    r = credit_api.post("/completions", json={"completions": [item]}, headers=demo_auth)

    assert r.status_code == 200
    batch = CompletionBatchResult.model_validate_json(r.content)
    [res] = batch.results
    assert (res.status, res.passed, res.server_score, res.reason_code) == ("accepted", True, 100.0, None)
    assert str(res.id) == item["id"] and res.index == 0
    assert res.certificate_id and res.credits_awarded == 0.5 and res.credit_type == "AMA PRA Category 1 Credit"
    assert (batch.accepted, batch.duplicate, batch.rejected) == (1, 0, 0)
    # Stored: the completion, every attempt, the evaluation, the claim with its consent (rule 8).
    assert count_rows(credit_server, CompletionAttempt) == 1
    assert count_rows(credit_server, CompletionEvaluation) == 1
    mine = MyCompletions.model_validate_json(credit_api.get("/me/completions", headers=demo_auth).content)
    [c] = mine.completions
    assert str(c.id) == item["id"] and c.reporting_consent is True and c.passed is True
    assert c.certificate is not None and c.certificate.id == res.certificate_id
    assert c.certificate.credits_claimed == 0.5 and c.certificate.learner_name == "Dr. Dana Demo"


def test_identical_resubmission_is_a_duplicate_with_the_same_certificate_idempotency(credit_server, credit_api, demo_auth):
    item = completion(CREDIT_ACTIVITY)
    [first] = post(credit_api, demo_auth, item)

    [again] = post(credit_api, demo_auth, item)
    [inside_one_batch_1, inside_one_batch_2] = post(credit_api, demo_auth, item, item)

    assert first["status"] == "accepted"
    for repeat in (again, inside_one_batch_1, inside_one_batch_2):
        assert repeat["status"] == "duplicate"
        assert repeat["certificate_id"] == first["certificate_id"]
        assert (repeat["server_score"], repeat["passed"], repeat["credits_awarded"]) == (100.0, True, 0.5)
    assert count_rows(credit_server, Completion) == 1
    assert count_rows(credit_server, Certificate) == 1
    assert len(credit_api.get("/me/completions", headers=demo_auth).json()["completions"]) == 1


def test_same_time_written_differently_is_still_the_same_content(credit_api, demo_auth):
    item = completion(CREDIT_ACTIVITY)
    [first] = post(credit_api, demo_auth, item)
    respelled = {**item, "started_at": item["started_at"].replace("Z", "+00:00")}

    [again] = post(credit_api, demo_auth, respelled)

    assert again["status"] == "duplicate" and again["certificate_id"] == first["certificate_id"]


def test_conflicting_resubmission_is_refused_and_logged_idempotency(credit_server, credit_api, demo_auth):
    item = completion(CREDIT_ACTIVITY)
    [first] = post(credit_api, demo_auth, item)
    changed = {**item, "claim": claim_for("physician", credits_claimed=0.25)}

    [conflict] = post(credit_api, demo_auth, changed)

    assert conflict["status"] == "rejected"
    assert conflict["reason_code"] == "conflicting-resubmission"
    assert conflict["reason"].startswith("conflicting resubmission")
    assert conflict["certificate_id"] is None
    assert count_rows(credit_server, Completion) == 1 and count_rows(credit_server, Certificate) == 1
    with credit_server.app.state.db.session() as s:
        logged = s.query(CompletionRejection).one()
        assert (logged.completion_id, logged.reason_code) == (item["id"], "conflicting-resubmission")
    # The first record stands.
    [still] = credit_api.get("/me/completions", headers=demo_auth).json()["completions"]
    assert still["credits_awarded"] == 0.5 and still["certificate"]["id"] == first["certificate_id"]


def test_another_learner_reusing_an_id_cannot_touch_the_record(credit_server, credit_api, demo_auth):
    credit_server.add_learner("bob", "pw", profession="physician", display_name="Dr. Bob")
    item = completion(CREDIT_ACTIVITY)
    post(credit_api, demo_auth, item)

    [res] = post(credit_api, signed_in(credit_api, "bob", "pw"), item)

    assert res["status"] == "rejected" and res["reason_code"] == "conflicting-resubmission"
    assert res["certificate_id"] is None


def test_one_malformed_item_is_rejected_alone_and_names_the_field(credit_server, credit_api, demo_auth, tmp_path):
    a, b = publish_copies(credit_server, tmp_path, "batch", 2)
    good_1 = completion(a)
    bad = completion(CREDIT_ACTIVITY)
    del bad["claim"]["credits_claimed"]
    good_2 = completion(b)

    results = post(credit_api, demo_auth, good_1, bad, "not an object", {"id": "nope"}, good_2)

    assert [r["status"] for r in results] == ["accepted", "rejected", "rejected", "rejected", "accepted"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert results[1]["id"] == bad["id"] and results[1]["reason_code"] == "invalid"
    assert "claim.credits_claimed" in results[1]["reason"]
    assert results[2]["id"] is None and results[3]["id"] is None
    assert "id" in results[3]["reason"]
    assert count_rows(credit_server, Completion) == 2


def test_tampered_local_pass_with_failing_answers_gets_no_credit_rule_4(credit_server, credit_api, demo_auth):
    item = completion(CREDIT_ACTIVITY, answers=[WRONG])
    item["attempts"][0].update(local_score=100.0, local_passed=True)  # the client lies

    [res] = post(credit_api, demo_auth, item)

    assert res["status"] == "rejected" and res["reason_code"] == "not-passed"
    assert res["passed"] is False and res["server_score"] == 0.0
    assert res["certificate_id"] is None and res["credits_awarded"] is None
    assert "passing score is 75%" in res["reason"]
    assert count_rows(credit_server, Certificate) == 0
    assert credit_api.get("/me/completions", headers=demo_auth).json()["completions"] == []


def test_partial_answers_are_graded_by_the_server_key_rule_4(credit_api, demo_auth):
    three_of_five = {**CORRECT, "q4": ["a"], "q2": ["a", "b"]}  # q2 needs all three: 60%
    [res] = post(credit_api, demo_auth, completion(CREDIT_ACTIVITY, answers=[three_of_five]))
    assert (res["status"], res["server_score"], res["passed"]) == ("rejected", 60.0, False)


def test_attempts_beyond_the_activity_policy_are_refused_rule_4(credit_server, credit_api, demo_auth, tmp_path):
    doc = activity_doc("two-tries")
    doc["assessment"]["attempts_allowed"] = 2
    publish(credit_server, tmp_path, doc)

    [too_many] = post(credit_api, demo_auth, completion("two-tries", answers=[WRONG, WRONG, CORRECT]))
    [within] = post(credit_api, demo_auth, completion("two-tries", answers=[WRONG, CORRECT]))

    assert too_many["status"] == "rejected" and too_many["reason_code"] == "attempts"
    assert "allows 2 attempts" in too_many["reason"]
    assert within["status"] == "accepted" and within["server_score"] == 100.0
    assert count_rows(credit_server, CompletionAttempt) == 2  # every attempt kept


def test_attempts_must_be_numbered_in_order_rule_4(credit_api, demo_auth):
    item = completion(CREDIT_ACTIVITY, answers=[WRONG, CORRECT])
    item["attempts"][1]["number"] = 1  # an overwritten attempt
    [res] = post(credit_api, demo_auth, item)
    assert res["reason_code"] == "attempts"


def test_watched_share_below_the_participation_requirement_is_refused(credit_api, demo_auth):
    [res] = post(credit_api, demo_auth, completion(CREDIT_ACTIVITY, watched_share=0.5))
    assert res["status"] == "rejected" and res["reason_code"] == "participation"
    assert "50%" in res["reason"] and "80%" in res["reason"]


def test_disclosures_acknowledged_after_starting_are_refused_rule_1(credit_api, demo_auth):
    item = completion(CREDIT_ACTIVITY)
    started = datetime.fromisoformat(item["started_at"])
    late = {**item, "disclosures_acknowledged_at": (started + timedelta(minutes=2)).isoformat()}
    missing = {**completion(CREDIT_ACTIVITY), "disclosures_acknowledged_at": None}

    [after, none] = post(credit_api, demo_auth, late, missing)

    assert after["status"] == "rejected" and after["reason_code"] == "disclosures"
    assert "rule 1" in after["reason"]
    assert none["status"] == "rejected" and none["reason_code"] == "disclosures"


def test_missing_or_incomplete_evaluation_is_refused_rule_5(credit_api, demo_auth):
    no_eval = completion(CREDIT_ACTIVITY, evaluation=None)
    unanswered = completion(CREDIT_ACTIVITY, evaluation={"ratings": {"e1": 5}})
    off_scale = completion(CREDIT_ACTIVITY, evaluation={"ratings": {"e1": 5, "e2": 9}})
    four = completion(CREDIT_ACTIVITY, evaluation={"ratings": {"e1": 5, "e2": 5}, "commitments": ["a", "b", "c", "d"]})

    results = post(credit_api, demo_auth, no_eval, unanswered, off_scale, four)

    assert [r["reason_code"] for r in results] == ["evaluation", "evaluation", "evaluation", "invalid"]
    assert "evaluation.commitments" in results[3]["reason"]  # at most three commitments to change


def test_completed_offline_before_termination_and_synced_within_grace_is_accepted_rule_3(credit_server, credit_api, demo_auth, tmp_path):
    ended = today() - timedelta(days=10)
    publish(credit_server, tmp_path, activity_doc("ended-10-days-ago", release=ended - timedelta(days=200), termination=ended))
    done = datetime.combine(ended, datetime.min.time(), tzinfo=UTC) + timedelta(hours=20)  # the last day

    [res] = post(credit_api, demo_auth, completion("ended-10-days-ago", completed=done))

    assert res["status"] == "accepted", res["reason"]


def test_completion_synced_beyond_the_grace_is_refused_rule_3(credit_server, credit_api, demo_auth, tmp_path):
    ended = today() - timedelta(days=40)
    publish(credit_server, tmp_path, activity_doc("ended-40-days-ago", release=ended - timedelta(days=200), termination=ended))
    done = datetime.combine(ended, datetime.min.time(), tzinfo=UTC) - timedelta(days=1)

    [res] = post(credit_api, demo_auth, completion("ended-40-days-ago", completed=done))

    assert res["status"] == "rejected" and res["reason_code"] == "grace-expired"


def test_the_grace_is_a_server_setting_rule_3(start_server, tmp_path):
    ended = today() - timedelta(days=40)
    server = start_server(completion_grace_days=60)
    with client_for(server) as api:
        publish(server, tmp_path, activity_doc("ended", release=ended - timedelta(days=200), termination=ended))
        done = datetime.combine(ended, datetime.min.time(), tzinfo=UTC) - timedelta(days=1)
        [res] = post(api, signed_in(api, "demo"), completion("ended", completed=done))
    assert res["status"] == "accepted"


def test_completed_after_termination_is_refused_rule_3(credit_server, credit_api, demo_auth, tmp_path):
    ended = today() - timedelta(days=10)
    publish(credit_server, tmp_path, activity_doc("ended", release=ended - timedelta(days=200), termination=ended))

    [res] = post(credit_api, demo_auth, completion("ended", completed=datetime.now(UTC) - timedelta(days=2)))

    assert res["status"] == "rejected" and res["reason_code"] == "terminated"


def test_not_before_release_and_not_more_than_three_years_past_review_rule_3(credit_server, credit_api, demo_auth, tmp_path):
    publish(credit_server, tmp_path, activity_doc("future", release=today() + timedelta(days=5)))
    old = today() - timedelta(days=4 * 365)
    publish(credit_server, tmp_path, activity_doc("stale", release=old, termination=today() + timedelta(days=100)))
    publish(credit_server, tmp_path, activity_doc(
        "reviewed", release=old, review=today() - timedelta(days=30), termination=today() + timedelta(days=100)))

    future, stale, reviewed = post(credit_api, demo_auth, completion("future"), completion("stale"), completion("reviewed"))

    assert future["reason_code"] == "not-released"
    assert stale["reason_code"] == "terminated" and "3 years" in stale["reason"]
    assert reviewed["status"] == "accepted"


def test_completion_time_in_the_future_is_refused_rule_3(credit_api, demo_auth):
    [res] = post(credit_api, demo_auth, completion(CREDIT_ACTIVITY, completed=datetime.now(UTC) + timedelta(days=2)))
    assert res["reason_code"] == "clock"


def test_physician_claims_in_quarter_steps_up_to_the_maximum_with_attested_time_rule_6(credit_server, credit_api, demo_auth, tmp_path):
    ids = publish_copies(credit_server, tmp_path, "claims", 6)
    items = [
        completion(ids[0], claim=claim_for("physician", credits_claimed=0.3)),
        completion(ids[1], claim=claim_for("physician", credits_claimed=0.75)),
        completion(ids[2], claim=claim_for("physician", attested_minutes=None)),
        completion(ids[3], claim=claim_for("physician", credits_claimed=0.5, attested_minutes=15)),
        completion(ids[4], claim=claim_for("physician", credit_type="ACPE contact hours")),
        completion(ids[5], claim=claim_for("physician", credits_claimed=0.25, attested_minutes=15)),
    ]

    results = post(credit_api, demo_auth, *items)

    assert [r["reason_code"] for r in results] == ["claim", "claim", "claim", "claim", "claim", None]
    assert "steps of 0.25" in results[0]["reason"]
    assert "maximum of 0.5" in results[1]["reason"]
    assert "minutes" in results[2]["reason"]
    assert "supports at most 0.25" in results[3]["reason"]
    assert results[5]["status"] == "accepted" and results[5]["credits_awarded"] == 0.25  # claimed, not the maximum


def test_a_claim_for_another_profession_is_refused_rule_6(credit_api, demo_auth):
    [res] = post(credit_api, demo_auth, completion(CREDIT_ACTIVITY, profession="pharmacist"))
    assert res["reason_code"] == "claim" and "profile says physician" in res["reason"]


def test_pharmacist_claim_without_nabp_eprofile_id_is_refused_then_accepted_with_it_rule_6(credit_api):
    auth = signed_in(credit_api, "pharm")
    without = completion(CREDIT_ACTIVITY, claim=claim_for("pharmacist", nabp_eprofile_id=None))
    no_birth = completion(CREDIT_ACTIVITY, claim=claim_for("pharmacist", birth_mmdd=None))

    refused = post(credit_api, auth, without, no_birth)
    # A rejected item leaves no record: the same id, fixed, is accepted.
    fixed = {**without, "claim": claim_for("pharmacist")}
    [accepted] = post(credit_api, auth, fixed)

    assert [r["reason_code"] for r in refused] == ["pharmacist-ids", "pharmacist-ids"]
    assert "NABP e-Profile ID" in refused[0]["reason"]
    assert accepted["status"] == "accepted" and accepted["credit_type"] == "ACPE contact hours"
    assert accepted["credits_awarded"] == 0.5


def test_nurse_gets_a_statement_of_participation_rule_6(credit_server, credit_api):
    credit_server.add_learner("nina", "pw", profession="nurse", display_name="Nina Nurse, RN")
    auth = signed_in(credit_api, "nina", "pw")
    [res] = post(credit_api, auth, completion(CREDIT_ACTIVITY, profession="nurse"))
    assert res["status"] == "accepted" and res["credit_type"] == "Participation"
    [mine] = credit_api.get("/me/completions", headers=auth).json()["completions"]
    assert mine["reporting_consent"] is False and mine["certificate"]["contact_hours"] == 0.5


def test_credit_is_given_once_per_activity_even_from_two_devices(credit_server, credit_api, demo_auth):
    [first] = post(credit_api, demo_auth, completion(CREDIT_ACTIVITY))
    [second] = post(credit_api, demo_auth, completion(CREDIT_ACTIVITY))  # another UUID: the other PC
    assert first["status"] == "accepted"
    assert second["status"] == "rejected" and second["reason_code"] == "already-credited"
    assert count_rows(credit_server, Certificate) == 1


def test_withdrawn_unknown_and_old_versions(credit_server, credit_api, demo_auth, tmp_path):
    publish(credit_server, tmp_path, activity_doc("gone"))
    credit_server.withdraw("gone")
    # Version 2 changes the answer key for q1; a learner who took version 1 is graded by version 1's key.
    doc = activity_doc("changing")
    publish(credit_server, tmp_path, doc)
    doc["assessment"]["questions"][0]["correct"] = ["a"]
    assert publish(credit_server, tmp_path, doc) == 2

    gone, nowhere, unknown_version, v1 = post(
        credit_api, demo_auth,
        completion("gone"), completion("nowhere"), completion("changing", version=7), completion("changing", version=1),
    )

    assert gone["reason_code"] == "withdrawn" and "withdrawn" in gone["reason"]
    assert nowhere["reason_code"] == "unknown-activity"
    assert unknown_version["reason_code"] == "unknown-version"
    assert v1["status"] == "accepted" and v1["server_score"] == 100.0


def test_the_batch_needs_sign_in_and_at_most_500_items(credit_api, demo_auth):
    assert credit_api.post("/completions", json={"completions": [completion(CREDIT_ACTIVITY)]}).status_code == 401
    r = credit_api.post("/completions", json={"completions": [{}] * 501}, headers=demo_auth)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert credit_api.post("/completions", json={"completions": []}, headers=demo_auth).status_code == 422
    assert credit_api.post("/completions", json=[completion(CREDIT_ACTIVITY)], headers=demo_auth).status_code == 422


def test_a_data_dir_from_before_completions_still_starts_and_grades_the_current_version(start_server, tmp_path):
    """Such a database (no alembic_version: from before migrations) is upgraded at start by
    the first migration, which adds the tables it lacks and leaves the others untouched; a
    version published before version history existed is read from the activities table."""
    server = start_server()
    publish(server, tmp_path, activity_doc("old-one"))
    server.stop()
    with server.app.state.db.engine.begin() as conn:  # SQLite or PostgreSQL, as the suite runs
        for table in ("xapi_outbox", "certificates", "completion_attempts", "completion_evaluations", "completion_rejections",
                      "completions", "activity_versions", "alembic_version"):
            conn.execute(text(f"DROP TABLE {table}"))
    server.app.state.db.dispose()
    (server.data_dir / "signing-key.pem").unlink()

    with client_for(start_server(again=server)) as api:
        [res] = post(api, signed_in(api, "demo"), completion("old-one"))
    assert res["status"] == "accepted"


def test_two_devices_racing_with_the_same_batch_credit_once_idempotency(credit_server, credit_api, demo_auth, tmp_path):
    import threading

    ids = publish_copies(credit_server, tmp_path, "race", 20)
    items = [completion(a) for a in ids]
    barrier = threading.Barrier(2)
    answers: list[list[dict]] = []

    def deliver() -> None:
        with client_for(credit_server) as api:
            barrier.wait()
            answers.append(post(api, demo_auth, *items))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(answers) == 2
    for first, second in zip(*answers, strict=True):
        assert sorted([first["status"], second["status"]]) == ["accepted", "duplicate"]
        assert first["certificate_id"] == second["certificate_id"]
    assert count_rows(credit_server, Certificate) == 20
