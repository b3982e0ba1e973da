"""The completion a claim sends (desktop/learning/completion.py), built without a cache or a
clock: what the server re-judges the claim by (rules 1, 4, 5, 6, 8)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cmecore import protocol
from desktop.learning.completion import build_completion
from desktop.learning.state import LearnerRecords, learning_state
from tests.learning.test_state import attempt, rules

NOW = datetime(2026, 11, 21, 12)  # naive UTC, the device clock
CORRECTED = datetime(2026, 11, 21, 12, 0, 30, tzinfo=UTC)  # the server's clock is 30 s ahead
ID = uuid.UUID("00000000-0000-4000-8000-000000000001")


def aid(n: int) -> str:
    """An attempt id (a UUID, as the cache keeps them)."""
    return f"00000000-0000-4000-8000-{n + 100:012d}"


@dataclass(frozen=True)
class Ids:
    profession: str = "physician"
    nabp_eprofile_id: str | None = None
    birth_mmdd: str | None = None
    board_id: str | None = "B-77"
    licence_state: str | None = "OH"
    licence_number: str | None = "L-123"


@dataclass(frozen=True)
class Attempt:
    id: str
    number: int
    started_at: datetime
    submitted_at: datetime | None
    local_score: float | None = None
    local_passed: bool | None = None
    answers: dict | None = None


def build(demo, learner=Ids(), attempts=(), *, acknowledged_at=NOW - timedelta(hours=1), evaluation=None,
          now=NOW, watched_share=0.9, credit_type="AMA PRA Category 1 Credit"):
    return build_completion(
        completion_id=ID, rules=rules(demo), learner=learner, credit_type=credit_type, credits=0.5,
        attested_minutes=30, reporting_consent=True, acknowledged_at=acknowledged_at, attempts=list(attempts),
        watched_share=watched_share, evaluation=evaluation, now=now, corrected_now=CORRECTED,
    )


def test_rule4_only_submitted_attempts_are_sent_with_their_times_in_utc(demo):
    start = NOW - timedelta(minutes=50)
    sent = Attempt(aid(1), 1, start, start + timedelta(minutes=5), 60.0, False, {"q1": ["a"]})
    passed = Attempt(aid(2), 2, start + timedelta(minutes=10), start + timedelta(minutes=20), 100.0, True, {"q1": ["b"]})
    still_open = Attempt(aid(3), 3, start + timedelta(minutes=30), None, answers={})
    item = build(demo, Ids(), [sent, passed, still_open])
    assert item.id == ID and item.activity_id == demo.id and item.activity_version == demo.version
    assert [(str(a.id), a.number, a.local_passed) for a in item.attempts] == [(aid(1), 1, False), (aid(2), 2, True)]
    assert item.attempts[1].submitted_at == (start + timedelta(minutes=20)).replace(tzinfo=UTC)
    assert item.completed_at == NOW.replace(tzinfo=UTC) and item.completed_at_corrected == CORRECTED
    assert item.claim.credits_claimed == 0.5 and item.claim.attested_minutes == 30 and item.claim.reporting_consent


def test_rule1_started_at_the_acknowledgement_or_the_first_attempt_whichever_came_first(demo):
    early = NOW - timedelta(days=2)
    item = build(demo, Ids(), [Attempt(aid(1), 1, early, early + timedelta(minutes=5), 100.0, True, {})],
                 acknowledged_at=NOW - timedelta(hours=1))
    assert item.started_at == early.replace(tzinfo=UTC)
    assert item.disclosures_acknowledged_at <= item.started_at <= item.completed_at


def test_a_device_clock_that_went_back_never_finishes_before_the_last_submission(demo):
    later = NOW + timedelta(hours=2)
    item = build(demo, Ids(), [Attempt(aid(1), 1, NOW, later, 100.0, True, {})], now=NOW)
    assert item.completed_at == later.replace(tzinfo=UTC)


def test_rule8_a_pharmacist_sends_the_nabp_ids_and_no_licence(demo):
    pharmacist = Ids("pharmacist", "1234567", "0315")
    item = build(demo, pharmacist, credit_type="ACPE contact hours")
    assert (item.claim.nabp_eprofile_id, item.claim.birth_mmdd) == ("1234567", "0315")
    assert item.claim.board_id is item.claim.licence_state is item.claim.licence_number is None
    physician = build(demo, Ids(nabp_eprofile_id="1234567")).claim
    assert physician.nabp_eprofile_id is None and (physician.board_id, physician.licence_number) == ("B-77", "L-123")


def test_rule5_the_evaluation_goes_as_saved_and_the_watched_share_is_capped(demo):
    saved = {"ratings": {"e1": 5}, "texts": {"e4": "More cases"}, "commitments": ["Ask for a log"],
             "reminder_weeks": 6}
    item = build(demo, evaluation=saved, watched_share=1.00004)
    assert item.evaluation.commitments == ["Ask for a log"] and item.evaluation.reminder_weeks == 6
    assert item.watched_share == 1.0
    assert build(demo).evaluation is None


def test_a_nul_pasted_into_the_evaluation_is_dropped_not_sent_for_the_server_to_refuse(demo):
    saved = {"ratings": {"e1": 5}, "texts": {"e4": "More\x00 cases"}, "commitments": ["Ask for\x00 a log"]}
    item = build(demo, evaluation=saved)
    assert item.evaluation.texts == {"e4": "More cases"} and item.evaluation.commitments == ["Ask for a log"]


def test_rule6_why_a_claim_is_refused_has_a_code_not_just_words(demo):
    acked = NOW - timedelta(days=1)
    ready = LearnerRecords("pharmacist", None, "0315", acked, [attempt(1, True, CORRECTED)], 0.9, 54_000, True)
    state = learning_state(rules(demo), ready, CORRECTED)
    assert not state.can_claim and state.claim_code == "pharmacist-ids"
    assert learning_state(rules(demo), LearnerRecords("physician", None, None, None), CORRECTED).claim_code == "claim"
    ok = LearnerRecords("physician", None, None, acked, [attempt(1, True, CORRECTED)], 0.9, 54_000, True)
    state = learning_state(rules(demo), ok, CORRECTED)
    assert state.can_claim and state.claim_code == "" and state.claim_reason == ""


def test_the_payload_is_stored_as_json_and_sent_as_it_was_built(demo):
    item = build(demo, Ids(), [Attempt(aid(1), 1, NOW, NOW, 100.0, True, {"q1": ["b"]})], evaluation={"ratings": {"e1": 4}})
    assert protocol.CompletionIn.model_validate(item.model_dump(mode="json")) == item
