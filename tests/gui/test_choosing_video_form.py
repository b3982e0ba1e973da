"""Choosing the form of a video (issue 14) in the GUI: the Settings page's preferred quality
and "ask", a policy maximum that leaves out the larger forms, the dialog that lists each
form with its size and queues the one chosen (keyboard only), the form on this computer in
the library and on the Downloads page, changing it from the Overview, and the Watch tab's
audio-only layout while the real audio file plays in libvlc.

Real services and SQLite, the demo activity with its video offered in three forms
(tests/support/demo_forms.py: the forms the demo ships beside its video)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from cmecore.renditions import Quality
from desktop.policy import Policy
from desktop.views.downloads_page import DownloadsPage
from desktop.views.library_view import LibraryView
from desktop.views.quality_choice import QualityAsker
from tests.player.demo_media import SERVER_URL
from desktop.views.text import human_bytes
from tests.player.demo_media import DEMO_VIDEO
from tests.support.demo_forms import demo_renditions, install_demo_forms

_FORMS = demo_renditions()
BEST = f"Best · 720p · {human_bytes(DEMO_VIDEO.stat().st_size)}"
SMALL = f"Small · 360p · {human_bytes(_FORMS['small'][0].size)}"
AUDIO = f"Audio only · {human_bytes(_FORMS['audio'][0].size)}"
MAXIMUM_SMALL = Policy(values={"max_download_quality": "small"}, sources={"max_download_quality": "policy.toml"})


@pytest.fixture
def audio_here(make_services, tmp_path):
    """(services, activity id) with the demo's Audio only form here, its original and Small not."""
    services = make_services(SERVER_URL, at=tmp_path / "data")
    return services, install_demo_forms(services)


def _asker(qtbot, services):
    parent = QWidget()
    qtbot.addWidget(parent)
    return QualityAsker(parent, lambda: services)


def _focused(qtbot, dialog):
    """The dialog as the window with the keyboard focus (offscreen: it is asked to be)."""
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None and QApplication.focusWidget().window() is dialog,
                    timeout=2_000)
    return dialog


def _video_line(page) -> str:
    """The Overview's Files line of the video."""
    return next(label.text() for label in page.overview.widget().findChildren(type(page.title_label))
                if label.accessibleDescription().endswith("(demo video)"))


def _asking(make_services, server):
    """Services signed in and synced with the real server, asking for the form at each Download."""
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    services.sync()
    services.update_settings(ask_quality=True)
    return services


def _video_jobs(services):
    return [j for j in services.download_jobs() if j.kind == "video"]


# ------------------------------------------------------------------ Settings


def test_settings_save_the_preferred_quality_and_asking(qtbot, make_services, tmp_path):
    from desktop.views.pages import SettingsPage

    services = make_services(SERVER_URL, at=tmp_path / "data")
    page = SettingsPage(services)
    qtbot.addWidget(page)
    combo = page.quality_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["Best", "Small", "Audio only"]
    assert combo.currentData() == Quality.best and not page.ask_check.isChecked()
    assert not page.quality_note.isVisibleTo(page)

    combo.setCurrentIndex(combo.findData(Quality.audio))
    page.ask_check.setChecked(True)
    assert page.has_unsaved_changes() and page.save_button.isEnabled()
    assert page.save()
    assert services.settings.download_quality is Quality.audio and services.settings.ask_quality
    assert services.config.download_quality() is Quality.audio
    assert not page.has_unsaved_changes()
    for widget in (combo, page.ask_check):
        assert widget.accessibleName() and widget.toolTip()


def test_a_policy_maximum_leaves_out_the_larger_qualities_and_says_why(qtbot, make_services, tmp_path):
    from desktop.views.pages import SettingsPage

    services = make_services(SERVER_URL, at=tmp_path / "data", policy=MAXIMUM_SMALL)
    page = SettingsPage(services)
    qtbot.addWidget(page)
    combo = page.quality_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["Small", "Audio only"]
    assert combo.currentData() == Quality.small  # Best (the default) is above the maximum
    assert page.quality_note.isVisibleTo(page)
    assert page.quality_note.text() == "Your organisation allows at most Small: Best is not offered."
    assert not page.has_unsaved_changes()  # nothing to save while the learner has not chosen
    page.ask_check.setChecked(True)
    assert page.save()
    assert services.settings.download_quality is None  # the clamp is not written as a choice


