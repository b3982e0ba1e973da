"""Policy in the window (pytest-qt, offscreen): locked controls, hidden demo, idle lock."""

from __future__ import annotations

import os
from datetime import datetime

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from cmecore import protocol  # noqa: E402
from desktop.cache.learners import save_signed_in  # noqa: E402
from desktop.sync.credentials import TokenVault  # noqa: E402
from desktop.sync.verifier import VerifierVault  # noqa: E402
from tests.support.activities import make_activity  # noqa: E402
from tests.support.clients import dead_url, fill_cache  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def drain(qapp):
    yield
    from desktop.views.tasks import wait_for_tasks

    assert wait_for_tasks(30_000)
    qapp.processEvents()


def _sign_in(services, username: str, learner_id: str, day: int = 2):
    profile = protocol.LearnerProfile(id=learner_id, username=username, display_name=username.title(),
                                      profession="physician", degree="MD")
    save_signed_in(services.db, profile, services.server_url, datetime(2025, 1, day))
    TokenVault(services.server_url).store(username, "r" * 32)
    VerifierVault(services.server_url).store(username, f"{username}'s password")  # as an online sign-in does


def test_settings_page_shows_policy_values_locked_with_the_file_named(qtbot, no_machine_policy, make_services):
    from desktop.views.pages import SettingsPage

    no_machine_policy.write_text(
        f'server_url = "{dead_url()}"\nbandwidth_cap_kbps = 512\ndownload_hours = "19:00-07:00"\n'
        'nonsense = 1\n'
    )
    services = make_services()
    page = SettingsPage(services)
    qtbot.addWidget(page)
    reason = f"Set by your organisation's policy ({no_machine_policy})"
    for widget in (page.server_edit, page.bandwidth_spin, page.hours_edit):
        assert not widget.isEnabled()
        assert widget.toolTip() == reason
    assert page.server_edit.text() == services.server_url
    assert page.bandwidth_spin.value() == 512 and page.hours_edit.text() == "19:00-07:00"
    for widget in (page.proxy_edit, page.shared_edit, page.ca_edit, page.interval_spin):
        assert widget.isEnabled() and "policy" not in widget.toolTip()
    assert "nonsense" in page.policy_label.text()

    # Save applies what the user may change and leaves the locked values alone
    page.interval_spin.setValue(45)
    page.proxy_edit.setText("http://proxy.example:8080")
    page.save()
    assert page.connection_message.text() == "Saved."
    assert services.settings.sync_interval_minutes == 45 and services.settings.proxy == "http://proxy.example:8080"
    assert services.settings.bandwidth_cap_kbps == 512


def test_copy_diagnostics_puts_the_block_on_the_clipboard(qtbot, make_services, qapp):
    from desktop.views.pages import SettingsPage

    services = make_services(dead_url())
    page = SettingsPage(services)
    qtbot.addWidget(page)
    qtbot.mouseClick(page.diagnostics_button, Qt.MouseButton.LeftButton)
    text = qapp.clipboard().text()
    assert text.startswith("CME Offline ") and "Machine policy:" in text and services.server_url in text
    assert page.diagnostics_message.isVisible() or page.diagnostics_message.text().startswith("Copied")


def test_welcome_hides_the_demo_when_policy_forbids_it(qtbot, no_machine_policy, make_services):
    from desktop.views.welcome_dialog import WelcomeDialog

    no_machine_policy.write_text("demo_allowed = false\n")
    dialog = WelcomeDialog(make_services(), demo_launcher=lambda: None)
    qtbot.addWidget(dialog)
    assert dialog.demo_launcher is None and dialog.demo_button.isHidden()


