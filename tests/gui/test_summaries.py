"""The Summaries tab: sanitised rich text, no remote loading, links never followed inside."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QUrl

from desktop.media.summary import render_summary
from tests.player.demo_media import SERVER_URL, demo_activity, install_demo

pytestmark = pytest.mark.gui

HOSTILE = b"""# Dosing

<script>alert('owned')</script>
<img src="http://tracker.example/pixel.png" onerror="alert(1)">

Read the [guideline](https://example.org/guide) or [run this](javascript:alert(1)).
"""


def test_demo_summaries_show_when_their_tab_is_opened_one_section_each(qtbot, make_services):
    from desktop.views.activity.page import SUMMARIES_TAB, ActivityPage

    services = make_services(SERVER_URL)
    activity_id = install_demo(services)
    page = ActivityPage(services=services)
    qtbot.addWidget(page)
    page.show()
    page.show_activity(services.activity_detail(activity_id), None)
    tab = page.summaries_tab
    assert page.tabs.tabText(SUMMARIES_TAB) == "Summaries"
    assert tab.titles == []  # not read while the learner is elsewhere (watching, say)
    with qtbot.waitSignal(tab.summaries_shown, timeout=10_000):
        page.tabs.setCurrentIndex(SUMMARIES_TAB)
    assert tab.titles == [t for t, _ in services.summaries(activity_id)] and len(tab.titles) == 2
    text = tab.browser.toPlainText()
    assert all(text.count(title) == 1 for title in tab.titles)  # each summary's own "# Title" heads it, once
    assert all(headings(tab.browser).count(title) == 1 for title in tab.titles)
    assert tab.browser.maximumWidth() <= 800
    page.watch_tab.shutdown()


def headings(browser) -> list[str]:
    """The text of each heading (h1-h6) in the browser's document, in order."""
    found, block = [], browser.document().begin()
    while block.isValid():
        if block.blockFormat().headingLevel():
            found.append(block.text())
        block = block.next()
    return found


def install_summaries(services, summaries: list[tuple[str, str, bytes]]) -> str:
    """The demo activity with these (catalog title, media type, bytes) as its only summaries."""
    from cmecore import protocol

    activity, _ = demo_activity()
    assets = []
    for title, media_type, data in summaries:
        sha = hashlib.sha256(data).hexdigest()
        assets.append(protocol.Asset(kind="summary", media_type=media_type, size=len(data), sha256=sha,
                                     url=f"/api/v1/media/{sha}", title=title))
    activity_id = install_demo(services, assets=assets)
    for _, _, data in summaries:
        target = services.blobs.path_for(hashlib.sha256(data).hexdigest())
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return activity_id


def test_each_title_shows_once_as_one_heading_whether_or_not_the_summary_has_its_own(qtbot, make_services):
    from desktop.views.activity.summaries_tab import SummariesTab

    services = make_services(SERVER_URL)
    activity_id = install_summaries(services, [
        ("Dosing plan", "text/markdown", b"# Dosing plan\n\nStart **low**.\n\n## Review\n\nAt four weeks.\n"),
        ("Monitoring", "text/markdown", b"Check the home log weekly.\n"),
        ("Follow-up", "text/html", b"<h1>Follow-up (fictional)</h1><p>See the nurse.</p>"),
        ("Plain notes", "text/plain", b"Bring the device to clinic."),
    ])
    tab = SummariesTab()
    qtbot.addWidget(tab)
    tab.show_summaries(services.summaries(activity_id))
    assert tab.titles == ["Dosing plan", "Monitoring", "Follow-up (fictional)", "Plain notes"]
    text = tab.browser.toPlainText()
    assert text.count("Dosing plan") == 1 and text.count("Follow-up") == 1
    assert "Monitoring" in text and "Plain notes" in text  # no heading of its own: the catalog's title
    assert "Start low." in text and "See the nurse." in text and "Bring the device" in text
    # The document's headings: each title once, the summary's own sections kept under it.
    assert headings(tab.browser) == ["Dosing plan", "Review", "Monitoring", "Follow-up (fictional)", "Plain notes"]


WATCH_THEN_READ = r"""
import sys
from pathlib import Path
from desktop.paths import Paths
from desktop.services import Services
from desktop.views.activity.page import SUMMARIES_TAB, WATCH_TAB, ActivityPage
from desktop.views.main_window import ensure_app

app = ensure_app()
services = Services(Paths(Path(sys.argv[1])), server_url=sys.argv[2])
page = ActivityPage(services=services)
page.show()
page.show_activity(services.activity_detail(sys.argv[3]), None)
page.tabs.setCurrentIndex(WATCH_TAB)
app.processEvents()
renderers = ("markdown_it", "nh3")
print("watching", " ".join(m for m in renderers if m in sys.modules))
page.tabs.setCurrentIndex(SUMMARIES_TAB)
while not page.summaries_tab.titles:
    app.processEvents()
print("reading", " ".join(m for m in renderers if m in sys.modules))
page.watch_tab.shutdown()
"""


def test_watching_loads_no_summary_renderer_until_the_summaries_are_opened(make_services):
    # memory (issue 15): markdown-it and nh3 stay out of the playing app's process
    services = make_services(SERVER_URL)
    activity_id = install_demo(services)
    data_dir = services.paths.data_dir
    services.close()
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", WATCH_THEN_READ, str(data_dir), SERVER_URL, activity_id],
                         env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True, text=True,
                         timeout=120, cwd=root)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.splitlines()[-2:] == ["watching ", "reading markdown_it nh3"]