# ------------------------------------------------------------------ before a download


def test_the_dialog_lists_each_form_with_its_size_and_queues_the_one_chosen_by_keyboard(qtbot, audio_here):
    services, activity_id = audio_here
    services.remove_downloaded_video(activity_id)  # nothing here: a first download
    services.update_settings(download_quality=Quality.small, ask_quality=True)
    downloads = DownloadsPage(services)
    qtbot.addWidget(downloads)
    asker = _asker(qtbot, services)
    asker.download([activity_id], downloads.download_activities)
    dialog = _focused(qtbot, asker.dialog)
    texts = [b.text() for b in dialog.buttons.values()]
    assert texts == [BEST, SMALL, AUDIO]
    assert [b.accessibleName() for b in dialog.buttons.values()] == texts
    assert dialog.chosen() is Quality.small  # the preferred form, selected
    assert dialog.buttons[Quality.small].hasFocus()
    assert not _video_jobs(services)
    seen = [QApplication.focusWidget().accessibleName()]
    for _ in range(3):  # Tab: the forms (one stop for the group), Download, Cancel; each with a name
        dialog.focusNextChild()
        seen.append(QApplication.focusWidget().accessibleName())
    assert seen == [SMALL, "Download", "Cancel", SMALL]

    qtbot.keyClick(dialog.buttons[Quality.small], Qt.Key.Key_Down)  # arrows move between the forms
    assert dialog.chosen() is Quality.audio
    with qtbot.waitSignal(downloads.model.modelReset, timeout=5_000):
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)  # Enter downloads
    qtbot.waitUntil(lambda: bool(_video_jobs(services)), timeout=5_000)
    assert [j.quality for j in _video_jobs(services)] == [Quality.audio]
    qtbot.waitUntil(lambda: any(downloads.model.row_at(i).kind == "video"
                                for i in range(downloads.model.rowCount())), timeout=5_000)
    asset_column = {downloads.model.row_at(i).kind: downloads.model.index(i, downloads.model.ASSET).data()
                    for i in range(downloads.model.rowCount())}
    assert asset_column["video"] == "Audio only"


def test_escape_closes_the_dialog_and_nothing_is_queued(qtbot, audio_here):
    services, activity_id = audio_here
    services.remove_downloaded_video(activity_id)
    services.update_settings(ask_quality=True)
    asker = _asker(qtbot, services)
    chosen = []
    asker.download([activity_id], lambda ids, quality: chosen.append(quality))
    dialog = _focused(qtbot, asker.dialog)
    assert dialog.chosen() is Quality.best
    with qtbot.waitSignal(dialog.finished, timeout=2_000):
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Escape)
    assert chosen == [] and asker.dialog is None


def test_without_asking_the_download_says_the_size_of_the_preferred_form(qtbot, audio_here):
    services, activity_id = audio_here
    services.remove_downloaded_video(activity_id)
    services.update_settings(download_quality=Quality.small)
    asker = _asker(qtbot, services)
    plan, tip = asker.describe([activity_id])
    assert plan == SMALL
    assert SMALL in tip
    chosen = []
    asker.download([activity_id], lambda ids, quality: chosen.append((ids, quality)))
    assert chosen == [([activity_id], None)] and asker.dialog is None  # the service fetches the preferred form

    library = LibraryView()
    qtbot.addWidget(library)
    library.describe_download = asker.describe
    library.set_rows(services.library_rows())
    library.select_id(activity_id)
    assert library.download_button.text() == f"⬇ Download ({SMALL})"
    assert SMALL in library.download_button.toolTip()


def test_a_policy_maximum_leaves_the_larger_forms_out_of_the_dialog(qtbot, make_services, tmp_path):
    services = make_services(SERVER_URL, at=tmp_path / "data", policy=MAXIMUM_SMALL)
    activity_id = install_demo_forms(services)
    services.update_settings(ask_quality=True)
    asker = _asker(qtbot, services)
    asker.download([activity_id], lambda ids, quality: None)
    dialog = asker.dialog
    assert list(dialog.buttons) == [Quality.small, Quality.audio]
    assert dialog.note.text() == "Your organisation allows at most Small: Best is not offered."
    dialog.reject()


