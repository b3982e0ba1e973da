"""The learner's whole path with the keyboard alone (issue 9 item 3), on the real reference
server over loopback: every step below is a key press sent with QTest.keyClick to the
widget that has the focus, never a click or a direct call on a control. Also: every
focusable control of every page has an accessible name (or visible text).

On that path watching 80% of the video is recorded through the services (the video is not
downloaded from the reference server); the Watch tab's own keys (play/pause, seek, speed,
the transcript's cues) have their own key-only test on the demo video.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QComboBox, QWidget

from desktop.views.activity.page import ASSESSMENT_TAB, CREDIT_TAB, LOCKED_TABS, OVERVIEW_TAB, WATCH_TAB
from desktop.views.main_window import ACTIVITY, CREDITS, DOWNLOADS, LIBRARY, SETTINGS
from tests.gui.test_learning_gui import make_window, signed_in, watch
from tests.support.activities import CORRECT, DEMO_ID

pytestmark = pytest.mark.gui

T = 20_000
Key = Qt.Key


def press(key, modifier=Qt.KeyboardModifier.NoModifier) -> QWidget:
    """One key to whatever has the focus (as the keyboard would); returns the new focus."""
    target = QApplication.focusWidget()
    assert target is not None, "nothing has the keyboard focus"
    QTest.keyClick(target, key, modifier)
    return QApplication.focusWidget()


def type_text(text: str) -> None:
    QTest.keyClicks(QApplication.focusWidget(), text)


def tab_to(target: QWidget, limit: int = 40) -> int:
    """Tab forward until `target` has the focus; how many presses it took."""
    for n in range(limit + 1):
        if QApplication.focusWidget() is target:
            return n
        press(Key.Key_Tab)
    raise AssertionError(f"{target.accessibleName() or target} is not reachable by Tab "
                         f"(stuck at {QApplication.focusWidget()!r})")


def activate(qtbot, window) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=T)


def answer_with_keys(qtbot, tab, key: dict) -> None:
    """One answer: the arrow keys move and choose, Space chooses the first. Several answers
    (the walk's finding 2): Tab to each answer and Space ticks it, as the page says under
    the question. Enter goes to the next question; Enter on the last submits."""
    questions = tab.question_page
    n = len(questions.view.questions)
    for i in range(n):
        q = questions.view.questions[questions.index]
        buttons = [b for _oid, b in questions.option_buttons]
        wanted = [b for oid, b in questions.option_buttons if oid in key[q.id]]
        assert QApplication.focusWidget() is buttons[0], "the first answer takes the focus"
        if q.kind == "single":
            assert "arrow keys" in questions.kind_label.text()
            target = buttons.index(wanted[0])
            if target == 0:
                with qtbot.waitSignal(tab.answer_saved, timeout=T):
                    press(Key.Key_Space)
            for at in range(1, target + 1):
                with qtbot.waitSignal(tab.answer_saved, timeout=T):
                    press(Key.Key_Down)
                assert QApplication.focusWidget() is buttons[at], "Down moves to the next answer"
                assert buttons[at].isChecked(), "Down chooses the answer it moves to"
        else:
            assert "Space ticks" in questions.kind_label.text()
            assert questions.kind_label.text().count("apply") + q.text.count("apply") == 1, "said once"
            for button in buttons:
                if QApplication.focusWidget() is not button:
                    assert press(Key.Key_Tab) is button, "Tab goes to each answer in turn"
                if button in wanted:
                    with qtbot.waitSignal(tab.answer_saved, timeout=T):
                        press(Key.Key_Space)
            press(Key.Key_Up)  # the arrows move between the check boxes too, without ticking
            assert QApplication.focusWidget() is buttons[-2]
        assert [b.isChecked() for b in buttons] == [b in wanted for b in buttons]
        if i < n - 1:
            press(Key.Key_Return)
            assert questions.index == i + 1
    assert not questions.unanswered()
    assert {q: sorted(v) for q, v in questions.answers.items()} == {q: sorted(v) for q, v in key.items()}
    assert questions.submit_button.isDefault()
    with qtbot.waitSignal(tab.submitted, timeout=T):
        press(Key.Key_Return)


def test_the_whole_learner_path_with_the_keyboard_alone(qtbot, server, make_services, opened):
    services = signed_in(make_services(server.url))
    window = make_window(qtbot, services)
    activate(qtbot, window)

    # Library: Ctrl+1, the table has the focus, Enter opens the activity.
    window.search_edit.setFocus()
    press(Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentIndex() == LIBRARY
    assert QApplication.focusWidget() is window.library.table
    assert window.library.select_id(DEMO_ID)
    press(Key.Key_Return)
    assert window.stack.currentIndex() == ACTIVITY
    page = window.activity_page
    assert page.detail.id == DEMO_ID and page.tabs.currentIndex() == OVERVIEW_TAB

    # Overview: Tab walks through the front matter (the disclosures table lets Tab go on)
    # to "I have read the disclosures — start"; Space presses it.
    page.tabs.tabBar().setFocus(Qt.FocusReason.TabFocusReason)
    tabs = tab_to(page.overview.ack_button)
    assert tabs <= 8
    assert page.overview.disclosures_table.tabKeyNavigation() is False
    with qtbot.waitSignal(page.events.learning_changed, timeout=T):
        press(Key.Key_Space)
    assert all(page.tabs.isTabEnabled(i) for i in LOCKED_TABS)

    watch(services, 0.85)  # see the module docstring

    # Ctrl+Tab through the sections to the Assessment; Tab to Start, Space.
    page.tabs.tabBar().setFocus(Qt.FocusReason.TabFocusReason)
    while page.tabs.currentIndex() != ASSESSMENT_TAB:
        press(Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    tab = page.assessment_tab
    qtbot.waitUntil(tab.start_button.isEnabled, timeout=T)
    tab_to(tab.start_button)
    with qtbot.waitSignal(tab.changed, timeout=T):
        press(Key.Key_Space)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is tab.question_page.option_buttons[0][1], timeout=T)
    answer_with_keys(qtbot, tab, CORRECT)
    assert tab.result_page.score_label.text().startswith("Attempt 1: 100%")

    # Result: Tab to "Go to Evaluation & credit", Space.
    tab_to(tab.result_page.to_credit_button)
    press(Key.Key_Space)
    assert page.tabs.currentIndex() == CREDIT_TAB

    # Evaluation: each rating by arrows in its box, a commitment typed, Submit by Space.
    credit = page.credit_tab
    evaluation = credit.evaluation
    for qid, box in evaluation.rating_boxes.items():
        tab_to(box)
        while box.currentData() != 5:
            before = box.currentIndex()
            press(Key.Key_Down)
            assert box.currentIndex() != before, f"Down does not change rating {qid}"
    tab_to(evaluation.commitment_edits[0])
    with qtbot.waitSignal(evaluation.draft_saved, timeout=T):
        type_text("Ask for a 7-day home log")
    tab_to(evaluation.eval_submit)
    with qtbot.waitSignal(credit.changed, timeout=T):
        press(Key.Key_Space)
    assert services.evaluation(DEMO_ID).submitted_at is not None

    # Claim: the credits by arrows, the time typed, attestation and consent by Space.
    claim = credit.claim
    qtbot.waitUntil(lambda: claim.claim_reason.text() == "", timeout=T)
    tab_to(claim.credits_combo)
    while claim.credits_combo.currentData() != 0.5:
        press(Key.Key_Down)
    tab_to(claim.minutes_spin)
    press(Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text("30")
    assert claim.minutes_spin.value() == 30
    tab_to(claim.attest_check)
    press(Key.Key_Space)
    tab_to(claim.consent_check)
    press(Key.Key_Space)
    assert claim.attest_check.isChecked() and claim.consent_check.isChecked()
    tab_to(claim.claim_button)
    with qtbot.waitSignal(credit.claim_finished, timeout=T) as claimed:
        press(Key.Key_Space)
    assert claimed.args[0].credits_claimed == 0.5

    # Sync now (Ctrl+R): accepted; the certificate opens from the tab by Tab and Space.
    with qtbot.waitSignal(window.sync_finished, timeout=T):
        press(Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: credit.status_label.text() == "Accepted — certificate ready", timeout=T)
    qtbot.waitUntil(credit.open_button.isEnabled, timeout=T)
    tab_to(credit.open_button, limit=60)
    press(Key.Key_Space)
    qtbot.waitUntil(lambda: bool(opened), timeout=T)
    certificate = opened[-1].toLocalFile()
    assert certificate.endswith(".pdf")
    with open(certificate, "rb") as f:
        assert f.read(4) == b"%PDF"
    row = window.credits_page.model.rows[0]
    assert (row.state, row.credits) == ("accepted", 0.5)


def _focusable(top: QWidget) -> list[QWidget]:
    return [w for w in top.findChildren(QWidget)
            if w.isVisibleTo(top) and w.isEnabled() and w.focusPolicy() & Qt.FocusPolicy.TabFocus
            and not w.objectName().startswith("qt_")]


def _nameless(top: QWidget) -> list[str]:
    """Focusable controls with neither an accessible name nor visible text."""
    missing = []
    for w in _focusable(top):
        text = w.text() if isinstance(w, QAbstractButton) else (w.currentText() if isinstance(w, QComboBox) else "")
        if not w.accessibleName().strip() and not text.strip():
            missing.append(f"{type(w).__name__} in {type(w.parent()).__name__}")
    return missing


def test_every_focusable_control_on_every_page_has_a_name(qtbot, server, make_services):
    services = signed_in(make_services(server.url))
    services.acknowledge_disclosures(DEMO_ID)
    watch(services, 0.9)
    window = make_window(qtbot, services)
    for section in (LIBRARY, DOWNLOADS, CREDITS, SETTINGS):
        window.show_section(section)
        assert not _nameless(window), (section, _nameless(window))
    window.open_activity(DEMO_ID)
    page = window.activity_page
    for index in range(page.tabs.count()):
        page.tabs.setCurrentIndex(index)
        assert not _nameless(window), (page.tabs.tabText(index), _nameless(window))
    page.tabs.setCurrentIndex(ASSESSMENT_TAB)
    with qtbot.waitSignal(page.assessment_tab.changed, timeout=T):
        page.assessment_tab.start_button.click()
    assert not _nameless(window), ("question", _nameless(window))
    # A visible button's name contains its visible label (less "&" mnemonics and "…").
    for w in _focusable(window):
        if isinstance(w, QAbstractButton) and w.text().strip() and w.accessibleName():
            shown = w.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()
            words = [x for x in shown.replace("→", " ").replace("←", " ").split() if x.isalpha()]
            assert any(word.lower() in w.accessibleName().lower() for word in words) or not words, \
                (shown, w.accessibleName())


@pytest.mark.usefixtures("libvlc")
def test_the_watch_tab_with_the_keyboard_alone(qtbot, server, make_services):
    """Watch by keys (libvlc's dummy outputs): Space plays and pauses, Right/Left seek 10 s,
    ] and [ change the speed, and in the transcript the arrows move between cues and Enter
    seeks the player there."""
    services = signed_in(make_services(server.url))
    services.acknowledge_disclosures(DEMO_ID)
    services.enqueue_downloads([DEMO_ID])
    assert services.run_downloads().ok  # the demo video, from the reference server
    activity_id = DEMO_ID
    window = make_window(qtbot, services)
    activate(qtbot, window)
    window.search_edit.setFocus()
    press(Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is window.library.table
    assert window.library.select_id(activity_id)
    page = window.activity_page
    with qtbot.waitSignal(page.watch_tab.transcript_shown, timeout=T):
        press(Key.Key_Return)
    tab = page.watch_tab
    try:
        page.tabs.tabBar().setFocus(Qt.FocusReason.TabFocusReason)
        while page.tabs.currentIndex() != WATCH_TAB:
            press(Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
        column, panel = tab.video_column, tab.transcript_panel

        # Play/pause: Tab to the Play button; Space plays, Space again pauses.
        tab_to(column.play_button)
        with qtbot.waitSignal(tab.player.playing_changed, timeout=T, check_params_cb=lambda p: p):
            press(Key.Key_Space)
        qtbot.waitUntil(lambda: tab.player.position_ms() > 0, timeout=T)
        with qtbot.waitSignal(tab.player.playing_changed, timeout=T, check_params_cb=lambda p: not p):
            press(Key.Key_Space)

        # Seek: Right is 10 s on, Left 10 s back.
        before = tab.player.position_ms()
        press(Key.Key_Right)
        qtbot.waitUntil(lambda: tab.player.position_ms() >= before + 9_000, timeout=T)
        press(Key.Key_Left)
        qtbot.waitUntil(lambda: abs(tab.player.position_ms() - before) < 1_000, timeout=T)

        # Speed: ] faster, [ slower (and the speed box says so).
        press(Key.Key_BracketRight)
        assert tab.player.rate > 1.0 and column.speed_combo.currentData() == tab.player.rate
        press(Key.Key_BracketLeft)
        assert tab.player.rate == 1.0

        # The transcript: Tab to the cue list, Down twice, Enter: the player goes there.
        tab_to(panel.view)
        start = panel.view.currentIndex().row() if panel.view.currentIndex().isValid() else -1
        press(Key.Key_Down)
        press(Key.Key_Down)
        row = panel.view.currentIndex().row()
        assert row == max(start, 0) + 2 - (start < 0)
        cue_ms = panel.index.cues[row].start_ms
        press(Key.Key_Return)
        qtbot.waitUntil(lambda: abs(tab.player.position_ms() - cue_ms) < 1_000, timeout=T)
        assert panel.current_row == row
    finally:
        tab.shutdown()
