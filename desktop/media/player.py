"""The video player behind a small interface, with libvlc (python-vlc) as the backend.

No Qt here. `desktop/media/qt_player.py` wraps a `Player` for the GUI thread.

libvlc may be missing (no VLC installed, a broken bundle, plugins not found). That shows
up as ImportError, OSError, NotImplementedError or even SystemExit from `import vlc`, or
as `vlc.Instance()` returning None. `probe_libvlc()` tries once, catches all of these and
returns a plain message (None when libvlc works); `create_player()` then hands out a
`NullPlayer` that plays nothing, so the rest of the app (transcripts, summaries) runs.

Threading: libvlc calls its event callbacks on its own thread. `VlcPlayer` does nothing
in a callback but hand `(kind, value)` to the `notify` function it was given, which must
be thread-safe and must not call back into libvlc (the Qt adapter emits a queued signal).
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

# Extra libvlc options, split like a shell command line (tests set dummy outputs here).
VLC_ARGS_ENV = "CME_OFFLINE_VLC_ARGS"
# libvlc's own memory, bounded (issue 15, tests/bench/bench_rss.py): "auto" decodes on as many
# threads as there are cores (+1), each holding its own frames (a 1080p frame is 3 MB): at most
# two, what a 2-core machine gets anyway. No statistics collected: nothing reads them.
BASE_VLC_ARGS = ("--no-video-title-show", "--no-snapshot-preview", "--quiet", "--no-osd", "--avcodec-threads=2",
                 "--no-stats")
HEADLESS_VLC_ARGS = ("--intf=dummy", "--vout=dummy", "--aout=dummy", "--no-video-title-show")

# Event kinds passed to `notify(kind, value)`; value is milliseconds for TIME and LENGTH.
TIME = "time"
LENGTH = "length"
PLAYING = "playing"
PAUSED = "paused"
ENDED = "ended"
ERROR = "error"
VOUT = "vout"  # libvlc's video outputs changed (value 0: python-vlc garbles the count; ask shows_picture)

MISSING_MESSAGE = {
    "linux": "Install VLC's library: sudo apt-get install libvlc5 vlc-plugin-base vlc-plugin-video-output "
    "(Fedora: sudo dnf install vlc-libs), then start CME Offline again.",
    "win32": "Install VLC (64-bit) from https://www.videolan.org/vlc/, then start CME Offline again.",
    "darwin": "Install VLC from https://www.videolan.org/vlc/ into Applications "
    "(or: brew install --cask vlc), then start CME Offline again.",
}


NO_PICTURE_HOW = {
    "linux": "To see the picture, install VLC's video outputs (sudo apt-get install vlc-plugin-video-output) "
    "and start CME Offline again.",
    "win32": "Reinstalling VLC (64-bit) from https://www.videolan.org/vlc/ may bring the picture back.",
    "darwin": "Reinstalling VLC from https://www.videolan.org/vlc/ may bring the picture back.",
}


class Player(Protocol):
    def load(self, path: Path, start_ms: int = 0) -> None: ...
    def play(self) -> None: ...
    def pause(self) -> None: ...
    def toggle(self) -> None: ...
    def seek(self, ms: int) -> None: ...
    def set_rate(self, rate: float) -> None: ...
    def set_volume(self, percent: int) -> None: ...
    def length_ms(self) -> int: ...
    def time_ms(self) -> int: ...
    def is_playing(self) -> bool: ...
    def can_seek(self) -> bool: ...
    def shows_picture(self) -> bool | None: ...
    def attach(self, window_id: int) -> None: ...
    def release(self) -> None: ...


Notify = Callable[[str, int], None]


# ---------------------------------------------------------------- probing

_probe_lock = threading.Lock()
_probed = False
_vlc = None  # the python-vlc module once it loaded
_instance = None  # one libvlc instance per process (creating one scans plugins)
_problem: str | None = None


def vlc_args() -> list[str]:
    """libvlc's options: ours, dummy outputs under Qt's offscreen platform, then the env's."""
    headless = HEADLESS_VLC_ARGS if os.environ.get("QT_QPA_PLATFORM") == "offscreen" else ()
    extra = os.environ.get(VLC_ARGS_ENV, "")
    try:
        extra_args = shlex.split(extra)
    except ValueError:
        log.warning("ignoring %s: cannot split %r", VLC_ARGS_ENV, extra)
        extra_args = []
    return [*BASE_VLC_ARGS, *headless, *extra_args]


