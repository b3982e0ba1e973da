"""The Watch tab on the real demo video: real libvlc (dummy outputs), real SQLite, offscreen Qt."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QThread

from desktop.views.tasks import wait_for_writes
from tests.player.demo_media import SERVER_URL, install_demo

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("libvlc")]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def page(qtbot, make_services):
    from desktop.views.activity.page import ActivityPage

    services = make_services(SERVER_URL)
    activity_id = install_demo(services)
    page = ActivityPage(services=services)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    with qtbot.waitSignal(page.watch_tab.transcript_shown, timeout=5_000):  # read on the task pool
        page.show_activity(services.activity_detail(activity_id), "physician")
    page.tabs.setCurrentIndex(1)
    yield page
    page.watch_tab.shutdown()


def test_highlight_follows_the_real_video_and_agrees_with_libvlc(qtbot, page):
    tab = page.watch_tab
    panel = tab.transcript_panel
    player = tab.player
    assert page.tabs.tabText(1) == "Watch" and panel.machine_banner.isVisible()
    player.set_rate(2.0)
    ticks, reports, threads = [], [], []

    def on_tick(ms):
        if player.is_playing():
            ticks.append((ms, panel.current_row, panel.index.index_at(ms)))  # the tick's own position

    def on_report(ms):
        threads.append(QThread.currentThread() is qtbot_app().thread())
        reports.append((ms, panel.current_row))

    player.position_changed.connect(on_tick)
    player.time_reported.connect(on_report)
    with qtbot.waitSignal(player.playing_changed, timeout=5_000):
        tab.play()
    qtbot.waitUntil(lambda: len(reports) >= 8, timeout=10_000)
    tab.pause()
    assert threads and all(threads)
    # At each tick the highlighted cue is the cue at the clock's position…
    assert ticks and all(row == expected for _ms, row, expected in ticks)
    # …and at each of libvlc's own reports it is within one cue of libvlc's time.
    for ms, row in reports[1:]:
        assert row is not None and abs(row - panel.index.index_at(ms)) <= 1, (ms, row)
    assert panel.current_row == panel.index.index_at(player.position_ms()) > 0


def qtbot_app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance()


def test_clicking_a_cue_seeks_and_seeking_ahead_does_not_count_as_watched(qtbot, page):
    tab = page.watch_tab
    panel, player = tab.transcript_panel, tab.player
    player.set_rate(2.0)
    with qtbot.waitSignal(player.playing_changed, timeout=5_000):
        tab.play()
    qtbot.waitUntil(lambda: player.position_ms() >= 2_000, timeout=5_000)
    watched_before = tab.tracker.watched.watched_ms()
    assert watched_before >= 1_500

    row = 15  # 37.5 s into the talk
    rect = panel.view.visualRect(panel.model.index(row))
    panel.view.scrollTo(panel.model.index(row))
    rect = panel.view.visualRect(panel.model.index(row))
    from PySide6.QtCore import Qt

    with qtbot.waitSignal(player.time_reported, timeout=5_000, check_params_cb=lambda ms: ms >= 37_000):
        qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    # The jump from ~2 s to 37.5 s is not watched time…
    assert tab.tracker.watched.watched_ms() < watched_before + 1_000
    assert panel.current_row in (row, row + 1)
    start = tab.tracker.watched.watched_ms()
    qtbot.waitUntil(lambda: player.position_ms() >= 40_000, timeout=5_000)
    tab.pause()
    # …while playing on from there is.
    assert tab.tracker.watched.watched_ms() >= start + 1_500
    assert any(s <= 38_000 and e >= 40_000 for s, e in tab.tracker.watched.intervals), tab.tracker.watched


def test_position_and_watched_ranges_persist_and_resume(qtbot, page, make_services):
    from desktop.views.activity.page import ActivityPage

    tab = page.watch_tab
    player = tab.player
    player.set_rate(2.0)
    tab.seek(20_000)
    with qtbot.waitSignal(player.playing_changed, timeout=5_000):
        tab.play()
    qtbot.waitUntil(lambda: player.position_ms() >= 22_000, timeout=5_000)
    with qtbot.waitSignal(player.playing_changed, timeout=5_000):
        tab.pause()
    stopped_at = player.position_ms()
    services = tab.services
    assert wait_for_writes(5_000)  # the save on pause went to the writer
    saved = services.watch_progress(tab.detail.id)
    assert saved.position_ms == stopped_at and saved.duration_ms == 60_000
    assert saved.watched.watched_ms() >= 1_500

    again = ActivityPage(services=services)
    qtbot.addWidget(again)
    with qtbot.waitSignal(again.watch_tab.transcript_shown, timeout=5_000):
        again.show_activity(services.activity_detail(tab.detail.id), "physician")
    try:
        assert again.watch_tab.player.position_ms() == stopped_at
        assert again.watch_tab.transcript_panel.current_row == again.watch_tab.transcript_panel.index.index_at(stopped_at)
        assert "Resuming at 0:2" in again.watch_tab.video_column.status_label.text()
        assert again.watch_tab.tracker.watched == saved.watched
        # It really plays from there.
        with qtbot.waitSignal(again.watch_tab.player.time_reported, timeout=5_000):
            again.watch_tab.play()
        assert again.watch_tab.player.position_ms() >= stopped_at - 500
    finally:
        again.watch_tab.shutdown()


def test_open_at_plays_from_that_moment(qtbot, page):
    tab = page.watch_tab
    with qtbot.waitSignal(tab.player.time_reported, timeout=5_000, check_params_cb=lambda ms: ms >= 45_000):
        page.open_at(45_000)
    assert page.tabs.currentIndex() == 1
    assert tab.transcript_panel.current_row == tab.transcript_panel.index.index_at(tab.player.position_ms())


def test_keys_speed_and_skip(qtbot, page):
    from PySide6.QtCore import Qt

    tab = page.watch_tab
    tab.setFocus()
    qtbot.keyClick(tab, Qt.Key.Key_BracketRight)
    assert tab.player.rate == 1.25 and tab.video_column.speed_combo.currentText() == "1.25×"
    qtbot.keyClick(tab, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(tab, Qt.Key.Key_BracketLeft)
    assert tab.player.rate == 0.75
    before = tab.player.position_ms()
    qtbot.keyClick(tab, Qt.Key.Key_Right)
    assert tab.player.position_ms() == before + 10_000
    qtbot.keyClick(tab, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert tab.player.position_ms() == before + 40_000
    with qtbot.waitSignal(tab.player.playing_changed, timeout=5_000):
        qtbot.keyClick(tab, Qt.Key.Key_Space)
    assert tab.player.is_playing()
    with qtbot.waitSignal(tab.player.playing_changed, timeout=5_000):
        qtbot.keyClick(tab, Qt.Key.Key_Space)


def test_find_box_and_follow_button(qtbot, page):
    panel = page.watch_tab.transcript_panel
    panel.find_edit.setText("pressure")
    n = len(panel.index.find("pressure"))
    assert n >= 2 and panel.match_label.text() == f"{n} matches"
    panel.next_match()
    assert panel.match_label.text() == f"1 of {n}"
    assert not panel.following and panel.follow_button.isVisible()
    panel.previous_match()
    assert panel.match_label.text() == f"{n} of {n}"
    panel.follow_button.click()
    assert panel.following and not panel.follow_button.isVisible()
    size = panel.font_size()
    panel.larger_button.click()
    assert panel.font_size() == size + 1
    panel.find_edit.setText("zzzz-not-said")
    assert panel.match_label.text() == "No matches"


def test_not_downloaded_offers_download_and_keeps_the_transcript(qtbot, make_services):
    from desktop.views.activity.page import ActivityPage

    services = make_services(SERVER_URL)
    activity_id = install_demo(services, kinds=("transcript",))
    page = ActivityPage(services=services)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.watch_tab.transcript_shown, timeout=5_000):
        page.show_activity(services.activity_detail(activity_id), None)
    tab = page.watch_tab
    assert tab.player is None
    assert "not downloaded" in tab.video_column.message.text()
    assert tab.transcript_panel.model.rowCount() > 10
    assert page.summaries_tab.note.text() == "The summaries are not downloaded yet."
    queued = []
    services.enqueue_downloads = lambda ids: queued.append(ids) or []
    tab.video_column.download_button.click()
    qtbot.waitUntil(lambda: "Downloads page" in tab.video_column.message.text(), timeout=5_000)
    assert queued == [[activity_id]]
    # Clicking a cue with no video just moves the highlight.
    tab.seek(30_000)
    assert tab.transcript_panel.current_row == tab.transcript_panel.index.index_at(30_000)


def test_missing_libvlc_shows_the_message_and_does_not_crash(tmp_path):
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from desktop.media import player
        assert player.probe_libvlc() is not None
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from desktop.config import Paths
        from desktop.services import Services
        from desktop.views.activity.page import ActivityPage
        from tests.player.demo_media import SERVER_URL, install_demo
        services = Services(Paths(__import__("pathlib").Path({str(tmp_path)!r})), server_url=SERVER_URL)
        activity_id = install_demo(services)
        page = ActivityPage(services=services)
        page.show()
        page.show_activity(services.activity_detail(activity_id), None)
        tab = page.watch_tab
        from PySide6.QtCore import QEventLoop, QTimer
        loop = QEventLoop()  # the transcript is read on the task pool
        tab.transcript_shown.connect(loop.quit)
        QTimer.singleShot(20_000, loop.quit)
        loop.exec()
        assert tab.player is None
        assert tab.transcript_panel.model.rowCount() > 10
        tab.seek(12_000)
        tab.toggle()
        print("MESSAGE:", tab.video_column.message.text())
        services.close()
    """)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHON_VLC_LIB_PATH": str(tmp_path / "no-libvlc.so")}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "sudo apt-get install libvlc5 vlc-plugin-base vlc-plugin-video-output" in result.stdout


