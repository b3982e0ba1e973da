"""The honest claim form and commitment reminders in the GUI (DOMAIN rules 5 and 6), on the
real reference server over loopback, real SQLite, offscreen Qt (no tray there, so a
notification falls back to the status line). Clocks are injected: no sleeps."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from desktop.views.activity.page import ASSESSMENT_TAB, CREDIT_TAB
from desktop.views.reminder_watch import ReminderWatch
from tests.credit.conftest import ready_to_claim, take_test, watch
from tests.gui.test_learning_gui import T, click, make_window, open_activity, signed_in
from tests.support.activities import CORRECT, DEMO_ID

pytestmark = pytest.mark.gui


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def test_rule5_a_due_reminder_is_notified_once_and_marked_done_on_the_activity(qtbot, server, make_services):
    services = signed_in(make_services(server.url))
    ready_to_claim(services)  # evaluation submitted: "remind me in 6 weeks" about one commitment
    window = make_window(qtbot, services)
    later = _now() + timedelta(weeks=6, minutes=1)
    # Not due yet: nothing is said.
    early = ReminderWatch(window, lambda: window.services, window.events, window.notify, clock=_now)
    early.check()
    qtbot.waitUntil(lambda: not early._checking, timeout=T)
    assert window.last_notification is None
    early.timer.stop()

    # Six weeks later (the app started again): one notification at start, in the status line here.
    with qtbot.waitSignal(window.notified, timeout=T) as told:
        watch_ = ReminderWatch(window, lambda: window.services, window.events, window.notify, clock=lambda: later)
    assert "you committed to “Ask for a 7-day home log”" in told.args[0]
    assert "Ask for a 7-day home log" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: services.due_reminders(later) == [], timeout=T)  # recorded as announced
    window.last_notification = None
    watch_.check()
    qtbot.waitUntil(lambda: not watch_._checking, timeout=T)
    assert window.last_notification is None  # told once

    # The activity shows "Your commitments" with the reminder due, and it can be marked done.
    page = open_activity(window)
    box = page.credit_tab.commitments
    box.clock = lambda: later
    page.tabs.setCurrentIndex(CREDIT_TAB)
    page.refresh_learning()
    assert box.isVisible() and box.list_label.text() == "• Ask for a 7-day home log"
    assert "is due" in box.status_label.text()
    with qtbot.waitSignal(box.done, timeout=T):
        click(qtbot, box.done_button)
    assert services.commitment_reminder(DEMO_ID).done_at is not None
    assert box.status_label.text() == "You marked this reminder done." and not box.done_button.isVisible()
    watch_.timer.stop()


def test_rule5_before_it_is_due_the_activity_says_when_the_reminder_comes(qtbot, server, make_services):
    services = signed_in(make_services(server.url))
    ready_to_claim(services)
    window = make_window(qtbot, services)
    page = open_activity(window)
    page.tabs.setCurrentIndex(CREDIT_TAB)
    box = page.credit_tab.commitments
    assert box.isVisible() and box.status_label.text().startswith("You will be reminded on ")
    assert not box.done_button.isVisible()


def test_rule5_the_evaluation_opens_after_the_post_test(qtbot, server, make_services):
    services = signed_in(make_services(server.url))
    services.acknowledge_disclosures(DEMO_ID)
    watch(services, 0.9)
    window = make_window(qtbot, services)
    page = open_activity(window)
    page.tabs.setCurrentIndex(CREDIT_TAB)
    evaluation = page.credit_tab.evaluation
    assert not evaluation.eval_form.isEnabled() and not evaluation.eval_submit.isEnabled()
    assert evaluation.eval_note.text() == "The evaluation opens once you have passed the post-test."
    take_test(services, CORRECT)
    page.refresh_learning()
    assert evaluation.eval_form.isEnabled() and evaluation.eval_submit.isEnabled()
    assert evaluation.eval_note.text() == ""


def test_rule6_time_answering_the_post_test_is_measured_and_prefills_the_claim(qtbot, server, make_services):
    services = signed_in(make_services(server.url))
    services.acknowledge_disclosures(DEMO_ID)
    watch(services, 0.9)  # watched by position, not measured: not the time spent
    window = make_window(qtbot, services)
    page = open_activity(window)
    keeper = page.time_keeper
    keeper.timer.stop()  # the test ticks by hand on its own clock
    clock = [1000.0]
    keeper.clock = lambda: clock[0]
    page.tabs.setCurrentIndex(ASSESSMENT_TAB)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=T)
    with qtbot.waitSignal(page.assessment_tab.changed, timeout=T):
        click(qtbot, page.assessment_tab.start_button)
    for _ in range(3 * 60 + 1):  # three minutes on the questions, a sample a second
        keeper.tick()
        clock[0] += 1.0
    page.tabs.setCurrentIndex(CREDIT_TAB)  # leaves the questions: no longer answering
    keeper.tick()
    clock[0] += 600  # ten minutes on the credit tab do not count
    keeper.tick()
    keeper.flush()
    qtbot.waitUntil(lambda: services.learning_state(DEMO_ID).spent_ms >= 180_000, timeout=T)
    assert services.learning_state(DEMO_ID).spent_ms == 181_000
    assert services.learning_state(DEMO_ID).claim_options.suggested_minutes == 3


def test_rule5_the_window_itself_checks_reminders_and_tells_the_learner(qtbot, server, make_services):
    services = signed_in(make_services(server.url))
    ready_to_claim(services)
    window = make_window(qtbot, services)
    qtbot.waitUntil(lambda: getattr(window, "reminders", None) is not None, timeout=T)
    window.reminders.clock = lambda: _now() + timedelta(weeks=6, minutes=1)  # six weeks on
    with qtbot.waitSignal(window.notified, timeout=T) as told:
        window.reminders.check()
    assert "Ask for a 7-day home log" in told.args[0]
