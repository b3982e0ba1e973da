"""The libvlc backend and its Qt adapter on the real demo video (dummy outputs)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication, QThread

from desktop.media import player as backend
from desktop.media.qt_player import QtPlayer
from tests.player.demo_media import DEMO_LENGTH_MS, DEMO_VIDEO


@pytest.fixture
def qt_player(qapp, libvlc):
    p = QtPlayer()
    p.load(DEMO_VIDEO)
    yield p
    p.release()


def test_plays_the_real_file_and_reports_on_the_gui_thread(qtbot, qt_player):
    seen = []
    qt_player.time_reported.connect(
        lambda ms: seen.append((ms, QThread.currentThread() is QCoreApplication.instance().thread()))
    )
    qt_player.set_rate(2.0)
    with qtbot.waitSignal(qt_player.length_changed, timeout=5_000) as length:
        qt_player.play()
    assert length.args == [DEMO_LENGTH_MS]
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=5_000)
    assert all(on_gui for _ms, on_gui in seen)
    assert [ms for ms, _ in seen] == sorted(ms for ms, _ in seen)
    assert qt_player.is_playing() and qt_player.rate == 2.0
    # Between reports the clock moves on smoothly (ticks every 40 ms).
    ticks = []
    qt_player.position_changed.connect(ticks.append)
    qtbot.waitUntil(lambda: len(ticks) >= 10, timeout=5_000)
    assert len(set(ticks)) >= 8 and ticks == sorted(ticks)


def test_seek_and_rate_change(qtbot, qt_player):
    with qtbot.waitSignal(qt_player.playing_changed, timeout=5_000):
        qt_player.play()
    with qtbot.waitSignal(qt_player.time_reported, timeout=5_000, check_params_cb=lambda ms: 30_000 <= ms < 33_000):
        qt_player.seek(30_000)
    assert 30_000 <= qt_player.position_ms() < 33_000
    assert 30_000 <= qt_player.player.time_ms() < 33_000
    qt_player.set_rate(1.5)
    reports = []
    qt_player.time_reported.connect(reports.append)
    qtbot.waitUntil(lambda: len(reports) >= 4, timeout=5_000)
    # libvlc's own time advances ~1.5 s of media per second now.
    assert reports[-1] - reports[0] >= 1_000
    with qtbot.waitSignal(qt_player.playing_changed, timeout=5_000):
        qt_player.pause()
    held = qt_player.position_ms()
    qtbot.waitUntil(lambda: not qt_player.player.is_playing(), timeout=5_000)  # libvlc agrees
    assert qt_player.position_ms() == held and not qt_player.clock.playing


def test_ended_media_plays_again_from_a_seek(qtbot, qt_player):
    qt_player.set_rate(2.0)
    qt_player.seek(58_500)  # before play: applied when libvlc is playing
    with qtbot.waitSignal(qt_player.ended, timeout=8_000):
        qt_player.play()
    assert qt_player.position_ms() == DEMO_LENGTH_MS and not qt_player.is_playing()
    qt_player.seek(10_000)
    with qtbot.waitSignal(qt_player.time_reported, timeout=5_000, check_params_cb=lambda ms: 10_000 <= ms < 14_000):
        qt_player.play()


def test_null_player_when_libvlc_is_missing(qapp):
    p = QtPlayer(player=backend.NullPlayer())
    p.problem = backend.missing_message()
    p.load(DEMO_VIDEO, start_ms=5_000)
    p.play()
    p.seek(12_000)
    assert p.position_ms() == 12_000 and not p.is_playing()
    assert "sudo apt-get install libvlc5 vlc-plugin-base vlc-plugin-video-output" in p.problem


def test_extra_libvlc_args_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(backend.VLC_ARGS_ENV, "--aout=dummy '--sub-file=a b.vtt'")
    assert backend.vlc_args()[-2:] == ["--aout=dummy", "--sub-file=a b.vtt"]


def test_the_dummy_video_output_counts_as_a_picture(qtbot, qt_player):
    """libvlc with a video output (here its dummy one): picture True, never the no-picture verdict."""
    verdicts = []
    qt_player.picture_changed.connect(verdicts.append)
    qt_player.set_rate(2.0)
    qt_player.play()
    qtbot.waitUntil(lambda: qt_player.position_ms() >= 3_000, timeout=10_000)
    assert qt_player.picture is True and verdicts == [True]


def test_a_released_player_ignores_a_late_attach(qt_player):
    """The video window is destroyed after the player (closing the window): attaching then is a no-op."""
    qt_player.release()
    qt_player.attach(12345)  # on a released libvlc player this crashed the process
    qt_player.play()
    assert not qt_player.is_playing()


class NoVideoOutput:
    """A backend that plays (the sound) but never gets a video output, like libvlc without its plugins."""

    def __init__(self, video_track: bool = True):
        self.video_track = video_track

    def __getattr__(self, name):
        return lambda *args: None

    def shows_picture(self):
        return False if self.video_track else None

    def can_seek(self):
        return True


def _report(qtbot, qt, *times):
    for ms in times:
        qt._post(backend.TIME, ms)
    qtbot.waitUntil(lambda: qt.clock.position_ms() >= 0 and qt._inbox.empty(), timeout=2_000)


def test_no_video_output_while_the_sound_plays_is_no_picture(qtbot, qapp):
    qt = QtPlayer(player=NoVideoOutput())
    qt.load(DEMO_VIDEO)
    verdicts = []
    qt.picture_changed.connect(verdicts.append)
    qt.play()
    qt._post(backend.PLAYING, 0)
    _report(qtbot, qt, 0, 400, 800, 1_200)
    assert qt.picture is None  # too soon to say
    _report(qtbot, qt, 20_000, 20_400, 20_800, 21_200)  # a seek: the count starts again
    assert qt.picture is None
    _report(qtbot, qt, 21_600)
    assert qt.picture is False and verdicts == [False]
    # A video output after all (e.g. a later media): the picture is back.
    qt.player.shows_picture = lambda: True
    qt._post(backend.VOUT, 0)
    qtbot.waitUntil(lambda: qt.picture is True, timeout=2_000)
    assert verdicts == [False, True]


def test_audio_only_media_is_not_a_missing_picture(qtbot, qapp):
    qt = QtPlayer(player=NoVideoOutput(video_track=False))
    qt.load(DEMO_VIDEO)
    qt.play()
    qt._post(backend.PLAYING, 0)
    _report(qtbot, qt, 0, 500, 1_000, 1_500, 2_000, 2_500)
    assert qt.picture is None


def test_a_pause_right_after_play_is_kept_when_libvlc_starts(qtbot, qt_player):
    """libvlc ignores a pause asked before it plays: pressed at once after Play, the Pause
    still holds once libvlc has started (it used to play on)."""
    qt_player.seek(20_000)
    qt_player.play()
    qt_player.pause()  # before libvlc reports it is playing
    qtbot.waitUntil(lambda: qt_player.player.can_seek() and not qt_player.player.is_playing(), timeout=5_000)
    assert not qt_player.is_playing() and not qt_player.clock.playing
    assert 20_000 <= qt_player.position_ms() < 21_000
    with qtbot.waitSignal(qt_player.playing_changed, timeout=5_000):
        qt_player.toggle()  # Play again plays
    assert qt_player.is_playing()


def test_space_twice_before_libvlc_starts_leaves_it_paused(qtbot, qt_player):
    qt_player.toggle()
    qt_player.toggle()  # the second press pauses the start, it does not ask to play again
    qtbot.waitUntil(lambda: qt_player.player.can_seek() and not qt_player.player.is_playing(), timeout=5_000)
    assert not qt_player.is_playing()