def test_scrolling_by_hand_stops_follow_until_asked(qtbot, page):
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    tab = page.watch_tab
    panel = tab.transcript_panel
    tab.seek(50_000)
    assert panel.following
    viewport = panel.view.viewport()
    wheel = QWheelEvent(QPointF(10, 10), QPointF(viewport.mapToGlobal(QPoint(10, 10))), QPoint(0, 0),
                        QPoint(0, 120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, wheel)
    assert not panel.following and panel.follow_button.isVisible()
    top = panel.view.verticalScrollBar().value()
    tab.seek(55_000)  # the highlight moves, the view stays where the learner put it
    assert panel.current_row == panel.index.index_at(55_000)
    assert panel.view.verticalScrollBar().value() == top
    panel.follow_button.click()
    assert panel.following
    assert panel.view.visualRect(panel.model.index(panel.current_row)).intersects(viewport.rect())


def test_fullscreen_with_f_and_back_with_esc(qtbot, page):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    tab = page.watch_tab
    with qtbot.waitActive(page):
        page.activateWindow()
    tab.setFocus()
    with qtbot.waitActive(tab.video_column):
        qtbot.keyClick(tab, Qt.Key.Key_F)
    assert tab.video_column.isWindow() and tab.video_column.isFullScreen()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is tab.video_column.play_button)
    qtbot.keyClick(tab.video_column.play_button, Qt.Key.Key_Escape)
    assert not tab.video_column.isWindow()
    assert tab.splitter.widget(0) is tab.video_column and page.isVisible()