def missing_message(detail: str = "") -> str:
    platform = "linux" if sys.platform.startswith("linux") else sys.platform
    how = MISSING_MESSAGE.get(platform, MISSING_MESSAGE["linux"])
    lead = "Videos cannot play: VLC's library (libvlc) was not found or would not start."
    return f"{lead} {how}" + (f" (Details: {detail})" if detail else "")


def no_picture_message() -> str:
    """Said in place of the video when libvlc plays the sound but could not make a picture."""
    platform = "linux" if sys.platform.startswith("linux") else sys.platform
    how = NO_PICTURE_HOW.get(platform, NO_PICTURE_HOW["linux"])
    return ("This computer cannot show the video picture: VLC found no way to draw video here "
            "(its video outputs are missing, or this is a remote desktop without graphics "
            "acceleration). You can listen to the video and follow the transcript on the right; "
            f"the controls below work as usual. {how}")


def probe_libvlc() -> str | None:
    """None if libvlc works here; otherwise a plain message saying how to get it. Tried once."""
    global _probed, _vlc, _instance, _problem
    with _probe_lock:
        if _probed:
            return _problem
        _probed = True
        try:
            import vlc  # noqa: PLC0415 - loading libvlc is slow and may fail: only on demand

            instance = vlc.Instance(vlc_args())
        except (ImportError, OSError, NotImplementedError, AttributeError) as exc:
            _problem = missing_message(f"{type(exc).__name__}: {exc}")
        except SystemExit:  # python-vlc exits when PYTHON_VLC_LIB_PATH is wrong
            _problem = missing_message("the library named by PYTHON_VLC_LIB_PATH would not load")
        else:
            if instance is None:
                _problem = missing_message("libvlc started but found no plugins (vlc-plugin-base)")
            else:
                _vlc, _instance = vlc, instance
        if _problem:
            log.warning("%s", _problem)
        return _problem


def create_player(notify: Notify) -> Player:
    """A libvlc player if libvlc works here, else a NullPlayer."""
    if probe_libvlc() is None:
        return VlcPlayer(notify)
    return NullPlayer()


# ---------------------------------------------------------------- null

class NullPlayer:
    """Plays nothing; keeps the requested position so the rest of the page still works."""

    def __init__(self) -> None:
        self._time = 0

    def load(self, path: Path, start_ms: int = 0) -> None:
        self._time = start_ms

    def play(self) -> None:
        pass

    def pause(self) -> None:
        pass

    def toggle(self) -> None:
        pass

    def seek(self, ms: int) -> None:
        self._time = max(0, ms)

    def set_rate(self, rate: float) -> None:
        pass

    def set_volume(self, percent: int) -> None:
        pass

    def length_ms(self) -> int:
        return 0

    def time_ms(self) -> int:
        return self._time

    def is_playing(self) -> bool:
        return False

    def can_seek(self) -> bool:
        return False

    def shows_picture(self) -> bool | None:
        return None

    def attach(self, window_id: int) -> None:
        pass

    def release(self) -> None:
        pass


# ---------------------------------------------------------------- libvlc