# ------------------------------------------------------------------ which form is here


def test_the_library_and_the_downloads_page_say_which_form_is_here(qtbot, audio_here):
    services, activity_id = audio_here
    library = LibraryView()
    qtbot.addWidget(library)
    library.set_rows(services.library_rows())
    assert library.media_text_of(activity_id) == "● Audio only"
    media = library.model.index(0, library.model.MEDIA)
    assert media.data(Qt.ItemDataRole.AccessibleDescriptionRole) == "The Audio only form of the video is on this computer"
    downloads = DownloadsPage(services)
    qtbot.addWidget(downloads)
    storage = downloads.storage_model
    assert storage.rowCount() == 1
    assert [storage.headerData(c, Qt.Orientation.Horizontal) for c in range(3)] == ["Activity", "Video", "Stored"]
    assert storage.index(0, 1).data() == "Audio only"


def test_changing_the_form_from_the_overview_keeps_the_old_file_until_the_new_one_arrives(qtbot, audio_here):
    from desktop.views.activity.page import ActivityPage

    services, activity_id = audio_here
    page = ActivityPage(services=services)
    qtbot.addWidget(page)
    page.show_activity(services.activity_detail(activity_id), "physician")
    overview = page.overview
    assert overview.switch_button.isEnabled() and overview.switch_button.accessibleName() == "Change video quality"
    assert _video_line(page).endswith(f"(demo video): {AUDIO} on this computer; also offered: {BEST}, {SMALL}")

    downloads = DownloadsPage(services, events=page.events)
    qtbot.addWidget(downloads)
    asker = _asker(qtbot, services)
    page.switch_quality_requested.connect(lambda a: asker.switch(a, downloads.switch_quality))
    overview.switch_button.click()
    dialog = _focused(qtbot, asker.dialog)
    assert not dialog.buttons[Quality.audio].isEnabled()  # the form here: nothing to switch to
    assert dialog.chosen() is Quality.best
    assert "stays until the new one has arrived and been checked" in dialog.note.text()
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Down)
    assert dialog.chosen() is Quality.small
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: downloads.message_label.isVisibleTo(downloads), timeout=5_000)
    assert downloads.message_label.text().startswith("Downloading the Small form. The video on this computer stays")
    assert [j.quality for j in _video_jobs(services)] == [Quality.small]
    assert services.content.video_form(activity_id) is Quality.audio  # still playable until Small verifies
    qtbot.waitUntil(lambda: "(coming; it replaces the one here once checked)" in _video_line(page), timeout=5_000)
    assert _video_line(page).endswith(f"{AUDIO} on this computer; also offered: {BEST}, "
                                      f"{SMALL} (coming; it replaces the one here once checked)")

    small, data = _FORMS["small"]  # the Small file arrives, verified (what the runner does for it)
    services.blobs.path_for(small.sha256).parent.mkdir(parents=True, exist_ok=True)
    services.blobs.path_for(small.sha256).write_bytes(data)
    services.downloads.asset_arrived(small.sha256)
    downloads.refresh()
    qtbot.waitUntil(lambda: _video_line(page).endswith(f"{SMALL} on this computer; also offered: {BEST}, {AUDIO}"),
                    timeout=5_000)
    assert not services.blobs.path_for(_FORMS["audio"][0].sha256).exists()  # the old form, removed now
    assert page.watch_tab.video_path == services.blobs.path_for(small.sha256)  # the Watch tab took the new file
    assert not page.watch_tab.video_column.audio_only


# ------------------------------------------------------------------ audio only