def test_watched_share_and_what_the_post_test_needs_are_shown(page):
    tab = page.watch_tab
    assert tab.video_column.watched_label.text() == "Watched 0% — the post-test needs 80%."
    assert tab.player.picture in (None, True) and tab.video_column.video_stack.currentIndex() == 0


def test_at_the_end_play_is_back_and_the_post_test_is_offered(qtbot, make_services):
    from desktop.learning.progress import WatchedIntervals
    from desktop.views.activity.page import ASSESSMENT_TAB, WATCH_TAB, ActivityPage

    services = make_services(SERVER_URL)
    activity_id = install_demo(services)
    services.save_watch_progress(activity_id, 55_000, 60_000, WatchedIntervals([(0, 55_000)]))
    page = ActivityPage(services=services)
    qtbot.addWidget(page)
    page.show()
    tab, column = page.watch_tab, page.watch_tab.video_column
    shown = []  # the button as the learner saw it when playing started (after the tab's own slot)
    with qtbot.waitSignal(page.watch_tab.transcript_shown, timeout=5_000):
        # Opening at a moment plays from there. libvlc's events arrive queued: listening
        # before the event loop runs again sees the first one, however fast it comes.
        page.show_activity(services.activity_detail(activity_id), "physician", start_ms=56_000)
        tab.player.playing_changed.connect(lambda playing: shown.append((playing, column.play_button.text())))
        # Armed before playing starts: 4 s of video may end before a busy test machine looks.
        finished = qtbot.waitSignal(tab.finished, timeout=20_000)  # played to the end, place stored
    page.tabs.setCurrentIndex(WATCH_TAB)
    try:
        assert column.watched_label.text() == "Watched 92% — enough for the post-test (it needs 80%)."
        assert not column.continue_button.isVisible()
        tab.player.set_rate(2.0)
        tab.play()  # already playing: changes nothing
        qtbot.waitUntil(lambda: bool(shown), timeout=5_000)
        assert shown[0] == (True, "❚❚ Pause")
        finished.wait()
        qtbot.waitUntil(column.continue_button.isVisible, timeout=5_000)
        assert column.play_button.text() == "▶ Play" and column.play_button.accessibleName() == "Play"
        assert page.state.assessment_unlocked
        column.continue_button.click()
        assert page.tabs.currentIndex() == ASSESSMENT_TAB
        # Playing again takes the offer away.
        page.tabs.setCurrentIndex(WATCH_TAB)
        with qtbot.waitSignal(tab.player.playing_changed, timeout=5_000):
            tab.play()
        assert not column.continue_button.isVisible()
    finally:
        tab.shutdown()