def test_idle_lock_hides_everyones_records_until_a_password_is_given(qtbot, no_machine_policy, make_services):
    from desktop.views.main_window import LIBRARY, MainWindow

    no_machine_policy.write_text("idle_sign_out_minutes = 0.003\n")  # 180 ms
    services = make_services(dead_url())  # offline: the keyring's check decides
    fill_cache(services, [make_activity(1)], services.server_url)
    blob = services.blobs.path_for(f"{1:064x}")
    blob.parent.mkdir(parents=True)
    blob.write_bytes(b"video")
    _sign_in(services, "nurse-a", "learner-a")
    _sign_in(services, "nurse-b", "learner-b", day=3)
    window = MainWindow(services)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.idle_locked, timeout=10_000):
        window.show()
    window.idle.stop()  # no second lock while this test types
    assert services.current_learner() is None and services.locked()
    assert {lr.username for lr in services.learners()} == {"nurse-a", "nurse-b"}  # nobody signed out
    assert TokenVault(services.server_url).load("nurse-a")  # claims written before still go
    assert blob.read_bytes() == b"video"  # downloaded content stays
    assert window.stack.currentIndex() == LIBRARY
    assert window.library.visible_titles() == ["Activity 1"]
    assert window.credits_page.model.rows == []

    unlock = window.learner_button.switch_dialog
    assert unlock is not None and unlock.accessibleName() == "Unlock"
    assert unlock.chosen().username == "nurse-b"  # the learner who was current
    unlock.password_edit.setText("nurse-a's password")  # not nurse-b's
    with qtbot.waitSignal(unlock.attempt_finished, timeout=10_000):
        qtbot.keyClick(unlock.password_edit, Qt.Key.Key_Return)  # Enter continues
    assert unlock.error_label.isVisible() and "not right" in unlock.error_label.text()
    assert services.locked() and window.learner_button.switch_dialog is unlock

    unlock.password_edit.setText("nurse-b's password")
    with qtbot.waitSignal(window.learner_button.switched, timeout=10_000):
        qtbot.keyClick(unlock.password_edit, Qt.Key.Key_Return)
    assert services.current_learner().username == "nurse-b"
    qtbot.waitUntil(lambda: window.learner_button.switch_dialog is None)

    from desktop.views.tasks import wait_for_writes

    window.close()
    assert wait_for_writes(10_000)
    assert services.locked()  # closed on a shared workstation: the CLI finds nobody's session open


def test_a_shared_workstation_starts_locked_and_escape_leaves_it_locked(qtbot, no_machine_policy, make_services):
    from desktop.views.main_window import MainWindow

    no_machine_policy.write_text("idle_sign_out_minutes = 15\n")
    services = make_services(dead_url())
    fill_cache(services, [make_activity(1)], services.server_url)
    _sign_in(services, "nurse-a", "learner-a")
    window = MainWindow(services)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.idle_locked, timeout=10_000):
        window.show()  # whoever opens the app on a shared computer proves who they are
    unlock = window.learner_button.switch_dialog
    names = [w.accessibleName() for w in (unlock.learner_combo, unlock.password_edit, unlock.continue_button,
                                          unlock.other_button, unlock.cancel_button)]
    assert all(names) and unlock.continue_button.isDefault()
    qtbot.keyClick(unlock.password_edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.learner_button.switch_dialog is None)
    assert services.locked() and window.library.visible_titles() == ["Activity 1"]


def test_user_input_restarts_the_idle_timer(qtbot):
    from PySide6.QtWidgets import QLineEdit

    from desktop.views.idle import IdleWatcher

    edit = QLineEdit()
    qtbot.addWidget(edit)
    watcher = IdleWatcher(10)
    try:
        assert watcher.timer.isActive() and watcher.timer.interval() == 600_000
        watcher.timer.stop()
        qtbot.keyClick(edit, Qt.Key.Key_A)
        assert watcher.timer.isActive()  # a key press brought it back
        watcher.timer.stop()
        qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)
        assert watcher.timer.isActive()
    finally:
        watcher.stop()
    watcher.timer.stop()
    qtbot.keyClick(edit, Qt.Key.Key_B)
    assert not watcher.timer.isActive()  # removed from the application: no longer listening