def test_hostile_summary_is_shown_safely_and_links_leave_the_app(qtbot, make_services, opened):
    from cmecore import protocol
    from desktop.views.activity.summaries_tab import SummariesTab

    services = make_services(SERVER_URL)
    sha = hashlib.sha256(HOSTILE).hexdigest()
    activity, _ = demo_activity()
    assets = [protocol.Asset(kind="summary", media_type="text/markdown", size=len(HOSTILE), sha256=sha,
                             url=f"/api/v1/media/{sha}", title="Hostile")]
    activity_id = install_demo(services, assets=assets)
    target = services.blobs.path_for(sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(HOSTILE)

    tab = SummariesTab()
    qtbot.addWidget(tab)
    requested = []
    original = tab.browser.loadResource
    tab.browser.loadResource = lambda kind, url: requested.append(url.toString()) or original(kind, url)
    tab.show_summaries(services.summaries(activity_id))
    tab.resize(800, 600)
    with qtbot.waitExposed(tab):
        tab.show()
    text = tab.browser.toPlainText()
    assert "owned" not in text and "alert('" not in text  # the script and its text are gone
    assert "guideline" in text
    html = tab.browser.toHtml()
    assert "tracker.example" not in html and 'href="javascript' not in html
    assert not [u for u in requested if not u.startswith("data:")]

    # Even HTML that did get an image past the sanitiser loads nothing remote.
    assert tab.browser.loadResource(2, QUrl("http://tracker.example/pixel.png")) is None
    assert tab.browser.loadResource(2, QUrl("file:///etc/passwd")) is None

    # Clicking the link hands it to the system and leaves the browser where it was.
    source_before = tab.browser.source()
    cursor = tab.browser.document().find("guideline")
    rect = tab.browser.cursorRect(cursor)
    qtbot.mouseClick(tab.browser.viewport(), Qt.MouseButton.LeftButton, pos=rect.center() - QPoint(2, 0))
    assert [u.toString() for u in opened] == ["https://example.org/guide"]
    assert tab.browser.source() == source_before
    assert "guideline" in tab.browser.toPlainText()

    # Anything but http/https/mailto is not opened at all.
    tab.browser.anchorClicked.emit(QUrl("file:///etc/passwd"))
    tab.browser.anchorClicked.emit(QUrl("mailto:cme@example.org"))
    assert [u.toString() for u in opened] == ["https://example.org/guide", "mailto:cme@example.org"]


def test_render_summary_drops_images_before_the_browser_sees_them():
    assert "<img" not in render_summary(HOSTILE, "text/markdown")
