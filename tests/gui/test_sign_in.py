"""Signing in through the dialog, against a real credit server (and one that is down)."""

from __future__ import annotations

from desktop.views.main_window import MainWindow
from desktop.views.sign_in_dialog import SignInDialog
from tests.support.clients import dead_url


def _dialog(qtbot, services) -> SignInDialog:
    dialog = SignInDialog(services)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def assert_fully_shown(dialog, *fields) -> None:
    """The error box and every field are as tall as they need: the dialog grew to fit the
    message instead of squashing the fields (password dots cut in half)."""
    box = dialog.error_label
    assert box.isVisible() and box.height() >= box.heightForWidth(box.width())
    for field in fields:
        assert field.height() >= field.sizeHint().height(), field.accessibleName()


def _sign_in(qtbot, dialog, username, password, server=None):
    if server is not None:
        dialog.server_edit.setText(server)
    dialog.username_edit.setText(username)
    dialog.password_edit.setText(password)
    with qtbot.waitSignal(dialog.attempt_finished, timeout=20_000):
        dialog.sign_in_button.click()
        assert dialog.sign_in_button.text() in ("Signing in…", "Sign in")


def test_wrong_password_is_shown_inline_and_the_dialog_stays_open(qtbot, make_services, server):
    services = make_services(server.url)
    dialog = _dialog(qtbot, services)
    dialog.username_edit.setText("demo")
    dialog.password_edit.setText("not-the-password")
    with qtbot.waitSignal(dialog.attempt_finished, timeout=20_000):
        dialog.sign_in_button.click()
        assert not dialog.sign_in_button.isEnabled()
        assert dialog.sign_in_button.text() == "Signing in…"
    assert dialog.isVisible()
    assert dialog.error_label.isVisible()
    assert "refused the username or password" in dialog.error_label.text()
    assert dialog.sign_in_button.isEnabled() and dialog.sign_in_button.text() == "Sign in"
    assert services.current_learner() is None


def test_server_down_shows_the_unreachable_message(qtbot, make_services):
    services = make_services(dead_url())
    dialog = _dialog(qtbot, services)
    _sign_in(qtbot, dialog, "demo", "demo")
    assert dialog.isVisible()
    assert "cannot be reached" in dialog.error_label.text()
    assert_fully_shown(dialog, dialog.server_edit, dialog.username_edit, dialog.password_edit)


def test_a_bad_address_is_explained_not_raised(qtbot, make_services):
    services = make_services(None)
    dialog = _dialog(qtbot, services)
    _sign_in(qtbot, dialog, "demo", "demo", server="cme.example.org")
    assert dialog.isVisible()
    assert "not valid" in dialog.error_label.text()
    assert services.server_url is None


def test_sign_in_then_sync_fills_the_library_from_the_demo_server(qtbot, make_services, server):
    services = make_services(None)
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.welcome_dialog is not None)  # first run: no server yet
    window.welcome_dialog.server_edit.setText(server.url)
    window.welcome_dialog.continue_button.click()
    qtbot.waitUntil(lambda: window.sign_in_dialog is not None and window.sign_in_dialog.isVisible())
    dialog = window.sign_in_dialog
    assert dialog.server_edit.text() == server.url
    assert window.library.empty_label.isVisible()

    dialog.username_edit.setText("demo")
    dialog.password_edit.setText("demo")
    with qtbot.waitSignal(window.sync_finished, timeout=30_000) as synced:
        dialog.sign_in_button.click()
    assert not isinstance(synced.args[0], Exception), synced.args[0]
    assert window.sign_in_dialog is None  # accepted and closed
    titles = window.library.visible_titles()
    assert titles, "the demo catalog should have filled the library"
    assert window.library.table.isVisible()
    text = window.status_text()
    assert "● Online" in text
    assert "last synced just now" in text
    assert "Not signed in" not in text
    assert "⚠" not in text

    # Signing out from Settings keeps the cached library
    window.show_section(3)
    page = window.settings_page
    assert page.learner_label.text().startswith("Signed in as")
    with qtbot.waitSignal(page.signed_out, timeout=20_000):
        page.sign_out_button.click()
    assert page.learner_label.text() == "Not signed in"
    assert "Not signed in" in window.status_text()
    assert window.library.visible_titles() == titles