def text_height(view, index, font=None) -> int:
    """The height a cue's words need at its row's width, in `font` (default: the one it is
    drawn in now, bold while spoken), with the delegate's margins."""
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QFontMetrics

    from desktop.views.activity.cue_delegate import MARGIN

    font = font or index.data(Qt.ItemDataRole.FontRole) or view.font()
    width = view.visualRect(index).width() - 2 * MARGIN
    return QFontMetrics(font).boundingRect(QRect(0, 0, width, 10_000), Qt.TextFlag.TextWordWrap,
                                           index.data()).height() + 2 * MARGIN


def test_cues_wrap_to_show_every_word_at_any_width(qtbot, page):
    tab = page.watch_tab
    panel = tab.transcript_panel
    view = panel.view

    def cut_rows():
        """Rows without room for every word in the font they are drawn in (bold while spoken)."""
        rows = (panel.model.index(row) for row in range(panel.model.rowCount()))
        return [i.row() for i in rows if text_height(view, i) > view.visualRect(i).height()]

    for transcript_width in (420, 260, 520, 300):
        total = sum(tab.splitter.sizes())
        tab.splitter.setSizes([total - transcript_width, transcript_width])
        qtbot.waitUntil(lambda: abs(view.viewport().width() - (transcript_width - 30)) < 40, timeout=2_000)
        qtbot.waitUntil(lambda: not cut_rows(), timeout=2_000)
        # The line being spoken is drawn bold (wider): it too keeps every word, wherever it is.
        for cue in panel.index.cues:
            tab.seek(cue.start_ms)
            qtbot.waitUntil(lambda: panel.current_row not in cut_rows(), timeout=2_000)


def test_no_blank_gap_opens_under_a_cue_once_it_was_spoken(qtbot, page):
    """A row is as tall as its text in the font it is drawn in now: the line being spoken
    (bold, wider) may take a line more, and gives it back when the highlight moves on."""
    tab = page.watch_tab
    panel = tab.transcript_panel
    view = panel.view
    total = sum(tab.splitter.sizes())
    tab.splitter.setSizes([total - 260, 260])  # narrow: bold wraps sooner than plain text

    def gaps():
        """Rows taller than their text needs, with the fonts they are drawn in."""
        rows = (panel.model.index(row) for row in range(panel.model.rowCount()))
        return [i.row() for i in rows if view.visualRect(i).height() > text_height(view, i) + 1]

    taller_when_bold = 0
    for cue in panel.index.cues:
        tab.seek(cue.start_ms)
        qtbot.waitUntil(lambda: not gaps(), timeout=2_000)
        spoken = panel.model.index(panel.current_row)
        taller_when_bold += view.visualRect(spoken).height() > text_height(view, spoken, view.font()) + 1
    assert taller_when_bold, "at this width some spoken line needs a line more in bold (else nothing was tested)"


def test_on_resume_the_transcript_shows_the_current_cue(qtbot, make_services):
    from desktop.learning.progress import WatchedIntervals
    from desktop.views.activity.page import OVERVIEW_TAB, WATCH_TAB, ActivityPage

    services = make_services(SERVER_URL)
    activity_id = install_demo(services)
    services.save_watch_progress(activity_id, 52_000, 60_000, WatchedIntervals([(0, 52_000)]))
    page = ActivityPage(services=services)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    with qtbot.waitSignal(page.watch_tab.transcript_shown, timeout=5_000):
        page.show_activity(services.activity_detail(activity_id), "physician")  # the page not shown yet
    page.tabs.setCurrentIndex(OVERVIEW_TAB)
    page.show()
    panel = page.watch_tab.transcript_panel
    try:
        row = panel.current_row
        assert row == panel.index.index_at(52_000) and row > 15
        page.tabs.setCurrentIndex(WATCH_TAB)  # first shown now
        viewport = panel.view.viewport()
        qtbot.waitUntil(lambda: viewport.rect().contains(panel.view.visualRect(panel.model.index(row))),
                        timeout=2_000)
    finally:
        page.watch_tab.shutdown()


