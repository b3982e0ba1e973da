"""The player on the GUI thread: libvlc events as Qt signals, and a smooth position.

`QtPlayer` owns a `Player` backend (libvlc, or a NullPlayer when libvlc is missing).
libvlc's callbacks run on libvlc's thread; the backend forwards them here through a
queued signal, so every slot below runs on the GUI thread, and libvlc is only ever
called from the GUI thread.

The position shown comes from a `PlaybackClock`, anchored on every time report, seek,
pause and rate change; a 40 ms timer emits `position_changed(ms)` from it while playing
(libvlc's own reports come only every 250–500 ms).

Whether there is a picture: libvlc plays the sound even when it cannot create a video
output (its video output plugins missing, no GL on a remote desktop) and only logs
"video output creation failed". So once a media with a video track has played
`NO_PICTURE_AFTER_MS` without libvlc having a video output, `picture` becomes False and
`picture_changed(False)` is emitted; as soon as libvlc has one, True. A verdict stands
until new evidence: a later media that gets a picture turns it True, the end of a media
(its output going away) does not turn it False.

QtCore only: the video surface (a widget) lives in views/activity/player_widget.py.
"""

from __future__ import annotations

import logging
import queue
from pathlib import Path

from PySide6.QtCore import QMetaObject, QObject, Qt, QTimer, Signal, Slot

from desktop.media import player as backend
from desktop.media.clock import PlaybackClock

log = logging.getLogger(__name__)

TICK_MS = 40
NO_PICTURE_AFTER_MS = 1_500  # media time played with no video output before we say there is no picture
RATES = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)


