"""The window itself: the demo window before its server, a place that is remembered and
fits the screen, light and dark, and Settings that keep what the learner typed."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication, QPalette

from creditserver import runner
from desktop import demo
from desktop.demo import DemoLauncher
from desktop.views import pages
from desktop.views.main_window import LIBRARY, SETTINGS, MainWindow, end_session, open_window
from desktop.views.theme import is_dark
from desktop.views.window_prefs import DEFAULT_SIZE, MINIMUM_SIZE, WindowPrefs, fit_rect
from tests.support.clients import dead_url


def test_the_demo_window_shows_before_its_server_is_ready(qtbot, data_dir, monkeypatch):
    release = threading.Event()
    server_ready_while_window_visible = []
    real_serve = runner.serve_in_thread

    def serve_when_released(*args, **kwargs):  # the real server, held back until the test has looked
        assert release.wait(30)
        server = real_serve(*args, **kwargs)
        server_ready_while_window_visible.append(window.isVisible())
        return server

    monkeypatch.setattr(runner, "serve_in_thread", serve_when_released)  # the demo imports it when it starts
    launcher = DemoLauncher(data_dir)
    window = open_window(demo=True, demo_launcher=launcher, prefs=WindowPrefs(data_dir))
    qtbot.addWidget(window)
    try:
        assert window.isVisible() and window.windowTitle() == "CME Offline — demo"
        qtbot.waitUntil(lambda: window.status_label.text() == demo.STARTING_SERVER, timeout=10_000)
        assert window.services is None  # nothing of the demo is ready yet: the window is

        with qtbot.waitSignal(window.sync_finished, timeout=60_000) as synced:
            release.set()
        assert server_ready_while_window_visible == [True]
        assert not isinstance(synced.args[0], BaseException), synced.args
        assert window.library.visible_titles(), "the first sync fills the library"
        assert "Not signed in" not in window.status_text()
    finally:
        release.set()
        window.close()
        end_session(window)
        launcher.stop()


def test_fit_rect_keeps_a_saved_place_inside_the_screen():
    screen = QRect(0, 0, 1024, 700)
    assert fit_rect(None, screen) == QRect(0, 0, 1024, 700)  # the default size does not fit: the whole screen
    big = QRect(0, 0, 1920, 1080)
    assert fit_rect(None, big) == QRect((1920 - DEFAULT_SIZE.width()) // 2, (1080 - DEFAULT_SIZE.height()) // 2,
                                        DEFAULT_SIZE.width(), DEFAULT_SIZE.height())  # centred
    # closed on a second monitor to the right: comes back whole on this one
    assert fit_rect(QRect(2500, 300, 900, 600), screen) == QRect(124, 100, 900, 600)
    # larger than the screen (closed at 1×, opened at 2×): shrunk to it
    assert fit_rect(QRect(-50, -20, 2200, 1400), screen) == QRect(0, 0, 1024, 700)
    # a tiny saved size grows to the minimum the pages are laid out for
    assert fit_rect(QRect(10, 10, 200, 100), screen).size() == MINIMUM_SIZE
    # a screen whose usable area does not start at 0,0 (a panel on the left)
    assert fit_rect(QRect(0, 0, 900, 600), QRect(64, 0, 960, 700)).topLeft().x() == 64


def test_the_window_reopens_where_it_was_closed_within_the_screen(qtbot, make_services, data_dir):
    services = make_services(dead_url())
    available = QGuiApplication.primaryScreen().availableGeometry()
    window = MainWindow(services, prefs=WindowPrefs(data_dir))
    qtbot.addWidget(window)
    window.show()
    place = QRect(available.x() + 20, available.y() + 30, MINIMUM_SIZE.width() + 20, MINIMUM_SIZE.height() + 40)
    window.setGeometry(place)
    window.close()
    assert WindowPrefs(data_dir).window_rect() == (place, False)

    again = MainWindow(services, prefs=WindowPrefs(data_dir))
    qtbot.addWidget(again)
    assert again.geometry() == place

    WindowPrefs(data_dir).save_window_rect(QRect(available.right() + 500, -400, 5000, 3000), False)
    off_screen = MainWindow(services, prefs=WindowPrefs(data_dir))
    qtbot.addWidget(off_screen)
    assert available.contains(off_screen.geometry()), (off_screen.geometry(), available)


def test_dark_is_applied_at_once_and_remembered(qtbot, make_services, data_dir, theme):
    services = make_services(dead_url())
    window = MainWindow(services, prefs=WindowPrefs(data_dir))
    qtbot.addWidget(window)
    window.show()
    window.show_section(SETTINGS)
    combo = window.settings_page.appearance.theme_combo
    combo.setCurrentIndex(combo.findData("dark"))
    assert is_dark(QGuiApplication.palette()) and theme.dark()
    assert WindowPrefs(data_dir).theme == "dark"
    assert not window.settings_page.has_unsaved_changes()  # nothing to save: it applied
    combo.setCurrentIndex(combo.findData("light"))
    assert not is_dark(QGuiApplication.palette())
    assert WindowPrefs(data_dir).theme == "light"


def test_open_window_applies_the_remembered_colours(qtbot, make_services, data_dir, theme):
    WindowPrefs(data_dir).theme = "dark"
    window = open_window(make_services(dead_url()), prefs=WindowPrefs(data_dir))
    qtbot.addWidget(window)
    assert is_dark(QGuiApplication.palette())
    assert window.settings_page.appearance.theme_combo.currentData() == "dark"


def test_the_transcript_text_size_is_remembered_within_its_range(data_dir):
    WindowPrefs(data_dir).transcript_points = 14
    assert WindowPrefs(data_dir).transcript_points == 14
    WindowPrefs(data_dir).transcript_points = 400
    assert WindowPrefs(data_dir).transcript_points == 28


def test_settings_keep_typed_values_until_saved_or_discarded(qtbot, make_services, unsaved_settings):
    services = make_services(dead_url())
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    window.show_section(SETTINGS)
    page = window.settings_page
    assert not page.save_button.isEnabled() and page.unsaved_label.isHidden()

    page.proxy_edit.setText("http://proxy.example:8080")
    assert page.has_unsaved_changes() and page.save_button.isEnabled() and not page.unsaved_label.isHidden()
    window.events.learner_changed.emit(None)  # anything that refreshes the page keeps what was typed
    assert page.proxy_edit.text() == "http://proxy.example:8080"

    unsaved_settings.answer = pages.STAY
    window.show_section(LIBRARY)
    assert unsaved_settings.asked == 1
    assert window.stack.currentWidget() is page and window.nav.currentRow() == SETTINGS
    assert page.proxy_edit.text() == "http://proxy.example:8080"

    unsaved_settings.answer = pages.SAVE
    window.show_section(LIBRARY)
    assert window.stack.currentWidget() is window.library
    assert services.settings.proxy == "http://proxy.example:8080"

    window.show_section(SETTINGS)
    page.interval_spin.setValue(45)
    unsaved_settings.answer = pages.DISCARD
    window.show_section(LIBRARY)
    assert window.stack.currentWidget() is window.library
    assert services.settings.sync_interval_minutes == 15
    window.show_section(SETTINGS)
    assert page.interval_spin.value() == 15 and not page.has_unsaved_changes()
    assert unsaved_settings.asked == 3


def test_closing_with_unsaved_settings_asks_and_may_stay_open(qtbot, make_services, unsaved_settings):
    window = MainWindow(make_services(dead_url()))
    qtbot.addWidget(window)
    window.show()
    window.show_section(SETTINGS)
    window.settings_page.hours_edit.setText("19:00-07:00")
    unsaved_settings.answer = pages.STAY
    window.close()
    assert window.isVisible() and unsaved_settings.asked == 1
    unsaved_settings.answer = pages.DISCARD
    window.close()
    assert not window.isVisible()


def test_a_bad_value_keeps_the_page_when_saving_on_the_way_out(qtbot, make_services, unsaved_settings):
    window = MainWindow(make_services(dead_url()))
    qtbot.addWidget(window)
    window.show()
    window.show_section(SETTINGS)
    page = window.settings_page
    page.server_edit.setText("ftp://nope")
    unsaved_settings.answer = pages.SAVE
    window.show_section(LIBRARY)
    assert window.stack.currentWidget() is page
    assert "not valid" in page.connection_message.text()


def _contrast(a, b) -> float:
    def lum(c):
        lin = [(v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4) for v in (c.redF(), c.greenF(), c.blueF())]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_red_status_error_is_readable_in_dark_and_light(qtbot, make_services, theme):
    window = MainWindow(make_services(dead_url()))
    qtbot.addWidget(window)
    window.show()
    label = window.status_line.error_label
    label.setText("⚠ Server not reachable")
    for scheme in ("dark", "light", "dark"):  # a switch while running re-tones it
        theme.apply(scheme)
        background = QGuiApplication.palette().color(QPalette.ColorRole.Window)
        image = label.grab().toImage()  # what is drawn (a style sheet colour included)
        assert image.pixelColor(image.width() - 1, image.height() // 2) == background
        inks = [image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height())]
        ink = max(inks, key=lambda c: _contrast(c, background))
        assert _contrast(ink, background) >= 4.5, (scheme, ink.name(), background.name())
        assert ink.red() > ink.green() + 40  # still red
        assert label.font().bold()
