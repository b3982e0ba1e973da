"""The Watch tab shows an untimed transcript with the times search gives: when the catalog
has no video length, the length libvlc finds re-times both, once (real libvlc, real SQLite)."""

from __future__ import annotations

import hashlib

import pytest

from cmecore import protocol
from desktop.views.tasks import wait_for_writes
from tests.player.demo_media import SERVER_URL, demo_activity, install_demo

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("libvlc")]

TEXT = ("Welcome to the session. " * 6 + "Diuretics may cause hyponatraemia in older adults. "
        + "Thank you for listening today. " * 6).encode()


def test_the_length_libvlc_finds_retimes_panel_and_search_alike(qtbot, make_services):
    from desktop.views.activity.page import ActivityPage

    services = make_services(SERVER_URL)
    activity, _ = demo_activity()
    video = next(a for a in activity.assets if a.kind.value == "video").model_copy(update={"duration_ms": None})
    sha = hashlib.sha256(TEXT).hexdigest()
    plain = protocol.Asset(kind="transcript", media_type="text/plain", size=len(TEXT), sha256=sha,
                           url=f"/api/v1/media/{sha}", timed=False)
    activity_id = install_demo(services, assets=[video, plain])  # an old server: no length in the catalog
    target = services.blobs.path_for(sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(TEXT)
    services.downloads.asset_arrived(sha)  # indexed as a download would: at the nominal pace

    page = ActivityPage(services=services)
    qtbot.addWidget(page)
    panel = page.watch_tab.transcript_panel
    try:
        with qtbot.waitSignal(page.watch_tab.transcript_shown, timeout=5_000):
            page.show_activity(services.activity_detail(activity_id), "physician")
        # Playing, libvlc reports the length; the writer keeps it and re-times; the panel reads again.
        page.watch_tab.play()
        qtbot.waitUntil(lambda: panel.transcript is not None and page.watch_tab.player is not None
                        and panel.transcript.cues[-1].end_ms == page.watch_tab.player.length_ms() > 0,
                        timeout=10_000)
        wait_for_writes()
        (row,) = panel.index.find("hyponatraemia")
        (hit,) = [h for h in services.search("hyponatraemia") if h.kind == "transcript"]
        assert hit.time_ms == panel.index.cues[row].start_ms  # where a click on the cue seeks
    finally:
        page.watch_tab.shutdown()