class QtPlayer(QObject):
    position_changed = Signal(int)  # interpolated media ms: every tick while playing, and on seek/pause
    time_reported = Signal(int)  # libvlc's own TimeChanged, as it came
    length_changed = Signal(int)
    playing_changed = Signal(bool)
    rate_changed = Signal(float)
    ended = Signal()
    error = Signal(str)
    picture_changed = Signal(bool)  # libvlc shows the video picture (True) or cannot (False)

    def __init__(self, parent: QObject | None = None, *, player: backend.Player | None = None):
        super().__init__(parent)
        # libvlc's events land in this queue (on libvlc's thread); `_drain` runs on ours.
        self._inbox: queue.SimpleQueue[tuple[str, int]] = queue.SimpleQueue()
        self.problem: str | None = None if player is not None else backend.probe_libvlc()
        self.player: backend.Player = player or backend.create_player(self._post)
        self.clock = PlaybackClock()
        self._length = 0
        self._loaded = False
        self._playing = False
        self._starting = False  # play() asked, libvlc not playing yet
        self._stop_on_start = False  # paused while starting: pause as soon as libvlc plays
        self._ended = False
        self._pending_seek: int | None = None  # a seek asked for before libvlc could take it
        self._volume = 100
        self.picture: bool | None = None  # None: not known yet (or the media has no video track)
        self._saw_picture = False  # this media had a video output at some point
        self._played_from: int | None = None  # media ms where playing (without a jump) last started
        self._last_time: int | None = None  # libvlc's last time report
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    @property
    def available(self) -> bool:
        return self.problem is None

    # ------------------------------------------------------------ commands (GUI thread)

    def load(self, path: Path, start_ms: int = 0, length_ms: int = 0) -> None:
        """Open a file, ready to play from `start_ms` (nothing plays until `play()`)."""
        self._timer.stop()
        self._set_playing(False)
        self._starting = self._stop_on_start = False
        self.player.load(path, start_ms)
        self._loaded = True
        self._ended = False
        self._pending_seek = None
        self._saw_picture = False
        self._played_from = self._last_time = None
        self.clock = PlaybackClock()
        self.clock.set_rate(self.rate)
        self.clock.seek(start_ms)
        self._length = length_ms
        self.position_changed.emit(self.clock.position_ms())

    def play(self) -> None:
        if not self._loaded or not self.available:
            return
        if self._ended:
            # libvlc restarts an ended media from the start: go back to where we were asked.
            self._pending_seek = self._pending_seek if self._pending_seek is not None else 0
            self._ended = False
        self._starting, self._stop_on_start = True, False
        self.player.play()

    def pause(self) -> None:
        if not self._playing:
            # libvlc ignores a pause before it plays: a Pause pressed right after Play is
            # carried out when libvlc reports it is playing.
            self._stop_on_start = self._starting
            return
        self.clock.pause()  # freeze the highlight now, not when libvlc confirms
        self._timer.stop()
        self.player.pause()
        self.position_changed.emit(self.clock.position_ms())  # the last moment played
        self._set_playing(False)

    def toggle(self) -> None:
        if self._playing or (self._starting and not self._stop_on_start):
            self.pause()
        else:
            self.play()

    def seek(self, ms: int) -> None:
        ms = max(0, int(ms))
        if self._length:
            ms = min(ms, self._length)
        self.clock.seek(ms)
        if self.available and self._loaded:
            if self.player.can_seek() and not self._ended:
                self.player.seek(ms)
                self._pending_seek = None
            else:
                self._pending_seek = ms  # applied when libvlc reports it is playing
        self.position_changed.emit(self.clock.position_ms())

    def skip(self, delta_ms: int) -> None:
        self.seek(self.clock.position_ms() + delta_ms)

    def set_rate(self, rate: float) -> None:
        rate = float(rate)
        if rate <= 0 or rate == self.clock.rate:
            return
        self.clock.set_rate(rate)
        self.player.set_rate(rate)
        self.rate_changed.emit(rate)

    @property
    def rate(self) -> float:
        return self.clock.rate

    def set_volume(self, percent: int) -> None:
        self._volume = max(0, min(100, int(percent)))
        self.player.set_volume(self._volume)

    def position_ms(self) -> int:
        return self.clock.position_ms()

    def length_ms(self) -> int:
        return self._length

    def is_playing(self) -> bool:
        return self._playing

    def attach(self, window_id: int) -> None:
        self.player.attach(window_id)

    def release(self) -> None:
        self._timer.stop()
        self._set_playing(False)
        self.player.release()
        # Anything asked of it later (the video window re-attaching as it is destroyed) is a no-op:
        # a released libvlc player must never be called again.
        self.player = backend.NullPlayer()
        self._loaded = False

    # ------------------------------------------------------------ libvlc events (GUI thread)

    def _post(self, kind: str, value: int) -> None:
        """On libvlc's thread: queue the event and wake the GUI thread. Nothing else."""
        self._inbox.put((kind, value))
        QMetaObject.invokeMethod(self, "_drain", Qt.ConnectionType.QueuedConnection)

    @Slot()
    def _drain(self) -> None:
        while True:
            try:
                kind, value = self._inbox.get_nowait()
            except queue.Empty:
                return
            self._on_libvlc_event(kind, value)

    def _on_libvlc_event(self, kind: str, value: int) -> None:
        if not self._loaded:
            return  # released, or an event from a media we have since replaced
        if kind == backend.TIME:
            self.clock.on_time(value)
            self._judge_picture(value)
            self.time_reported.emit(value)
        elif kind == backend.VOUT:
            self._judge_picture(None)
        elif kind == backend.PLAYING:
            self._starting = False
            if self._pending_seek is not None:
                target, self._pending_seek = self._pending_seek, None
                self.player.seek(target)
                self.clock.seek(target)
            if self._stop_on_start:  # paused before libvlc started: stay paused where we are
                self._stop_on_start = False
                self.player.pause()
                self.position_changed.emit(self.clock.position_ms())
                return
            self.player.set_rate(self.clock.rate)
            self.player.set_volume(self._volume)
            self.clock.play()
            self._played_from = self._last_time = None  # set by the first time report
            self._set_playing(True)
            self._timer.start()
        elif kind == backend.PAUSED:
            if self._playing:  # paused by libvlc itself (we pause the clock on our own pause)
                self.clock.pause()
                self._timer.stop()
                self._set_playing(False)
        elif kind == backend.LENGTH:
            if value > 0:
                self._length = value
                self.length_changed.emit(value)
        elif kind == backend.ENDED:
            self._timer.stop()
            self.clock.pause()
            if self._length:
                self.clock.seek(self._length)
            self._ended = True
            self.position_changed.emit(self.clock.position_ms())  # played to the end
            self._set_playing(False)
            self.ended.emit()
        elif kind == backend.ERROR:
            self._starting = self._stop_on_start = False
            self._timer.stop()
            self.clock.pause()
            self._set_playing(False)
            self.error.emit("The video could not be played. The file may be damaged: "
                            "remove it and download it again.")

    def _judge_picture(self, time_ms: int | None) -> None:
        """On a time report (`time_ms`) or a change of video outputs (None): is there a picture?"""
        shows = self.player.shows_picture()
        if shows:
            self._saw_picture = True
            self._set_picture(True)
            return
        if time_ms is None or shows is None or self._saw_picture or not self._playing:
            return
        last, self._last_time = self._last_time, time_ms
        if self._played_from is None or last is None or not 0 <= time_ms - last <= 1_000:
            self._played_from = time_ms  # started, or a seek: count from here
        elif time_ms - self._played_from >= NO_PICTURE_AFTER_MS:
            self._set_picture(False)

    def _set_picture(self, shows: bool) -> None:
        if shows != self.picture:
            self.picture = shows
            self.picture_changed.emit(shows)

    def _tick(self) -> None:
        self.position_changed.emit(self.clock.position_ms())

    def _set_playing(self, playing: bool) -> None:
        if playing != self._playing:
            self._playing = playing
            self.playing_changed.emit(playing)