class VlcPlayer:
    """One libvlc media player. Call every method from one thread (the GUI thread)."""

    def __init__(self, notify: Notify):
        if probe_libvlc() is not None:
            raise RuntimeError(_problem)
        vlc = _vlc
        self._vlc = vlc
        self._notify = notify
        self._closed = threading.Event()
        self._mp = _instance.media_player_new()
        self._window_id: int | None = None
        events = vlc.EventType
        self._handlers = {
            events.MediaPlayerTimeChanged: lambda e: self._forward(TIME, e.u.new_time),
            events.MediaPlayerLengthChanged: lambda e: self._forward(LENGTH, e.u.new_length),
            events.MediaPlayerPlaying: lambda e: self._forward(PLAYING, 0),
            events.MediaPlayerPaused: lambda e: self._forward(PAUSED, 0),
            events.MediaPlayerEndReached: lambda e: self._forward(ENDED, 0),
            events.MediaPlayerEncounteredError: lambda e: self._forward(ERROR, 0),
            events.MediaPlayerVout: lambda e: self._forward(VOUT, 0),
        }
        manager = self._mp.event_manager()
        for kind, handler in self._handlers.items():
            manager.event_attach(kind, handler)

    def _forward(self, kind: str, value: int) -> None:
        # On libvlc's thread: no libvlc calls, no widgets; just hand the event over.
        if not self._closed.is_set():
            try:
                self._notify(kind, int(value))
            except Exception:  # an exception must never unwind into libvlc
                log.exception("forwarding a libvlc %s event failed", kind)

    def load(self, path: Path, start_ms: int = 0) -> None:
        media = _instance.media_new_path(str(path))
        if start_ms > 0:
            media.add_option(f":start-time={start_ms / 1000:.3f}")
        self._mp.set_media(media)
        media.release()  # the player holds its own reference

    def play(self) -> None:
        if self._mp.get_state() in (self._vlc.State.Ended, self._vlc.State.Error):
            self._mp.stop()  # libvlc 3 does not replay an ended media without a stop
        if self._window_id is not None:
            self._apply_window()
        self._mp.play()

    def pause(self) -> None:
        self._mp.set_pause(1)

    def toggle(self) -> None:
        if self.is_playing():
            self.pause()
        else:
            self.play()

    def seek(self, ms: int) -> None:
        self._mp.set_time(max(0, int(ms)))

    def set_rate(self, rate: float) -> None:
        self._mp.set_rate(float(rate))

    def set_volume(self, percent: int) -> None:
        self._mp.audio_set_volume(max(0, min(100, int(percent))))

    def length_ms(self) -> int:
        return max(0, self._mp.get_length())

    def time_ms(self) -> int:
        return max(0, self._mp.get_time())

    def is_playing(self) -> bool:
        return bool(self._mp.is_playing())

    def can_seek(self) -> bool:
        """True while libvlc accepts set_time (playing or paused, not stopped or ended)."""
        return self._mp.get_state() in (self._vlc.State.Playing, self._vlc.State.Paused)

    def shows_picture(self) -> bool | None:
        """True while libvlc has a video output; False when the media has a video track and
        there is none (creating one failed, or it is not made yet); None for no video track."""
        if self._mp.has_vout() > 0:
            return True
        return False if self._mp.video_get_track_count() > 0 else None

    def attach(self, window_id: int) -> None:
        """Draw the video into this native window (call before play, again if it changes)."""
        self._window_id = int(window_id)
        if not self._closed.is_set():  # released: libvlc's player is gone
            self._apply_window()

    def _apply_window(self) -> None:
        wid = self._window_id
        if sys.platform.startswith("win"):
            self._mp.set_hwnd(wid)
            # VLC's child window would otherwise swallow the clicks and keys.
            self._mp.video_set_mouse_input(False)
            self._mp.video_set_key_input(False)
        elif sys.platform == "darwin":
            self._mp.set_nsobject(wid)
        else:
            self._mp.set_xwindow(wid)

    def release(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        manager = self._mp.event_manager()
        for kind in self._handlers:
            manager.event_detach(kind)
        self._mp.stop()
        self._mp.release()
