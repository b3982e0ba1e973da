"""The keyboard focus stays on the page the learner is using (the GUI walk's findings 1, 7
and 12), on the real reference server over loopback, every step a key press:

- a button that goes away once pressed (Download, "I have read the disclosures — start",
  Submit evaluation, Claim credit, Submit answers) hands the focus to the next step on the
  same page, never to the status bar's "Switch learner" (where Space opened the learner
  menu instead of pausing the video);
- the Watch tab's controls and the video area keep the focus on a click, so Space plays;
- Evaluation & credit: Tab goes through the questions in reading order, then Submit
  evaluation, then the claim; Tab out of the comments box goes on, not to the search box;
- the scroll areas of Overview, Settings and Evaluation & credit are no invisible Tab stop,
  and PageDown still scrolls them with a control in them focused.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFrame, QPushButton, QScrollArea

from desktop.views.activity.page import ASSESSMENT_TAB, CREDIT_TAB, OVERVIEW_TAB, WATCH_TAB
from desktop.views.main_window import SETTINGS
from tests.gui.test_keyboard_path import activate, answer_with_keys, press, tab_to
from tests.gui.test_learning_gui import make_window, signed_in, watch
from tests.support.activities import CORRECT, DEMO_ID

pytestmark = pytest.mark.gui

T = 20_000
Key = Qt.Key


def focus_is_within(widget) -> bool:
    focused = QApplication.focusWidget()
    return focused is not None and (focused is widget or widget.isAncestorOf(focused))


def on_the_page(window, page) -> None:
    """The focus is on `page` (with the Tab reason's ring), not on the status bar."""
    assert focus_is_within(page), f"the focus went to {QApplication.focusWidget()!r}"
    assert not focus_is_within(window.statusBar())


def tab_round(start, limit: int = 80) -> list:
    """Tab from `start` until the focus comes back to it (or `limit` presses): the stops in order."""
    start.setFocus(Qt.FocusReason.TabFocusReason)
    stops = []
    for _ in range(limit):
        focused = press(Key.Key_Tab)
        if focused is start:
            break
        stops.append(focused)
    return stops


def test_acknowledge_then_download_by_keyboard_keeps_the_focus_on_the_page_and_space_plays(
        qtbot, server, make_services, libvlc):
    services = signed_in(make_services(server.url))
    window = make_window(qtbot, services)
    activate(qtbot, window)
    window.open_activity(DEMO_ID)
    page = window.activity_page
    overview = page.overview

    # "I have read the disclosures — start" by Space: the button goes, the focus stays here.
    overview.ack_button.setFocus(Qt.FocusReason.TabFocusReason)
    with qtbot.waitSignal(page.events.learning_changed, timeout=T):
        press(Key.Key_Space)
    qtbot.waitUntil(lambda: not overview.ack_button.isVisible(), timeout=T)
    on_the_page(window, overview)
    assert QApplication.focusWidget() in (overview.download_button, overview.gate_label)

    # Watch: Download by Space; the focus goes to the video area, where it stays when the
    # video has arrived (the real download from the reference server).
    watch_tab = page.watch_tab
    page.tabs.setCurrentIndex(WATCH_TAB)
    column = watch_tab.video_column
    qtbot.waitUntil(column.download_button.isVisible, timeout=T)
    column.download_button.setFocus(Qt.FocusReason.TabFocusReason)
    press(Key.Key_Space)
    on_the_page(window, watch_tab)
    assert QApplication.focusWidget() is column.video_stack
    qtbot.waitUntil(lambda: column.playable, timeout=60_000)
    on_the_page(window, watch_tab)
    try:
        # A click on the video takes the focus (from the search box here): Space plays.
        window.search_edit.setFocus()
        qtbot.mouseClick(column.surface, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
        assert QApplication.focusWidget() is column.video_stack
        with qtbot.waitSignal(watch_tab.player.playing_changed, timeout=T, check_params_cb=lambda p: p):
            press(Key.Key_Space)
        assert not window.learner_button.menu().isVisible()
        qtbot.waitUntil(lambda: watch_tab.player.position_ms() > 1_000, timeout=T)

        # A click on Pause keeps the focus on it (Space and F act on the video from there).
        with qtbot.waitSignal(watch_tab.player.playing_changed, timeout=T, check_params_cb=lambda p: not p):
            qtbot.mouseClick(column.play_button, Qt.MouseButton.LeftButton)
        assert QApplication.focusWidget() is column.play_button
    finally:
        watch_tab.shutdown()


def test_the_post_test_evaluation_and_claim_by_keyboard_keep_the_focus_on_their_page(qtbot, server, make_services):
    services = signed_in(make_services(server.url))
    services.acknowledge_disclosures(DEMO_ID)
    watch(services, 0.9)
    window = make_window(qtbot, services)
    activate(qtbot, window)
    window.open_activity(DEMO_ID)
    page = window.activity_page
    # The credit is written as the statement writes it (finding 11), not "0.5 × AMA PRA…".
    assert page.overview.statement_boxes[0].title() == "Your credit — Physician: 0.5 AMA PRA Category 1 Credits™"

    # Submit answers by Enter: the focus is then on "Go to Evaluation & credit", with its ring.
    page.tabs.setCurrentIndex(ASSESSMENT_TAB)
    tab = page.assessment_tab
    qtbot.waitUntil(tab.start_button.isEnabled, timeout=T)
    tab.start_button.setFocus(Qt.FocusReason.TabFocusReason)
    with qtbot.waitSignal(tab.changed, timeout=T):
        press(Key.Key_Space)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is tab.question_page.option_buttons[0][1], timeout=T)
    answer_with_keys(qtbot, tab, CORRECT)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is tab.result_page.to_credit_button, timeout=T)
    # Once passed, the Assessment says the pass mark once and nothing about coming back.
    assert tab.pass_label.text() == "Pass mark: 75%" and "75%" not in tab.intro_label.text()
    assert "saved as you choose" not in tab.intro_label.text() and tab.attempts_label.text() == ""
    press(Key.Key_Space)
    assert page.tabs.currentIndex() == CREDIT_TAB

    # Evaluation & credit: Tab goes through the form in reading order (no invisible stop),
    # then Submit evaluation, and never leaves the page on the way.
    credit = page.credit_tab
    evaluation, claim = credit.evaluation, credit.claim
    stops = tab_round(page.tabs.tabBar())
    assert not [w for w in stops if isinstance(w, QScrollArea)], "no invisible stop"
    form = []
    for q in evaluation.questions:  # the questions' controls, in the order they are asked
        form += [evaluation.rating_boxes[q.id]] if q.id in evaluation.rating_boxes else \
            [evaluation.text_edits[q.id]] if q.id in evaluation.text_edits else \
            evaluation.commitment_edits + [evaluation.reminder_check, evaluation.reminder_spin]
    at = [stops.index(w) for w in form + [evaluation.eval_submit]]  # the claim opens after Submit
    assert at == sorted(at), "Tab follows the page from top to bottom"
    between = stops[at[0]:at[-1]]
    assert all(focus_is_within(credit) or credit.isAncestorOf(w) for w in between)
    assert window.learner_button not in between and window.search_edit not in between

    # Tab out of the comments box goes on to the next control, not to the search box.
    comments = list(evaluation.text_edits.values())[-1]
    comments.setFocus(Qt.FocusReason.TabFocusReason)
    after = press(Key.Key_Tab)
    assert after is stops[stops.index(comments) + 1] and credit.isAncestorOf(after)

    # Submit evaluation by Space: the focus is on the line saying it was submitted.
    for box in evaluation.rating_boxes.values():
        box.setCurrentIndex(box.count() - 1)
    evaluation.commitment_edits[0].setText("Ask for a 7-day home log")
    assert evaluation.eval_note.text() == "", "no “Editing…” while typing"
    evaluation.eval_submit.setFocus(Qt.FocusReason.TabFocusReason)
    with qtbot.waitSignal(credit.changed, timeout=T):
        press(Key.Key_Space)
    qtbot.waitUntil(lambda: evaluation.eval_note.text().startswith("Evaluation submitted"), timeout=T)
    assert QApplication.focusWidget() is evaluation.eval_note
    assert evaluation.eval_note.frameShape() == QFrame.Shape.Box, "the focused line is framed, not only a caret"
    on_the_page(window, credit)
    nxt = press(Key.Key_Tab)
    assert nxt is claim.credits_combo, "the next Tab goes on to the claim"

    # Claim credit by Space: the focus is then on the tab's status ("Waiting to sync"…).
    claim.minutes_spin.setValue(30)
    claim.attest_check.setChecked(True)
    claim.claim_button.setFocus(Qt.FocusReason.TabFocusReason)
    with qtbot.waitSignal(credit.claim_finished, timeout=T):
        press(Key.Key_Space)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is credit.status_label, timeout=T)
    on_the_page(window, credit)