@pytest.mark.usefixtures("libvlc")
def test_audio_only_shows_the_transcript_full_width_and_the_spoken_line_large(qtbot, audio_here):
    from desktop.views.activity.page import WATCH_TAB, ActivityPage

    services, activity_id = audio_here
    page = ActivityPage(services=services)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    tab = page.watch_tab
    with qtbot.waitSignal(tab.transcript_shown, timeout=5_000):
        page.show_activity(services.activity_detail(activity_id), "physician")
    page.tabs.setCurrentIndex(WATCH_TAB)
    column, panel = tab.video_column, tab.transcript_panel
    try:
        assert tab.splitter.orientation() == Qt.Orientation.Vertical
        assert tab.splitter.widget(0) is column and column.audio_only
        assert column.video_stack.currentWidget() is column.audio_page  # no black rectangle waiting for a picture
        assert not column.surface.isVisible()
        qtbot.waitUntil(lambda: panel.width() >= tab.width() - 4, timeout=2_000)  # the transcript, full width
        assert column.spoken_label.font().pointSizeF() >= 1.5 * panel.view.font().pointSizeF()
        for control in (column.play_button, column.seek_slider, column.speed_combo, column.volume_slider):
            assert control.isVisible() and control.isEnabled() and control.accessibleName()

        player = tab.player
        player.set_rate(2.0)
        page.activateWindow()
        column.play_button.setFocus()
        with qtbot.waitSignal(player.playing_changed, timeout=5_000):
            qtbot.keyClick(column.play_button, Qt.Key.Key_Space)  # the keyboard path: Space plays
        qtbot.waitUntil(lambda: panel.current_row is not None and panel.current_row >= 1, timeout=10_000)
        tab.pause()
        row = panel.current_row
        assert column.spoken_label.text() == panel.index.cues[row].text != ""
        assert column.video_stack.currentWidget() is column.audio_page  # sound alone: no "no picture" message
        assert tab.tracker.watched.watched_ms() > 0  # watched time in media time, as for a video
    finally:
        tab.shutdown()


def test_a_video_form_keeps_the_video_beside_the_transcript(qtbot, make_services, tmp_path):
    from desktop.views.activity.page import ActivityPage

    services = make_services(SERVER_URL, at=tmp_path / "data")
    activity_id = install_demo_forms(services, here=("best",))
    page = ActivityPage(services=services)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.watch_tab.transcript_shown, timeout=5_000):
        page.show_activity(services.activity_detail(activity_id), "physician")
    tab = page.watch_tab
    try:
        assert tab.splitter.orientation() == Qt.Orientation.Horizontal and not tab.video_column.audio_only
        assert tab.video_column.video_stack.currentWidget() is not tab.video_column.audio_page
    finally:
        tab.shutdown()


# ------------------------------------------------------------------ the whole window, the real server


def test_the_library_download_asks_and_fetches_only_the_audio_form(qtbot, make_services, server):
    """Ask on: the library's Download opens the dialog; Audio only, chosen by keyboard, is the
    only form the server is asked for; the library then says which form is here."""
    from desktop.views.main_window import MainWindow
    from tests.support.activities import DEMO_ID

    services = _asking(make_services, server)
    window = MainWindow(services)
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.sync_finished, timeout=20_000):
            window.show()
        assert window.library.select_id(DEMO_ID)
        assert window.library.download_button.toolTip().startswith("Choose Best, Small or Audio only")
        window.library.download_button.click()
        dialog = _focused(qtbot, window.quality_asker.dialog)
        assert dialog.windowTitle() == "Download" and dialog.chosen() is Quality.best
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Down)
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Down)
        assert dialog.chosen() is Quality.audio
        with qtbot.waitSignal(window.notified, timeout=20_000):
            qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: window.library.media_text_of(DEMO_ID) == "● Audio only", timeout=10_000)
        fetched = {entry.path for entry in server.request_log.matching("/api/v1/media/")}
        videos = {f"/api/v1/media/{sha}" for sha in _video_shas(services, DEMO_ID)}
        assert fetched & videos == {f"/api/v1/media/{_sha_of(services, DEMO_ID, Quality.audio)}"}
    finally:
        window.close()


def _video_shas(services, activity_id):
    from desktop.cache.video_forms import video_forms

    return {f.sha256 for f in video_forms(services.db, activity_id)}


def _sha_of(services, activity_id, quality):
    from desktop.cache.video_forms import video_forms

    return next(f.sha256 for f in video_forms(services.db, activity_id) if f.quality is quality)


