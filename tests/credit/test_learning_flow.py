"""The learner's path to credit on this computer, offline after the first sync: disclosures,
watching, the post-test, the evaluation and the claim, each step held to its DOMAIN rule."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest

from desktop.errors import ContentLocked, RuleError
from desktop.errors import NotSignedIn
from tests.credit.conftest import ROOT, claim, evaluate, ready_to_claim, take_test, watch
from tests.server.credit_support import publish
from tests.support.activities import CORRECT, DEMO_ID, WRONG, activity_doc, today


def test_rule1_content_stays_locked_until_the_disclosures_are_acknowledged(learner):
    learner.enqueue_downloads([DEMO_ID])
    assert learner.run_downloads().ok
    for read in (learner.media_file, learner.transcript, learner.summaries):
        with pytest.raises(ContentLocked, match="Read and acknowledge the disclosures on the Overview tab first."):
            read(DEMO_ID)
    state = learner.learning_state(DEMO_ID)
    assert state.acknowledged_at is None and not state.assessment_unlocked and not state.can_claim

    at = learner.acknowledge_disclosures(DEMO_ID)
    assert learner.acknowledge_disclosures(DEMO_ID) == at  # idempotent: the first time stands
    assert learner.learning_state(DEMO_ID).acknowledged_at == at
    assert learner.media_file(DEMO_ID).is_file()
    assert learner.transcript(DEMO_ID).cues and len(learner.summaries(DEMO_ID)) == 2
    assert learner.media_file("no-such-activity") is None

    learner.sign_out()
    with pytest.raises(NotSignedIn):
        learner.media_file(DEMO_ID)
    with pytest.raises(NotSignedIn):
        learner.learning_state(DEMO_ID)


def test_rule1_a_new_version_asks_for_the_disclosures_again(server, learner, tmp_path):
    doc = activity_doc("versioned-activity")
    publish(server, tmp_path, doc)
    learner.sync()
    first = learner.acknowledge_disclosures("versioned-activity")
    assert learner.summaries("versioned-activity") == []  # unlocked (this copy has no media)

    doc["disclosures"] = doc["disclosures"] + [
        {"person": "A new planner", "role": "planner", "company": "Newco Pharma", "nature": "advisory board",
         "mitigated": True}
    ]
    assert publish(server, tmp_path, doc) == 2
    learner.sync()
    assert learner.activity_detail("versioned-activity").version == 2
    with pytest.raises(ContentLocked):  # the new relationship must be seen before the content
        learner.summaries("versioned-activity")
    assert learner.learning_state("versioned-activity").acknowledged_at is None

    again = learner.acknowledge_disclosures("versioned-activity")
    assert again >= first and learner.acknowledge_disclosures("versioned-activity") == again
    assert learner.summaries("versioned-activity") == []


def test_rule3_an_ended_activity_can_be_read_but_not_started_or_claimed(server, learner, tmp_path):
    doc = activity_doc("ended-activity", release=today() - timedelta(days=400), termination=today() - timedelta(days=1))
    publish(server, tmp_path, doc)
    learner.sync()
    assert learner.activity_detail("ended-activity").disclosures  # the front matter is still there to read
    state = learner.learning_state("ended-activity")
    assert not state.available and "ended on" in state.availability_reason and not state.can_acknowledge
    with pytest.raises(RuleError, match="can no longer be started") as err:
        learner.acknowledge_disclosures("ended-activity")
    assert err.value.code == "availability"
    with pytest.raises(ContentLocked):
        learner.summaries("ended-activity")
    with pytest.raises(RuleError):
        learner.claim_credit("ended-activity", 0.5, 30, True)


def test_rule4_post_test_unlocks_at_80_percent_watched(learner):
    learner.acknowledge_disclosures(DEMO_ID)
    watch(learner, 0.5)
    state = learner.learning_state(DEMO_ID)
    assert state.passing_score == 75 and state.attempts_allowed is None  # shown before starting
    assert not state.assessment_unlocked and "80%" in state.assessment_reason and "50%" in state.assessment_reason
    with pytest.raises(RuleError, match="80%"):
        learner.start_attempt(DEMO_ID)
    watch(learner, 0.8)
    state = learner.learning_state(DEMO_ID)
    assert state.watched_share == pytest.approx(0.8) and state.assessment_unlocked


def test_rule4_fail_then_pass_every_attempt_kept_with_feedback(learner):
    learner.acknowledge_disclosures(DEMO_ID)
    watch(learner, 0.9)
    first = learner.start_attempt(DEMO_ID)
    assert first.number == 1 and first.passing_score == 75 and len(first.questions) == 5
    assert learner.start_attempt(DEMO_ID).id == first.id  # resumes the open attempt
    for qid, options in WRONG.items():
        learner.save_answer(first.id, qid, options)
    failed = learner.submit_attempt(first.id)
    assert (failed.score, failed.passed) == (0.0, False)
    q1 = next(q for q in failed.questions if q.question_id == "q1")
    assert q1.correct == ["b"] and not q1.right and "white-coat" in q1.rationale  # rationale after submission
    assert learner.submit_attempt(first.id).score == 0.0  # submitting again changes nothing

    second = learner.start_attempt(DEMO_ID)
    assert second.number == 2 and second.id != first.id
    orders = [[o for o, _ in q.options] for q in first.questions], [[o for o, _ in q.options] for q in second.questions]
    assert orders[0] != orders[1]  # shuffled per attempt
    passed = take_test(learner, CORRECT)
    assert passed.passed and passed.score == 100.0
    with pytest.raises(RuleError):
        learner.save_answer(first.id, "q1", ["b"])  # a submitted attempt never changes

    state = learner.learning_state(DEMO_ID)
    assert [(a.number, a.local_passed) for a in state.attempts] == [(1, False), (2, True)]
    assert state.passed and not state.assessment_unlocked and state.open_attempt_id is None
    with pytest.raises(RuleError, match="passed"):
        learner.start_attempt(DEMO_ID)


def test_rule4_attempts_policy_of_two(server, learner, tmp_path):
    doc = activity_doc("two-tries", assessment={**activity_doc("x")["assessment"], "attempts_allowed": 2})
    publish(server, tmp_path, doc)
    learner.sync()
    learner.acknowledge_disclosures("two-tries")
    watch(learner, 1.0, "two-tries")
    take_test(learner, WRONG, "two-tries")
    assert learner.learning_state("two-tries").attempts_left == 1
    result = take_test(learner, WRONG, "two-tries")
    assert result.attempts_left == 0
    state = learner.learning_state("two-tries")
    assert not state.assessment_unlocked and "all 2 attempts" in state.assessment_reason
    with pytest.raises(RuleError, match="all 2 attempts"):
        learner.start_attempt("two-tries")


def test_rule4_answers_are_on_disk_at_once_sigkill_mid_test_loses_nothing(server, learner, data_dir):
    learner.acknowledge_disclosures(DEMO_ID)
    watch(learner, 0.9)
    learner.close()
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from desktop.config import Paths
        from desktop.services import Services
        s = Services(Paths(Path({str(data_dir)!r})), server_url={server.url!r})
        view = s.start_attempt({DEMO_ID!r})
        for qid in ("q1", "q2", "q3"):
            s.save_answer(view.id, qid, {CORRECT!r}[qid], current_question=3)
        print("READY", view.id, flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        line = proc.stdout.readline().split()
        assert line[0] == "READY"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    from desktop.config import Paths
    from desktop.services import Services

    again = Services(Paths(data_dir), server_url=server.url)
    try:
        resumed = again.start_attempt(DEMO_ID)
        assert resumed.id == line[1] and resumed.number == 1 and resumed.current_question == 3
        assert resumed.answers == {q: CORRECT[q] for q in ("q1", "q2", "q3")}
    finally:
        again.close()


def test_rule4_attempt_and_outbox_writes_are_fsynced_the_rest_stays_normal(learner):
    with learner.db.durable() as s:
        assert s.connection().exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    with learner.db.write() as s:
        assert s.connection().exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_rule5_evaluation_required_questions_and_commitments(learner):
    learner.acknowledge_disclosures(DEMO_ID)
    draft = learner.save_evaluation(DEMO_ID, {"e1": 4}, {}, ["Teach cuff sizing"])
    assert draft.missing == ["e2"] and draft.submitted_at is None
    assert learner.evaluation(DEMO_ID).ratings == {"e1": 4}  # a draft is kept
    with pytest.raises(RuleError, match="required question") as err:
        learner.save_evaluation(DEMO_ID, {"e1": 4}, {}, [], submit=True)
    assert err.value.code == "evaluation"
    with pytest.raises(RuleError, match="at most 3"):
        learner.save_evaluation(DEMO_ID, {"e1": 4, "e2": 5}, {}, ["a", "b", "c", "d"], submit=True)
    done = evaluate(learner)
    assert done.submitted_at is not None and done.reminder_weeks == 6
    assert learner.learning_state(DEMO_ID).evaluation_done


def test_rule6_claim_needs_every_step_and_physicians_claim_quarter_steps(learner):
    learner.acknowledge_disclosures(DEMO_ID)
    watch(learner, 0.9)
    state = learner.learning_state(DEMO_ID)
    assert not state.can_claim and "Pass the post-test" in state.claim_reason
    take_test(learner, CORRECT)
    assert "evaluation" in learner.learning_state(DEMO_ID).claim_reason
    evaluate(learner)
    state = learner.learning_state(DEMO_ID)
    assert state.can_claim and state.claim_options.step == 0.25 and state.claim_options.choices == (0.25, 0.5)
    assert state.claim_options.suggested_minutes == 1  # 90% of the one-minute demo video
    for credits, minutes, words in [(0.3, 30, "steps of 0.25"), (0.75, 60, "maximum"),
                                    (0.5, 20, "supports at most 0.25")]:
        with pytest.raises(RuleError, match=words) as err:
            learner.claim_credit(DEMO_ID, credits, minutes, True)
        assert err.value.code == "claim"
    assert learner.pending_completions_count() == 0  # nothing written for a refused claim

    info = learner.claim_credit(DEMO_ID, 0.25, 20, False)
    assert info.state == "pending" and info.credits_claimed == 0.25 and info.attempts_sent == 1
    with pytest.raises(RuleError, match="waiting to be sent"):
        learner.claim_credit(DEMO_ID, 0.25, 20, False)
    state = learner.learning_state(DEMO_ID)
    assert state.completion.id == info.id and not state.can_claim and "next sync" in state.claim_reason
    assert learner.pending_completions_count() == learner.pending_completions_count(learner_only=True) == 1


def test_rule6_claim_payload_is_the_protocol_completion_with_every_attempt(learner):
    from cmecore import protocol
    from tests.credit.conftest import sql

    learner.acknowledge_disclosures(DEMO_ID)
    watch(learner, 0.9)
    take_test(learner, WRONG)
    take_test(learner, CORRECT)
    evaluate(learner)
    info = learner.claim_credit(DEMO_ID, 0.5, 30, True)
    (payload,) = sql(learner, "SELECT payload FROM completions WHERE id = ?", info.id)
    (outbox,) = sql(learner, "SELECT count(*) FROM outbox WHERE completion_id = ?", info.id)
    assert outbox == (1,)
    item = protocol.CompletionIn.model_validate_json(payload[0])
    assert str(item.id) == info.id and item.activity_id == DEMO_ID
    assert [a.number for a in item.attempts] == [1, 2] and [a.local_passed for a in item.attempts] == [False, True]
    assert item.disclosures_acknowledged_at <= item.started_at <= item.completed_at
    assert item.watched_share == pytest.approx(0.9)
    assert item.evaluation.commitments == ["Ask for a 7-day home log"]
    assert item.claim.reporting_consent is True and item.claim.attested_minutes == 30  # rule 8, per claim
    assert abs((item.completed_at_corrected - item.completed_at).total_seconds()) < 5


def test_rule6_pharmacist_without_nabp_id_is_refused_locally(server, make_services):
    server.add_learner("pharm2", "pw", profession="pharmacist", display_name="P. Harm", birth_mmdd="0315")
    services = make_services(server.url)
    services.sign_in("pharm2", "pw")
    services.sync()
    ready_to_claim(services)
    state = services.learning_state(DEMO_ID)
    assert state.claim_options.needs_pharmacist_ids and state.claim_options.missing_pharmacist_ids
    assert state.claim_options.fixed_contact_hours == 0.5
    assert not state.can_claim and "NABP e-Profile ID" in state.claim_reason
    with pytest.raises(RuleError, match="NABP e-Profile ID") as err:
        services.claim_credit(DEMO_ID, 0.5, None, True)
    assert err.value.code == "pharmacist-ids"
    assert services.pending_completions_count() == 0


def test_rule6_pharmacist_with_ids_claims_contact_hours(server, make_services):
    services = make_services(server.url)
    services.sign_in("pharm", "demo")  # the demo pharmacist has an NABP e-Profile ID and birth MMDD
    services.sync()
    ready_to_claim(services)
    with pytest.raises(RuleError, match="claim exactly 0.5"):
        services.claim_credit(DEMO_ID, 0.25, None, True)
    info = services.claim_credit(DEMO_ID, 0.5, None, True)
    assert info.credit_type == "ACPE contact hours"
    assert services.learning_state(DEMO_ID).reporting_window_warning is None  # day 0 of 60
    report = services.sync().completions
    assert report.accepted == 1
    assert services.learning_state(DEMO_ID).completion.state == "accepted"


def test_rule6_time_spent_is_stored_per_learner_and_prefills_the_claim(learner):
    learner.acknowledge_disclosures(DEMO_ID)
    watch(learner, 0.9)  # 54 s of the one-minute video watched
    assert learner.learning_state(DEMO_ID).claim_options.suggested_minutes == 1  # nothing measured yet
    assert learner.add_time_spent(DEMO_ID, 10 * 60_000) == 10 * 60_000
    assert learner.add_time_spent(DEMO_ID, 4 * 60_000 + 20_000) == 14 * 60_000 + 20_000
    state = learner.learning_state(DEMO_ID)
    assert state.spent_ms == 14 * 60_000 + 20_000 and state.claim_options.suggested_minutes == 14
    # time measured for a learner who is no longer current is not stored for the new one
    assert learner.add_time_spent(DEMO_ID, 60_000, learner_id="someone-else") == 0
    assert learner.learning_state(DEMO_ID).spent_ms == 14 * 60_000 + 20_000


def test_rule5_the_evaluation_opens_once_the_post_test_is_passed(learner):
    learner.acknowledge_disclosures(DEMO_ID)
    state = learner.learning_state(DEMO_ID)
    assert not state.evaluation_open and "passed the post-test" in state.evaluation_reason
    watch(learner, 0.9)
    take_test(learner, CORRECT)
    assert learner.learning_state(DEMO_ID).evaluation_open


def test_rule5_a_commitment_reminder_comes_due_is_announced_once_and_can_be_marked_done(learner):
    from datetime import datetime, timezone

    assert learner.due_reminders() == []
    ready_to_claim(learner)  # the evaluation asks for a reminder in 6 weeks
    reminder = learner.commitment_reminder(DEMO_ID)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    assert reminder.commitments == ("Ask for a 7-day home log",)
    assert timedelta(weeks=6) - timedelta(minutes=5) < reminder.due_at - now <= timedelta(weeks=6)
    assert learner.due_reminders(now) == []
    later = now + timedelta(weeks=6, minutes=1)
    due = learner.due_reminders(later)
    assert [r.activity_id for r in due] == [DEMO_ID]
    assert due[0].title == learner.activity_detail(DEMO_ID).title  # named as the library names it
    learner.reminders_announced([DEMO_ID], later)
    assert learner.due_reminders(later) == []  # told once
    assert learner.commitment_reminder(DEMO_ID).is_due(later)  # still on the activity until done
    learner.reminder_done(DEMO_ID, later)
    assert learner.commitment_reminder(DEMO_ID).done_at == later
    with pytest.raises(RuleError):
        learner.reminder_done("no-such-activity")


def test_rule5_no_reminder_without_commitments_or_weeks(learner):
    learner.acknowledge_disclosures(DEMO_ID)
    watch(learner, 0.9)
    take_test(learner, CORRECT)
    learner.save_evaluation(DEMO_ID, {"e1": 5, "e2": 4}, {}, ["Ask for a log"], submit=True)
    assert learner.commitment_reminder(DEMO_ID) is None


def test_rule8_the_state_names_the_ids_a_claim_of_this_learner_reports(learner):
    from tests.credit.conftest import sql

    ids = learner.learning_state(DEMO_ID).reported_ids
    learner_id = learner.current_learner().id
    sql(learner, "UPDATE learners SET board_id = NULL, licence_state = NULL, licence_number = NULL, "
                 "birth_mmdd = '0412' WHERE id = ?", learner_id)
    assert learner.learning_state(DEMO_ID).reported_ids == ("birth_mmdd",)
    sql(learner, "UPDATE learners SET board_id = 'ABIM-1' WHERE id = ?", learner_id)
    assert learner.learning_state(DEMO_ID).reported_ids == ("board_id", "birth_mmdd")
    assert isinstance(ids, tuple)


def test_rule5_an_activity_may_open_its_evaluation_before_the_post_test(server, learner, tmp_path):
    """`evaluation_opens: any_time` in the activity's data: the evaluation can be filled in
    once the disclosures are read; claiming still needs the pass."""
    publish(server, tmp_path, activity_doc("evaluation-first", evaluation_opens="any_time"))
    learner.sync()
    assert not learner.learning_state("evaluation-first").evaluation_open  # disclosures first
    learner.acknowledge_disclosures("evaluation-first")
    state = learner.learning_state("evaluation-first")
    assert state.evaluation_open and not state.can_claim
    assert not learner.learning_state(DEMO_ID).evaluation_open or learner.learning_state(DEMO_ID).acknowledged_at is None
