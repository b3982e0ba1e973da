"""The window paints the cached library before the services are open, then attaches them."""

from __future__ import annotations

import threading

from desktop.cache.blobstore import BlobStore
from desktop.cache.library_snapshot import read_first_paint
from desktop.views.main_window import DOWNLOADS, MainWindow
from tests.support.activities import make_activity
from tests.support.clients import dead_url, fill_cache


def test_library_shows_before_the_services_open_and_the_rest_follows(qtbot, make_services, data_dir):
    seeded = make_services(dead_url())
    fill_cache(seeded, [make_activity(2), make_activity(1)], seeded.server_url)
    first_paint = read_first_paint(seeded.paths.database, BlobStore(seeded.paths.blobs))
    seeded.close()

    release = threading.Event()  # the services stay "opening" until the test says so

    def open_services():
        assert release.wait(20)
        return make_services(dead_url())

    window = MainWindow(None, first_paint=first_paint)
    qtbot.addWidget(window)
    window.show()
    window.open_services_in_background(open_services)
    # cached rows on screen, sorted by title, while the services are still opening
    assert window.library.visible_titles() == ["Activity 1", "Activity 2"]
    assert "Opening" in window.status_label.text()
    window.show_section(DOWNLOADS)  # nothing to show yet: stays on the library, no crash
    assert window.stack.currentWidget() is window.library

    release.set()
    qtbot.waitUntil(lambda: window.services is not None, timeout=20_000)
    assert window.library.visible_titles() == ["Activity 1", "Activity 2"]
    window.show_section(DOWNLOADS)
    assert window.stack.currentWidget() is window.downloads_page
    assert "Opening" not in window.status_label.text()


def test_a_cache_that_cannot_open_is_said_plainly(qtbot):
    def open_services():
        raise RuntimeError("the cache was written by a newer CME Offline (schema 9999)")

    window = MainWindow(None, first_paint=None)
    qtbot.addWidget(window)
    window.show()
    window.open_services_in_background(open_services)
    qtbot.waitUntil(lambda: "could not be opened" in window.status_label.text(), timeout=10_000)
    assert "newer CME Offline" in window.error_label.toolTip()
