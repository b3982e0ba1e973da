"""Where a learner stands, put together from the rules (pure): rules 1, 4, 6 and the
server's verdict taking precedence over this computer's grade."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from desktop.learning.records import AttemptSummary, CompletionInfo
from desktop.learning.state import ActivityRules, LearnerRecords, learning_state

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


def rules(demo) -> ActivityRules:
    return ActivityRules(demo.id, demo.version, demo.title, demo.release_date, demo.review_date,
                         demo.termination_date, demo.assessment, list(demo.evaluation),
                         demo.participation.min_watched_share, list(demo.accreditation))


def attempt(n: int, passed: bool, when: datetime) -> AttemptSummary:
    return AttemptSummary(f"a{n}", n, when.replace(tzinfo=None), 100.0 if passed else 0.0, passed)


def test_rule4_the_servers_fail_outranks_the_local_pass_and_a_retake_counts(demo):
    acked = (NOW - timedelta(days=1)).replace(tzinfo=None)
    refuted = CompletionInfo("c1", "rejected", "The server graded your best attempt at 0%", 0.0, False, None, 0.5,
                             "AMA PRA Category 1 Credit", "not-passed", attempts_sent=1)
    records = LearnerRecords("physician", None, None, acked, [attempt(1, True, NOW)], 0.9, 54_000, True, refuted)
    state = learning_state(rules(demo), records, NOW)
    assert not state.passed and state.server_grade_differs and state.assessment_unlocked and not state.can_claim
    retaken = LearnerRecords("physician", None, None, acked, [attempt(1, True, NOW), attempt(2, True, NOW)],
                             0.9, 54_000, True, refuted)
    state = learning_state(rules(demo), retaken, NOW)
    assert state.passed and state.can_claim  # attempt 2 was never graded by the server


def test_rule1_nothing_before_the_acknowledgement(demo):
    state = learning_state(rules(demo), LearnerRecords("physician", None, None, None), NOW)
    assert not state.assessment_unlocked and not state.can_claim
    assert state.claim_reason == state.assessment_reason == "Read and acknowledge the disclosures on the Overview tab first."


def test_rule6_pharmacist_sees_the_cpe_monitor_window_from_day_30(demo):
    took_part = NOW - timedelta(days=35)
    records = LearnerRecords("pharmacist", "1234567", "0315", took_part.replace(tzinfo=None),
                             [attempt(1, True, took_part)], 0.9, 54_000, True)
    state = learning_state(rules(demo), records, NOW)
    assert state.can_claim and "within 60 days" in state.reporting_window_warning
    pending = CompletionInfo("c1", "pending", None, None, None, None, 0.5, "ACPE contact hours",
                             completed_at=took_part.replace(tzinfo=None), attempts_sent=1)
    waiting = learning_state(rules(demo), LearnerRecords(**{**records.__dict__, "completion": pending}), NOW)
    assert "within 60 days" in waiting.reporting_window_warning  # not sent yet: still warned
    accepted = CompletionInfo(**{**pending.__dict__, "state": "accepted", "passed": True})
    done = learning_state(rules(demo), LearnerRecords(**{**records.__dict__, "completion": accepted}), NOW)
    assert done.reporting_window_warning is None
