"""The switch-learner dialog by keyboard (offscreen): every control named, Tab reaches each,
Enter tries the password, Esc cancels; a refused password leaves the current learner."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.views.switch_dialog import SwitchLearnerDialog  # noqa: E402
from tests.gui.test_sign_in import assert_fully_shown  # noqa: E402

T = 20_000  # the conftest drains the task pool after each test


def test_the_switch_dialog_works_by_keyboard_and_refuses_a_wrong_password(qtbot, server, make_services):
    server.add_learner("bob", "bob's long password", profession="physician", display_name="Dr. Bob")
    services = make_services(server.url)
    dana = services.sign_in("demo", "demo")
    services.sign_in("bob", "bob's long password")
    dialog = SwitchLearnerDialog(services, learner_id=dana.id)
    qtbot.addWidget(dialog)
    with qtbot.waitExposed(dialog):
        dialog.show()
    dialog.activateWindow()
    dialog.password_edit.setFocus(Qt.FocusReason.TabFocusReason)
    assert dialog.chosen().id == dana.id and dialog.continue_button.isDefault()

    seen = []
    for _ in range(8):  # Tab goes round every control, each with a name
        widget = QApplication.focusWidget()
        assert widget is not None and widget.accessibleName(), widget
        seen.append(widget.accessibleName())
        dialog.focusNextChild()
    assert {"Learner", "Password", "Continue", "Sign in as another learner", "Cancel"} <= set(seen)

    dialog.password_edit.setFocus()
    qtbot.keyClicks(dialog.password_edit, "guess")
    with qtbot.waitSignal(dialog.attempt_finished, timeout=T):
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.error_label.isVisible()
    assert_fully_shown(dialog, dialog.password_edit)
    assert services.current_learner().username == "bob"
    assert dialog.password_edit.text() == "" and dialog.password_edit.hasFocus()

    with qtbot.waitSignal(dialog.sign_in_requested, timeout=T) as asked:
        dialog.other_button.click()
    assert asked.args == ["", ""] and not dialog.isVisible()
    assert services.current_learner().username == "bob"


def test_escape_cancels_and_nobody_changes(qtbot, server, make_services):
    server.add_learner("bob", "bob's long password", profession="physician", display_name="Dr. Bob")
    services = make_services(server.url)
    dana = services.sign_in("demo", "demo")
    services.sign_in("bob", "bob's long password")
    dialog = SwitchLearnerDialog(services, learner_id=dana.id)
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.rejected, timeout=T):
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Escape)
    assert services.current_learner().username == "bob"