def test_transcript_text_size_is_remembered(qtbot, page):
    from desktop.views.activity.page import ActivityPage

    panel = page.watch_tab.transcript_panel
    size = panel.font_size()
    panel.larger_button.click()
    panel.larger_button.click()
    assert panel.font_size() == size + 2
    services = page.watch_tab.services
    assert (services.paths.data_dir / "window.ini").is_file()
    again = ActivityPage(services=services)  # the next session, on the same data dir
    qtbot.addWidget(again)
    with qtbot.waitSignal(again.watch_tab.transcript_shown, timeout=5_000):
        again.show_activity(services.activity_detail(page.detail.id), "physician")
    try:
        assert again.watch_tab.transcript_panel.font_size() == size + 2
        again.watch_tab.transcript_panel.smaller_button.click()
    finally:
        again.watch_tab.shutdown()


def test_the_fullscreen_button_has_an_icon_and_a_name(page):
    button = page.watch_tab.video_column.fullscreen_button
    assert not button.icon().isNull() and button.accessibleName() == "Fullscreen"
    assert button.text() == "Fullscreen"


def test_the_transcript_column_is_wide_enough_to_read_by_default(qtbot, page):
    """The transcript takes two fifths of the Watch tab beside the video (it was ~200 px,
    four lines a cue), and the learner can still drag the divider."""
    tab = page.watch_tab
    panel = tab.transcript_panel
    qtbot.waitUntil(lambda: panel.width() > 0, timeout=2_000)
    share = panel.width() / sum(tab.splitter.sizes())
    assert 0.35 <= share <= 0.45, (panel.width(), tab.splitter.sizes())
    assert panel.view.viewport().width() >= 30 * panel.view.fontMetrics().averageCharWidth()
    total = sum(tab.splitter.sizes())
    tab.splitter.setSizes([total - 300, 300])  # still resizable
    qtbot.waitUntil(lambda: abs(panel.width() - 300) <= 2, timeout=2_000)


def test_the_video_area_says_what_play_does_while_there_is_no_picture(qtbot, make_services):
    """Before Play and after the end libvlc shows no picture: the area says what Play does
    (drawn on the surface, and read as its description), never a silent black box."""
    from desktop.learning.progress import WatchedIntervals
    from desktop.views.activity.page import WATCH_TAB, ActivityPage

    services = make_services(SERVER_URL)
    activity_id = install_demo(services)
    page = ActivityPage(services=services)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    tab, surface = page.watch_tab, page.watch_tab.video_column.surface
    with qtbot.waitSignal(tab.transcript_shown, timeout=5_000):
        page.show_activity(services.activity_detail(activity_id), "physician")
    page.tabs.setCurrentIndex(WATCH_TAB)
    try:
        assert surface.poster == "Press Play to start the video."  # its length is not known yet
        assert surface.accessibleDescription() == surface.poster
        image = surface.grab().toImage()
        inks = {image.pixelColor(x, y).lightness() for x in range(0, image.width(), 2)
                for y in range(0, image.height(), 2)}
        assert max(inks) > 150, "the words are drawn on the black surface"

        services.save_watch_progress(activity_id, 40_000, 60_000, WatchedIntervals([(0, 40_000)]))
        with qtbot.waitSignal(tab.transcript_shown, timeout=5_000):
            page.show_activity(services.activity_detail(activity_id), "physician")  # resumes
        assert surface.poster == "Press Play to go on from 0:40.", surface.poster

        tab.seek(57_000)
        with qtbot.waitSignal(tab.finished, timeout=20_000):  # 3 s to the end
            with qtbot.waitSignal(tab.player.playing_changed, timeout=5_000):
                tab.play()
            assert surface.poster == ""  # the picture now
        assert surface.poster == "The video has ended. Press Play to watch it again."
    finally:
        tab.shutdown()
