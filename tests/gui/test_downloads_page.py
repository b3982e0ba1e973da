"""Downloads in the GUI, against the real credit server: the library's Download button, the
jobs table and its progress, pause/resume of a throttled job, the count badge, the
"Downloaded" notification, removing a video, and a clean exit mid-download that resumes
at the next start."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProxyStyle, QStyle, QTableView

from cmecore.renditions import Quality
from desktop.cache.video_forms import video_forms
from desktop.errors import VideoNotRemoved
from desktop.views.download_queue import NOTHING_TO_DOWNLOAD
from desktop.views.download_widgets import JobsTable, ProgressDelegate, bandwidth_text, format_eta
from desktop.views.downloads_page import DownloadsModel
from desktop.views.main_window import CREDITS, DOWNLOADS, SETTINGS, MainWindow
from tests.support.activities import DEMO_ID


@pytest.fixture
def signed_in(make_services, server):
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    services.sync()
    services.acknowledge_disclosures(DEMO_ID)  # rule 1: content unlocks after the disclosures
    return services


@pytest.fixture
def open_window(qtbot, make_services):
    """Windows are closed (download thread stopped) before their Services are closed."""
    made = []

    def open_(services) -> MainWindow:
        window = MainWindow(services)
        qtbot.addWidget(window)
        made.append(window)
        with qtbot.waitSignal(window.sync_finished, timeout=20_000):
            window.show()
        return window

    yield open_
    for window in made:
        window.close()
        assert not window.download_runner.is_running()


def _rows(window):
    return {r.kind: r for r in window.downloads_page.model.rows()}


def _video(window):
    return _rows(window).get("video")


def test_download_button_fills_the_jobs_table_and_ends_with_everything_present(qtbot, signed_in, open_window):
    window = open_window(signed_in)
    title = window.library.model.row_at(0).title
    events, badges = [], []
    window.download_runner.event.connect(events.append)
    window.events.downloads_changed.connect(lambda _source: badges.append(window.nav.item(DOWNLOADS).text()))
    window.show_section(DOWNLOADS)
    assert window.downloads_page.model.rowCount() == 0
    assert "Nothing to download" in window.downloads_page.summary_label.text()
    assert window.downloads_page.bandwidth_label.text() == "Bandwidth: no cap"
    assert window.downloads_page.disk_label.text().startswith("Free disk space: ")

    window.show_section(0)
    assert window.library.select_id(DEMO_ID)
    assert window.library.download_button.isEnabled()
    with qtbot.waitSignal(window.notified, timeout=20_000) as notified:
        window.library.download_button.click()
        qtbot.waitUntil(lambda: window.downloads_page.model.rowCount() == 4)
        window.show_section(DOWNLOADS)
        assert {r.kind for r in window.downloads_page.model.rows()} == {"video", "transcript", "summary"}
        window.downloads_page.table.grab()  # the progress delegate paints

    assert notified.args == [f"Downloaded: {title}"]
    assert window.last_notification == f"Downloaded: {title}"
    assert window.statusBar().currentMessage() == f"Downloaded: {title}"  # no tray offscreen
    qtbot.waitUntil(lambda: all(r.state == "done" for r in window.downloads_page.model.rows()))
    qtbot.waitUntil(lambda: window.library.media_text_of(DEMO_ID) == "● Downloaded")
    assert any(e.state == "running" and 0 < e.bytes_done < e.size for e in events if e.kind == "video") or any(
        e.state == "running" for e in events
    )
    model = window.downloads_page.model
    for row in range(model.rowCount()):
        assert model.index(row, DownloadsModel.STATE).data() == "Downloaded"
        assert model.index(row, DownloadsModel.PROGRESS).data() == "100%"
    assert any(b.startswith("Downloads ") and b[-1].isdigit() for b in badges), badges
    # The badge follows the job list's next reload (the one the video's "done" schedules): the
    # library may say Downloaded first, when a reload read the jobs just before the video's
    # job was marked done and the library just after its file arrived.
    qtbot.waitUntil(lambda: window.nav.item(DOWNLOADS).text() == "Downloads")
    assert window.downloads_page.summary_label.text() == "All downloads finished."
    assert window.downloads_page.storage_model.rowCount() == 1
    assert window.downloads_page.storage_label.text().startswith("Storage used: ")
    assert "pending" not in window.status_text()


def test_with_everything_downloaded_no_download_button_is_a_silent_no_op(qtbot, signed_in, open_window):
    window = open_window(signed_in)
    assert window.library.select_id(DEMO_ID)
    with qtbot.waitSignal(window.notified, timeout=20_000):
        window.library.download_button.click()
    qtbot.waitUntil(lambda: window.library.media_text_of(DEMO_ID) == "● Downloaded")
    # Library: nothing left to fetch for the selected activity, as on its Overview.
    assert window.library.select_id(DEMO_ID)
    qtbot.waitUntil(lambda: not window.library.download_button.isEnabled())
    assert window.library.download_button.toolTip().startswith("Already downloaded")
    # Downloads: "Download all" says there is nothing to fetch.
    window.show_section(DOWNLOADS)
    page = window.downloads_page
    page.download_all_button.click()
    qtbot.waitUntil(lambda: page.message_label.text() == NOTHING_TO_DOWNLOAD)
    assert page.message_label.isVisible()


def test_pause_and_resume_a_throttled_video(qtbot, signed_in, open_window):
    signed_in.update_settings(bandwidth_cap_kbps=160)  # 20 KB/s: the 175 KB video takes ~9 s
    window = open_window(signed_in)
    page = window.downloads_page
    window.show_section(DOWNLOADS)
    assert page.bandwidth_label.text() == "Bandwidth cap: 160 kbit/s"

    with qtbot.waitSignal(window.download_runner.run_started, timeout=5_000):
        page.download_all_button.click()
    qtbot.waitUntil(lambda: _video(window) is not None and _video(window).state == "running"
                    and _video(window).bytes_done > 0, timeout=10_000)
    assert window.nav.item(DOWNLOADS).text().startswith("Downloads ")
    assert "pending" in window.status_text()
    page.table.grab()
    speed_text = page.model.index(page.model.row_of(_video(window).id), DownloadsModel.SPEED).data()
    assert speed_text.endswith("/s") or speed_text == "—"

    page.select_jobs([_video(window).id])
    assert page.pause_button.isEnabled()
    page.pause_button.click()
    qtbot.waitUntil(lambda: _video(window).state == "paused", timeout=5_000)
    qtbot.waitUntil(lambda: not window.download_runner.is_running(), timeout=5_000)
    stored = next(j for j in signed_in.download_jobs() if j.kind == "video")
    assert stored.state == "paused" and 0 < stored.bytes_done < stored.size
    part = signed_in.blobs.part_path_for(stored.sha256)
    assert part.stat().st_size == stored.bytes_done  # what arrived is kept
    assert window.library.media_text_of(DEMO_ID).endswith("% downloaded")
    assert window.nav.item(DOWNLOADS).text() == "Downloads"  # paused is not active

    signed_in.update_settings(bandwidth_cap_kbps=None)  # let the rest come quickly
    page.select_jobs([stored.id])
    assert page.resume_button.isEnabled() and not page.pause_button.isEnabled()
    with qtbot.waitSignal(window.notified, timeout=20_000):
        page.resume_button.click()
    qtbot.waitUntil(lambda: _video(window).state == "done")
    qtbot.waitUntil(lambda: window.library.media_text_of(DEMO_ID) == "● Downloaded")


def test_the_page_is_built_when_first_opened_and_the_count_follows_the_queue_before(qtbot, signed_in,
                                                                                   open_window):
    signed_in.update_settings(bandwidth_cap_kbps=160)  # 20 KB/s: the video is still coming when the page opens
    window = open_window(signed_in)
    assert [window.built_page(i) for i in (DOWNLOADS, CREDITS, SETTINGS)] == [None, None, None]

    with qtbot.waitSignal(window.download_runner.run_started, timeout=5_000):
        window.download_activities([DEMO_ID])  # the library's Download button, with no page behind it
    qtbot.waitUntil(lambda: window.nav.item(DOWNLOADS).text().startswith("Downloads "), timeout=10_000)
    assert "pending" in window.status_text()
    assert window.built_page(DOWNLOADS) is None

    ctrl_2 = next(a for a in window.actions() if a.shortcut().toString() == "Ctrl+2")
    ctrl_2.trigger()
    page = window.built_page(DOWNLOADS)
    assert page is not None and window.stack.currentWidget() is page and window.stack.currentIndex() == DOWNLOADS
    assert page.accessibleName() == "Downloads" and page.bandwidth_label.text() == "Bandwidth cap: 160 kbit/s"
    assert _video(window) is not None and _video(window).state in ("queued", "running")
    assert window.built_page(CREDITS) is None and window.built_page(SETTINGS) is None
    qtbot.waitUntil(lambda: _video(window).state == "done", timeout=30_000)
    qtbot.waitUntil(lambda: window.nav.item(DOWNLOADS).text() == "Downloads")


def test_remove_downloaded_video_from_the_overview_and_the_downloads_page(qtbot, signed_in, open_window):
    signed_in.enqueue_downloads([DEMO_ID])
    assert signed_in.run_downloads().ok
    window = open_window(signed_in)
    window.open_activity(DEMO_ID)
    page = window.activity_page
    assert page.overview.remove_video_button.isEnabled() and not page.overview.download_button.isEnabled()
    with qtbot.waitSignal(window.events.catalog_changed, timeout=5_000):
        page.overview.remove_video_button.click()
    qtbot.waitUntil(lambda: window.library.media_text_of(DEMO_ID) == "◐ Partly downloaded")
    assert "freed" in window.downloads_page.message_label.text()
    assert window.activity_page.overview.download_button.isEnabled()  # the overview was rebuilt

    with qtbot.waitSignal(window.notified, timeout=20_000):
        window.activity_page.overview.download_button.click()
    qtbot.waitUntil(lambda: window.library.media_text_of(DEMO_ID) == "● Downloaded")

    dl = window.downloads_page
    dl.refresh()
    dl.select_jobs([_video(window).id])
    assert dl.remove_video_button.isEnabled()
    with qtbot.waitSignal(window.events.catalog_changed, timeout=5_000):
        dl.remove_video_button.click()
    qtbot.waitUntil(lambda: window.library.media_text_of(DEMO_ID) == "◐ Partly downloaded")


def test_a_remove_that_fails_part_way_leaves_the_files_line_and_the_library_row_true(
    qtbot, signed_in, open_window, make_services, server, tmp_path
):
    """Two forms of the video here, brought by a pack (no job to show a change): Remove video
    deletes the first and then fails (a folder stands where its partial file would be), so the
    second stays. The learner is told what to do; the Files line and the library say what is here."""
    it = make_services(server.url, at=tmp_path / "it")
    it.sign_in("demo", "demo")
    pack = it.export_pack([DEMO_ID], tmp_path / "demo.zip", qualities=[Quality.best, Quality.small]).path
    signed_in.import_pack(pack)
    assert not signed_in.download_jobs()
    here = sorted((f for f in video_forms(signed_in.db, DEMO_ID) if f.quality in (Quality.best, Quality.small)),
                  key=lambda f: f.sha256)
    assert all(signed_in.blobs.path_for(f.sha256).is_file() for f in here)
    first, kept = here  # removed in this order
    signed_in.blobs.part_path_for(first.sha256).mkdir()  # its file goes, then removing this fails
    window = open_window(signed_in)
    window.open_activity(DEMO_ID)
    page = window.activity_page
    assert {f.quality for f in page.overview.forms if f.on_machine} == {Quality.best, Quality.small}

    with qtbot.waitSignal(window.events.catalog_changed, timeout=5_000):
        page.overview.remove_video_button.click()
    qtbot.waitUntil(lambda: [f.quality for f in page.overview.forms if f.on_machine] == [kept.quality],
                    timeout=5_000)
    assert not signed_in.blobs.path_for(first.sha256).exists() and signed_in.blobs.path_for(kept.sha256).is_file()
    assert page.overview.forms == signed_in.downloads.video_forms(DEMO_ID)
    assert window.download_queue.note == VideoNotRemoved.message
    (now,) = [r for r in signed_in.library_rows() if r.id == DEMO_ID]
    qtbot.waitUntil(lambda: _library_row(window, DEMO_ID) == now, timeout=5_000)
    assert window.library.media_text_of(DEMO_ID) == "● Downloaded"  # the original is still here


def _library_row(window, activity_id):
    model = window.library.model
    return next(model.row_at(i) for i in range(model.rowCount()) if model.row_at(i).id == activity_id)


def test_closing_mid_download_keeps_the_job_resumable_and_the_next_start_resumes_it(
    qtbot, signed_in, open_window
):
    signed_in.update_settings(bandwidth_cap_kbps=160)
    signed_in.enqueue_downloads([DEMO_ID])
    window = open_window(signed_in)  # queued jobs at start-up: the runner starts by itself
    qtbot.waitUntil(lambda: _video(window) is not None and _video(window).bytes_done > 0, timeout=10_000)
    window.close()  # sets the stop event and waits for the thread
    assert not window.download_runner.is_running()
    stored = next(j for j in signed_in.download_jobs() if j.kind == "video")
    assert stored.state == "queued" and 0 < stored.bytes_done < stored.size
    assert signed_in.blobs.part_path_for(stored.sha256).stat().st_size == stored.bytes_done

    signed_in.update_settings(bandwidth_cap_kbps=None)
    again = MainWindow(signed_in)
    qtbot.addWidget(again)
    try:
        with qtbot.waitSignal(again.notified, timeout=20_000):
            again.show()
        qtbot.waitUntil(lambda: next(j for j in signed_in.download_jobs() if j.kind == "video").state == "done")
    finally:
        again.close()
    assert not again.download_runner.is_running()


def test_wording_helpers():
    assert format_eta(None) == "—"
    assert format_eta(75) == "1:15"
    assert format_eta(3725) == "1:02:05"
    assert bandwidth_text(None) == "Bandwidth: no cap"
    assert bandwidth_text(2000) == "Bandwidth cap: 2 Mbit/s"


def test_the_progress_column_is_a_bar_showing_each_rows_percentage(qtbot):
    """What the delegate asks the style to draw: a progress bar at the job's share, labelled
    with it (a finished job is full whatever its byte count)."""
    painted = []

    class RecordingStyle(QProxyStyle):
        def drawControl(self, element, option, painter, widget=None):
            if element == QStyle.ControlElement.CE_ProgressBar:
                painted.append((option.progress, option.maximum, option.text))
            super().drawControl(element, option, painter, widget)

    def job(job_id, bytes_done, state):
        return SimpleNamespace(id=job_id, activity_id=DEMO_ID, kind="video", size=1000, bytes_done=bytes_done,
                               state=state, error=None, quality=None)  # JobInfo's fields

    model = DownloadsModel()
    model.set_jobs([job(1, 420, "paused"), job(2, 0, "done")], {DEMO_ID: "Home blood pressure"})
    view = QTableView()
    qtbot.addWidget(view)
    style = RecordingStyle("Fusion")
    view.setStyle(style)
    view.setModel(model)
    view.setItemDelegateForColumn(DownloadsModel.PROGRESS, ProgressDelegate(view))
    view.resize(1000, 200)
    view.grab()

    assert painted == [(420, 1000, "42%"), (1000, 1000, "100%")]
    assert model.index(0, DownloadsModel.PROGRESS).data(Qt.ItemDataRole.ToolTipRole) == "42% of 1000 bytes"


def test_the_app_process_exits_cleanly_mid_download(signed_in, data_dir):
    """run_gui in its own process, closed while the throttled video is arriving: exit 0, no
    abort, and the job is left queued with its bytes for the next start."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    signed_in.update_settings(bandwidth_cap_kbps=160)
    signed_in.enqueue_downloads([DEMO_ID])
    server_url = signed_in.server_url
    signed_in.close()
    code = (
        "import sys; from pathlib import Path\n"
        "from PySide6.QtCore import QTimer\nfrom PySide6.QtWidgets import QApplication\n"
        "from desktop.config import Paths\nfrom desktop.services import Services\n"
        "from desktop.views.main_window import MainWindow, ensure_app, run_gui\n"
        f"s = Services(Paths(Path({str(data_dir)!r})), server_url={server_url!r})\n"
        "app = ensure_app()\n"
        "def poll():\n"
        "    for w in QApplication.topLevelWidgets():\n"
        "        if isinstance(w, MainWindow):\n"
        "            rows = [r for r in w.downloads_page.model.rows() if r.kind == 'video']\n"
        "            if rows and rows[0].state == 'running' and rows[0].bytes_done > 0:\n"
        "                print('closing mid-download', flush=True)\n"
        "                w.close()\n"
        "                return\n"
        "    QTimer.singleShot(20, poll)\n"
        "QTimer.singleShot(0, poll)\n"
        "try:\n    sys.exit(run_gui(s))\nfinally:\n    s.close()\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "closing mid-download" in done.stdout
    assert "Destroyed while thread" not in done.stderr

    from desktop.config import Paths
    from desktop.services import Services

    after = Services(Paths(data_dir), server_url=server_url)
    try:
        video = next(j for j in after.download_jobs() if j.kind == "video")
        assert video.state == "queued" and 0 < video.bytes_done < video.size
        assert after.blobs.part_path_for(video.sha256).stat().st_size == video.bytes_done
    finally:
        after.close()


def test_the_activity_column_takes_the_space_an_empty_error_column_does_not_need(qtbot):
    title = "Home Blood-Pressure Monitoring in Older Adults"

    def job(job_id, error=None):
        return SimpleNamespace(id=job_id, activity_id=DEMO_ID, kind="video", size=1000, bytes_done=1000,
                               state="failed" if error else "done", error=error, quality=None)  # JobInfo's fields

    model = DownloadsModel()
    model.set_jobs([job(1), job(2)], {DEMO_ID: title})
    table = JobsTable(model)
    qtbot.addWidget(table)
    table.resize(1000, 300)
    table.show()
    qtbot.waitExposed(table)
    fm = table.fontMetrics()
    error_width = table.columnWidth(DownloadsModel.ERROR)
    assert error_width < fm.horizontalAdvance("Server not reachable")  # as narrow as its heading
    qtbot.waitUntil(lambda: table.columnWidth(DownloadsModel.ACTIVITY) > fm.horizontalAdvance(title))  # not "Home Bloo…"

    model.set_jobs([job(1, "Server not reachable"), job(2)], {DEMO_ID: title})
    assert table.columnWidth(DownloadsModel.ERROR) >= fm.horizontalAdvance("Server not reachable")  # a problem: room to read it