def test_several_activities_fetch_each_its_own_form_and_the_total_is_said():
    """The nearest allowed form per activity (cmecore.renditions.choose): an activity without a
    Small form fetches its original for "Small"; one with a form here fetches nothing."""
    from desktop.cache.video_forms import VideoForm
    from desktop.views.quality_choice import plan_text, planned

    def form(quality, size, *, here=False, wanted=False):
        return VideoForm(quality, size, None, 360 if quality is Quality.small else None, None, 60_000, "video/mp4",
                         on_machine=here, wanted=wanted)

    by_activity = {
        "a": [form(Quality.best, 40_000_000), form(Quality.small, 8_000_000, wanted=True), form(Quality.audio, 1_000_000)],
        "b": [form(Quality.best, 30_000_000, wanted=True)],
        "c": [form(Quality.best, 50_000_000, here=True), form(Quality.small, 9_000_000, wanted=True)],
    }
    assert [f.size for f in planned(by_activity, Quality.small)] == [8_000_000, 30_000_000, 9_000_000]
    assert plan_text(by_activity) == f"2 videos, {human_bytes(38_000_000)} in all"  # "c" has its video here
    assert plan_text({"a": by_activity["a"]}) == "Small · 360p · 7.6 MB"


def test_several_activities_the_dialog_says_what_comes_instead_of_a_form_one_lacks(qtbot, make_services, server,
                                                                                   tmp_path):
    """Two activities, one without a Small form: choosing Small says, before the learner
    confirms, which activity gets which other form (the rule's fallback), by keyboard alone,
    and that is what is queued."""
    from tests.support.activities import DEMO_ID
    from tests.support.media_publish import publish_activity
    from tests.support.renditions import add_forms

    add_forms(server, publish_activity(server, tmp_path / "pub", "talk-b", video_size=200_000), tmp_path / "f",
              kinds=("audio",))
    services = _asking(make_services, server)
    downloads = DownloadsPage(services)
    qtbot.addWidget(downloads)
    asker = _asker(qtbot, services)
    asker.download([DEMO_ID, "talk-b"], downloads.download_activities)
    dialog = _focused(qtbot, asker.dialog)
    talk_best = next(f for f in services.downloads.video_forms("talk-b") if f.quality is Quality.best)
    instead = ("1 of these 2 activities has no Small form. Fetched instead: “Test activity talk-b”: "
               f"Best · {human_bytes(talk_best.size)}.")
    small = dialog.buttons[Quality.small]
    assert small.text().endswith("for 2 videos (1 in another form)") and small.accessibleName() == small.text()
    assert instead in small.accessibleDescription()  # read with the choice
    assert dialog.buttons[Quality.best].text().endswith("for 2 videos")
    assert dialog.chosen() is Quality.best and not dialog.instead.isVisibleTo(dialog)

    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Down)
    assert dialog.chosen() is Quality.small
    assert dialog.instead.isVisibleTo(dialog) and dialog.instead.text() == instead
    assert dialog.instead.accessibleDescription() == "What comes instead"
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Down)  # Audio only: both have it, nothing instead
    assert dialog.chosen() is Quality.audio and not dialog.instead.isVisibleTo(dialog)
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Up)
    assert dialog.instead.text() == instead
    with qtbot.waitSignal(downloads.model.modelReset, timeout=5_000):
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(_video_jobs(services)) == 2, timeout=5_000)
    assert {j.activity_id: j.quality for j in _video_jobs(services)} == {DEMO_ID: Quality.small,
                                                                         "talk-b": Quality.best}


def test_the_overview_says_which_forms_the_policy_maximum_hides(qtbot, make_services, tmp_path):
    """Settings and the dialog say what IT's maximum leaves out; so does the Overview's Files line."""
    from desktop.views.activity.page import ActivityPage

    services = make_services(SERVER_URL, at=tmp_path / "data", policy=MAXIMUM_SMALL)
    activity_id = install_demo_forms(services)
    page = ActivityPage(services=services)
    qtbot.addWidget(page)
    page.show_activity(services.activity_detail(activity_id), "physician")
    assert _video_line(page).endswith(f"(demo video): {AUDIO} on this computer; also offered: {SMALL}. "
                                      "Best quality not offered on this computer (IT policy).")


def test_a_video_offered_only_above_the_maximum_says_so_on_the_files_line():
    from desktop.views.quality_choice import forms_text

    assert forms_text([], [Quality.best]) == ("comes only as Best, which is not offered on this computer "
                                              "(IT policy). Ask your IT help desk if you need it.")
