"""A new server address in Settings: a signed-in learner is asked first, told that no one is
signed in to the new server and that they stay signed in to the old one (Cancel keeps
everything), is told afterwards what happened, and the status bar claims
neither Online nor Offline for the new server until a request to it has answered.
Real reference server on loopback, real SQLite and keyring, offscreen Qt."""

from __future__ import annotations

import pytest

from desktop.errors import ServerUnreachable
from tests.gui.test_learning_gui import T, make_window, signed_in
from tests.support.clients import dead_url

pytestmark = pytest.mark.gui

SETTINGS = 3


def save_address(window, url: str) -> str:
    page = window.settings_page
    page.server_edit.setText(url)
    page.save_button.click()
    return page.connection_message.text()


def test_a_new_address_asks_first_says_who_is_signed_in_where_and_is_not_online_until_it_answers(
        qtbot, server, make_services, server_change):
    services = signed_in(make_services(server.url))
    window = make_window(qtbot, services)
    window.show_section(SETTINGS)
    assert "● Online" in window.status_text()
    elsewhere = dead_url()

    # Cancel (the default): nothing changes, and the page says so.
    note = save_address(window, elsewhere)
    assert server_change.asked == [elsewhere]
    assert note == f"Not saved. The app still uses {server.url}."
    assert services.server_url == server.url and services.current_learner() is not None

    server_change.answer = True
    name = services.current_learner().display_name
    note = save_address(window, elsewhere)
    assert note == (f"Saved. No one is signed in to {elsewhere}: sign in there to sync. "
                    f"{name} is still signed in to {server.url}.")
    assert services.current_learner() is None
    status = window.status_text()
    assert "Online" not in status and "Offline" not in status  # nothing asked of that server yet
    assert status.startswith("Not yet contacted")
    assert "Not signed in" in status

    # One request to the new server that gets no answer: Offline.
    with pytest.raises(ServerUnreachable):
        services.syncing.probe()
    qtbot.waitUntil(lambda: "○ Offline" in window.status_text(), timeout=T)

    # Back to the first server, where the learner is still signed in: no question; one
    # request that answers: Online.
    note = save_address(window, server.url)
    assert server_change.asked == [elsewhere, elsewhere]
    assert note == f"Saved. Signed in to {server.url} as {services.current_learner().display_name}."
    assert window.status_text().startswith("Not yet contacted")
    services.syncing.probe()
    qtbot.waitUntil(lambda: "● Online" in window.status_text(), timeout=T)


def test_changing_the_address_with_nobody_signed_in_asks_nothing(qtbot, server, make_services, server_change):
    services = make_services(server.url)
    window = make_window(qtbot, services)
    window.show_section(SETTINGS)
    elsewhere = dead_url()
    assert save_address(window, elsewhere) == f"Saved. Sign in to {elsewhere} to sync."
    assert server_change.asked == []
    assert services.server_url == elsewhere


def test_a_new_address_saved_with_a_setting_that_is_refused_leaves_the_server_as_it_was(
        qtbot, server, make_services, server_change, tmp_path):
    services = signed_in(make_services(server.url))
    window = make_window(qtbot, services)
    window.show_section(SETTINGS)
    not_pem = tmp_path / "bundle.pem"
    not_pem.write_text("not a certificate")
    server_change.answer = True
    window.settings_page.ca_edit.setText(str(not_pem))
    note = save_address(window, dead_url())
    assert note.startswith("The settings could not be saved")
    assert services.server_url == server.url  # nothing half-saved: the learner still signed in here
    assert services.current_learner() is not None
