"""The time really spent on an activity (rule 6: credit commensurate with participation)
and commitment-to-change reminders (rule 5): the pure accumulator and reminder rule."""

from __future__ import annotations

from datetime import datetime, timedelta

from cmecore.rules.claims import claim_options
from cmecore.rules.evaluation import evaluation_gate
from desktop.learning.reminders import Reminder, due_at, notice_text, status_text, to_notify
from desktop.learning.time_spent import ActiveTime


def test_rule6_thirty_minutes_of_video_at_2x_in_14_minutes_is_14_minutes():
    clock = ActiveTime()
    t = 0.0
    for _ in range(14 * 60):  # one sample a second while playing at 2x
        clock.sample(True, t)
        t += 1.0
    clock.stop(t)
    assert clock.take() == 14 * 60 * 1000
    assert clock.take() == 0  # handed over once


def test_paused_time_and_a_sleeping_computer_do_not_count():
    clock = ActiveTime(max_gap_s=5)
    clock.sample(True, 0.0)
    clock.sample(True, 10.0)  # ten seconds with no sample (suspend): at most the gap
    assert clock.pending_ms == 5000
    clock.sample(False, 11.0)  # paused at 11 s: the second up to the pause counts
    clock.sample(False, 100.0)
    assert clock.take() == 6000
    clock.sample(True, 200.0)
    clock.sample(True, 201.5)
    assert clock.take() == 1500 and clock.engaged


def test_the_claim_prefills_the_time_spent_not_the_video_watched(demo):
    statements = list(demo.accreditation)
    opts = claim_options("physician", statements, watched_ms=30 * 60_000, spent_ms=14 * 60_000)
    assert opts.suggested_minutes == 14
    # records from before time was measured: the watched part stands in
    assert claim_options("physician", statements, watched_ms=30 * 60_000).suggested_minutes == 30


def test_rule5_the_evaluation_opens_after_the_post_test_is_passed():
    assert evaluation_gate(acknowledged=True, has_assessment=True, passed=False) == (
        False, "The evaluation opens once you have passed the post-test.")
    assert evaluation_gate(acknowledged=True, has_assessment=True, passed=True) == (True, "")
    assert evaluation_gate(acknowledged=True, has_assessment=False, passed=False) == (True, "")
    assert not evaluation_gate(acknowledged=False, has_assessment=False, passed=False)[0]
    # the activity may say otherwise
    assert evaluation_gate(acknowledged=True, has_assessment=True, passed=False, opens="any_time") == (True, "")
    assert not evaluation_gate(acknowledged=False, has_assessment=True, passed=False, opens="any_time")[0]


NOW = datetime(2026, 11, 23, 9, 0)


def test_rule5_a_reminder_is_due_the_chosen_weeks_after_submission_and_announced_once():
    assert due_at(NOW, 6) == NOW + timedelta(weeks=6)
    assert due_at(NOW, None) is None and due_at(None, 6) is None
    later = Reminder("b", "B", ("Ask for a log",), NOW + timedelta(days=1))
    due = Reminder("a", "A", ("Teach cuff sizing", "Check both arms"), NOW - timedelta(hours=1))
    told = Reminder("c", "C", ("x",), NOW - timedelta(days=2), notified_at=NOW - timedelta(days=1))
    done = Reminder("d", "D", ("y",), NOW - timedelta(days=3), done_at=NOW - timedelta(days=1))
    assert to_notify([later, due, told, done], NOW) == [due]
    assert to_notify([later], NOW + timedelta(days=1)) == [later]  # due at the very moment
    title, text = notice_text([due])
    assert title == "Your commitments to change"
    assert "A: you committed to “Teach cuff sizing” (and 1 more)" in text
    assert "2 activities" in notice_text([due, later])[1]
    assert status_text(later, NOW, "24 Nov 2026") == "You will be reminded on 24 Nov 2026."
    assert "is due" in status_text(told, NOW, "") and "marked" in status_text(done, NOW, "")