def test_scroll_areas_are_no_tab_stop_and_page_down_still_scrolls(qtbot, server, make_services):
    services = signed_in(make_services(server.url))
    window = make_window(qtbot, services)
    activate(qtbot, window)
    window.resize(1024, 500)
    window.show_section(SETTINGS)
    settings = window.settings_page
    scroll = next(w for w in settings.findChildren(QScrollArea) if w.accessibleName() == "Settings")
    stops = tab_round(window.section_list if hasattr(window, "section_list") else window.search_edit)
    assert scroll not in stops
    qtbot.waitUntil(lambda: scroll.verticalScrollBar().maximum() > 0, timeout=T)
    first = next(w for w in stops if isinstance(w, QPushButton) and settings.isAncestorOf(w))
    scroll.verticalScrollBar().setValue(0)
    first.setFocus(Qt.FocusReason.TabFocusReason)
    QTest.keyClick(first, Key.Key_PageDown)
    assert scroll.verticalScrollBar().value() > 0, "PageDown scrolls the page with a button focused"

    window.open_activity(DEMO_ID)
    page = window.activity_page
    page.tabs.setCurrentIndex(OVERVIEW_TAB)
    assert page.overview not in tab_round(page.tabs.tabBar())
    page.tabs.setCurrentIndex(CREDIT_TAB)
    assert not [w for w in tab_round(page.tabs.tabBar()) if isinstance(w, QScrollArea)]
