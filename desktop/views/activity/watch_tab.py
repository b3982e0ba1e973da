"""The Watch tab: the video on the left with its controls, the transcript on the right.

The learner's place is kept: the position is saved every few seconds while playing and
on pause, on leaving the activity and at exit, and the next visit resumes there. Saves go
to the app's one writer (views/tasks.py: run_write), never on the GUI thread; until the
writer has stored the last one, this tab resumes from the place it queued. The
transcript is read and parsed on the task pool. What was
really watched (continuous playback; a seek ahead does not count) is recorded with
`WatchTracker` and drawn under the seek bar.

Keys: Space play/pause · ←/→ ±10 s (Shift ±30 s) · [ / ] speed · F fullscreen · Esc
leaves fullscreen.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, NamedTuple

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.learning.progress import WatchedIntervals, WatchTracker
from desktop.media.player import probe_libvlc
from desktop.media.qt_player import RATES, QtPlayer
from desktop.media.transcript import TranscriptError
from desktop.errors import CmeError
from desktop.views.learning_text import locked_text
from desktop.views.activity.player_widget import SeekSlider, VideoSurface, format_time
from desktop.views.tasks import pending_writes, run_task, run_write
from desktop.views.activity.transcript_panel import TranscriptPanel

if TYPE_CHECKING:
    from desktop.cache.library import ActivityDetail

log = logging.getLogger(__name__)

SAVE_EVERY_MS = 5_000
SKIP_MS = 10_000
BIG_SKIP_MS = 30_000
# Resuming within this much of the end starts again from the beginning instead.
RESTART_NEAR_END_MS = 3_000


class Place(NamedTuple):
    """Where a learner stopped in an activity, as this tab last queued it for saving."""
    learner_id: str | None
    activity_id: str
    position_ms: int
    duration_ms: int
    watched: WatchedIntervals


class WatchTab(QWidget):
    transcript_shown = Signal()  # the transcript (or why there is none) is on screen

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAccessibleName("Watch")
        self.services = None
        self.detail: ActivityDetail | None = None
        self.player: QtPlayer | None = None
        self.tracker = WatchTracker()
        self.video_path = None
        self._fullscreen = False
        self._dragging = False
        self._dirty = False
        self.locked_reason: str | None = None  # rule 1 (or no one signed in): why nothing is shown
        self._learner_id: str | None = None  # whose progress this tab records
        self._queued_place: Place | None = None  # the last place sent to the writer
        self._transcript_request = 0  # bumped per load: a late transcript for another activity is dropped
        self.transcript = None
        # Set by the page: hands a Download click to the app's downloads; returns False if none.
        self.request_download = None

        # ---- left: video (or a message) and its controls
        self.video_column = QWidget(self)
        self.video_column.setAccessibleName("Video and controls")
        self.surface = VideoSurface(self.video_column)
        self.message = QLabel(self.video_column)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setAccessibleName("Video status")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.download_button = QPushButton("Download this activity", self.video_column)
        self.download_button.setAccessibleName("Download this activity")
        self.download_button.setToolTip("Queue the video, transcript and summaries for download")
        self.download_button.clicked.connect(self.download)
        message_page = QWidget(self.video_column)
        mv = QVBoxLayout(message_page)
        mv.addStretch(1)
        mv.addWidget(self.message)
        mv.addWidget(self.download_button, 0, Qt.AlignmentFlag.AlignCenter)
        mv.addStretch(1)
        self.video_stack = QStackedWidget(self.video_column)
        self.video_stack.addWidget(self.surface)
        self.video_stack.addWidget(message_page)
        self.video_stack.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self.play_button = self._button("▶ Play", "Play", "Play or pause (Space)", self.toggle)
        self.back_button = self._button("⟲ 10 s", "Back 10 seconds", "Back 10 seconds (←; Shift+← 30 s)",
                                        lambda: self.skip(-SKIP_MS))
        self.forward_button = self._button("10 s ⟳", "Forward 10 seconds",
                                           "Forward 10 seconds (→; Shift+→ 30 s)", lambda: self.skip(SKIP_MS))
        self.seek_slider = SeekSlider(self.video_column)
        self.seek_slider.sliderPressed.connect(self._drag_started)
        self.seek_slider.sliderReleased.connect(self._drag_finished)
        self.seek_slider.actionTriggered.connect(self._slider_action)
        self.time_label = QLabel("0:00 / 0:00", self.video_column)
        self.time_label.setAccessibleName("Time")
        self.time_label.setToolTip("Position / length")
        self.speed_combo = QComboBox(self.video_column)
        for rate in RATES:
            self.speed_combo.addItem(f"{rate:g}×", rate)
        self.speed_combo.setCurrentIndex(RATES.index(1.0))
        self.speed_combo.setAccessibleName("Speed")
        self.speed_combo.setToolTip("Playback speed ([ slower, ] faster)")
        self.speed_combo.view().setAccessibleName("Speeds")
        self.speed_combo.view().setToolTip("Playback speeds")
        self.speed_combo.currentIndexChanged.connect(self._speed_chosen)
        self.volume_slider = QSlider(Qt.Orientation.Horizontal, self.video_column)
        self.volume_slider.setRange(0, 100)
        self.volume_slider.setValue(100)
        self.volume_slider.setMaximumWidth(90)
        self.volume_slider.setAccessibleName("Volume")
        self.volume_slider.setToolTip("Volume")
        self.volume_slider.valueChanged.connect(self._volume_chosen)
        self.fullscreen_button = self._button("⛶", "Fullscreen", "Fullscreen (F; Esc to leave)",
                                              self.toggle_fullscreen)
        self.status_label = QLabel("", self.video_column)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setAccessibleName("Playback note")
        self.status_label.setToolTip("What the player last did")

        controls = QHBoxLayout()
        for w in (self.play_button, self.back_button, self.forward_button):
            controls.addWidget(w)
        controls.addWidget(self.seek_slider, 1)
        for w in (self.time_label, self.speed_combo, self.volume_slider, self.fullscreen_button):
            controls.addWidget(w)
        column = QVBoxLayout(self.video_column)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.video_stack, 1)
        column.addLayout(controls)
        column.addWidget(self.status_label)

        # ---- right: transcript
        self.transcript_panel = TranscriptPanel(self)
        self.transcript_panel.seek_requested.connect(self.seek)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.video_column)
        self.splitter.addWidget(self.transcript_panel)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        self._save_timer = QTimer(self)
        self._save_timer.setInterval(SAVE_EVERY_MS)
        self._save_timer.timeout.connect(self.save_progress)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

        # Shortcuts: one set for the page, one for the video column while it is fullscreen
        # (a separate window then); only one set is enabled at a time.
        self._page_keys = self._shortcuts(self, fullscreen=False)
        self._fullscreen_keys = self._shortcuts(self.video_column, fullscreen=True)
        self._set_controls_enabled(False)

    def _button(self, text: str, name: str, tip: str, slot) -> QToolButton:
        button = QToolButton(self.video_column)
        button.setText(text)
        button.setAccessibleName(name)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def _shortcuts(self, owner: QWidget, *, fullscreen: bool) -> list[QShortcut]:
        keys = [
            ("Space", self.toggle), ("Left", lambda: self.skip(-SKIP_MS)), ("Right", lambda: self.skip(SKIP_MS)),
            ("Shift+Left", lambda: self.skip(-BIG_SKIP_MS)), ("Shift+Right", lambda: self.skip(BIG_SKIP_MS)),
            ("[", lambda: self.step_speed(-1)), ("]", lambda: self.step_speed(+1)), ("F", self.toggle_fullscreen),
        ]
        if fullscreen:
            keys.append(("Esc", lambda: self.set_fullscreen(False)))
        made = []
        for key, slot in keys:
            shortcut = QShortcut(QKeySequence(key), owner, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
            shortcut.setEnabled(not fullscreen)
            made.append(shortcut)
        return made

    # -------------------------------------------------------------- activity

    def show_activity(self, services, detail: ActivityDetail, start_ms: int | None = None) -> None:
        """Show this activity's video and transcript; resume where the learner stopped."""
        self.close_activity()
        self.services, self.detail = services, detail
        learner = services.current_learner() if services is not None else None
        self._learner_id = learner.id if learner else None
        saved = self._resume_place(services, detail.id)
        self.tracker = WatchTracker(WatchedIntervals(saved.watched.intervals) if saved else None)
        length = saved.duration_ms if saved else 0
        start = start_ms
        if start is None and saved is not None:
            near_end = length and saved.position_ms >= length - RESTART_NEAR_END_MS
            start = 0 if near_end else saved.position_ms
        start = max(0, start or 0)

        self.locked_reason = None
        try:
            self.video_path = services.media_file(detail.id) if services is not None else None
        except CmeError as exc:  # ContentLocked (rule 1), NotSignedIn: say so, never raise
            self.video_path, self.locked_reason = None, locked_text(exc)
        self.transcript = None
        self.transcript_panel.set_transcript(None, machine_generated=False, note="Reading the transcript…")
        self._load_transcript(length or None)
        self._show_video_state()
        self.seek_slider.setRange(0, max(0, length))
        self.seek_slider.set_watched(self.tracker.watched.intervals)
        self.status_label.setText(
            f"Resuming at {format_time(start)}" if start and start_ms is None else ""
        )
        if self.video_path is not None and probe_libvlc() is None:
            player = self._ensure_player()
            self.surface.attach(player)
            player.load(self.video_path, start, length)
            self._set_controls_enabled(True)
        else:
            self._set_controls_enabled(False)
        self._show_position(start)

    def _resume_place(self, services, activity_id: str):
        """The stored place, or the one this tab queued if the writer has not stored it yet."""
        if services is None:
            return None
        queued = self._queued_place
        if queued is not None and queued[:2] == (self._learner_id, activity_id) and pending_writes(self):
            return queued
        return services.watch_progress(activity_id)

    def _load_transcript(self, duration_ms: int | None) -> None:
        """Read and parse the transcript on the task pool; show it when it arrives."""
        self._transcript_request += 1
        request, d, services = self._transcript_request, self.detail, self.services
        if self.locked_reason is not None or services is None:
            self._show_transcript(None, self.locked_reason or "")
            return
        run_task(self, lambda: services.transcript(d.id, duration_ms),
                 lambda transcript: self._transcript_read(request, transcript),
                 lambda exc: self._transcript_failed(request, exc))

    def _transcript_read(self, request: int, transcript) -> None:
        if request != self._transcript_request:
            return  # another activity (or length) was asked for meanwhile
        has_asset = any(a.kind == "transcript" for a in self.detail.assets)
        note = ("The transcript is not downloaded yet." if has_asset else
                "This activity has no transcript.")
        self._show_transcript(transcript, note)

    def _transcript_failed(self, request: int, exc: BaseException) -> None:
        if request != self._transcript_request:
            return
        if isinstance(exc, TranscriptError):
            self._show_transcript(None, f"The transcript file could not be read ({exc}).")
        elif isinstance(exc, CmeError):
            self._show_transcript(None, locked_text(exc))
        else:
            log.error("reading the transcript failed", exc_info=exc)
            self._show_transcript(None, f"The transcript file could not be read ({exc}).")

    def _show_transcript(self, transcript, note: str) -> None:
        had = self.transcript is not None
        self.transcript = transcript
        machine = bool(transcript is not None and self.detail.transcript_machine_generated)
        self.transcript_panel.set_transcript(transcript, machine_generated=machine, note=note)
        if self.player is not None:
            self.transcript_panel.set_position(self.player.position_ms())
        else:
            self.transcript_panel.set_position(self.seek_slider.value())
        if had != (transcript is not None) and self.download_button.isEnabled():
            self._show_video_state()  # "The transcript is on the right." follows the transcript
        self.transcript_shown.emit()

    def _show_video_state(self) -> None:
        problem = probe_libvlc()
        lines = []
        video = next((a for a in self.detail.assets if a.kind == "video"), None)
        if self.locked_reason is not None:
            self.message.setText(self.locked_reason)
            self.download_button.setVisible(False)
            self.video_stack.setCurrentIndex(1)
            return
        if self.video_path is None:
            if video is None:
                lines.append("This activity has no video.")
            elif video.state in ("queued", "partial"):
                lines.append("The video is downloading. Watch its progress on the Downloads page.")
            else:
                lines.append("The video is not downloaded yet. Download it to watch it here, "
                             "with or without a network.")
        if problem:
            lines.append(problem)
        if lines and self.transcript is not None:
            lines.append("The transcript is on the right.")
        self.message.setText("\n\n".join(lines))
        can_download = self.video_path is None and video is not None and video.state not in ("queued", "partial")
        self.download_button.setVisible(can_download)
        self.download_button.setEnabled(True)
        self.video_stack.setCurrentIndex(1 if lines else 0)

    def _ensure_player(self) -> QtPlayer:
        if self.player is None:
            player = QtPlayer(self)
            player.position_changed.connect(self._on_position)
            player.playing_changed.connect(self._on_playing_changed)
            player.length_changed.connect(self._on_length)
            player.ended.connect(self._on_ended)
            player.error.connect(self.status_label.setText)
            player.set_volume(self.volume_slider.value())
            self.player = player
        return self.player

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # The video may have arrived since the page was built (downloads run meanwhile).
        if self.video_path is None and self.detail is not None and self.services is not None \
                and self._media_arrived():
            self.show_activity(self.services, self.detail)

    def _media_arrived(self) -> bool:
        try:
            return self.services.media_file(self.detail.id) is not None
        except CmeError:  # still locked (rule 1) or no one signed in: the message stays
            return False

    def close_activity(self) -> None:
        """Stop playing and queue the learner's place (leaving the activity, or exit)."""
        if self.player is not None:
            self.player.pause()
        self.save_progress()
        self._save_timer.stop()
        self.set_fullscreen(False)

    def shutdown(self) -> None:
        """At exit: keep the place, then let libvlc go before Qt and Python tear down."""
        self.close_activity()
        if self.player is not None:
            self.player.release()
            self.player = None

    def download(self) -> None:
        if self.services is None or self.detail is None:
            return
        activity_id = self.detail.id
        self.download_button.setEnabled(False)

        def done(_jobs=None) -> None:
            self.download_button.setVisible(False)
            self.message.setText("Queued for download. Watch its progress on the Downloads page; "
                                 "the video appears here when it has arrived.")

        if self.request_download is not None and self.request_download([activity_id]):
            done()  # the main window's downloads took it
            return
        self.message.setText("Adding the activity to the download queue…")

        def failed(exc: BaseException) -> None:
            self.download_button.setEnabled(True)
            self.message.setText(f"The download could not be queued: {exc}")

        services = self.services
        run_write(self, lambda: services.enqueue_downloads([activity_id]), done, failed)

    # -------------------------------------------------------------- commands

    def toggle(self) -> None:
        if self.player is not None:
            self.player.toggle()

    def play(self) -> None:
        if self.player is not None:
            self.player.play()

    def pause(self) -> None:
        if self.player is not None:
            self.player.pause()

    def seek(self, ms: int) -> None:
        self.tracker.interrupt()  # a jump is not watching
        if self.player is not None:
            self.player.seek(ms)
        else:
            self._show_position(ms)

    def skip(self, delta_ms: int) -> None:
        if self.player is not None:
            self.seek(self.player.position_ms() + delta_ms)

    def open_at(self, ms: int) -> None:
        """Go to this moment (e.g. from a search result) and play from there."""
        self.seek(ms)
        self.play()

    def step_speed(self, step: int) -> None:
        index = min(len(RATES) - 1, max(0, self.speed_combo.currentIndex() + step))
        self.speed_combo.setCurrentIndex(index)

    def _speed_chosen(self, index: int) -> None:
        if self.player is not None:
            self.player.set_rate(RATES[index])
        self.tracker.interrupt()

    def _volume_chosen(self, value: int) -> None:
        if self.player is not None:
            self.player.set_volume(value)

    def _drag_started(self) -> None:
        self._dragging = True

    def _drag_finished(self) -> None:
        self._dragging = False
        self.seek(self.seek_slider.sliderPosition())

    def _slider_action(self, action: int) -> None:
        # Keyboard and page clicks on the slider (not drags: those seek on release).
        if not self.seek_slider.isSliderDown() and action != QSlider.SliderAction.SliderMove.value:
            QTimer.singleShot(0, lambda: self.seek(self.seek_slider.sliderPosition()))

    def _set_controls_enabled(self, enabled: bool) -> None:
        for w in (self.play_button, self.back_button, self.forward_button, self.seek_slider,
                  self.speed_combo, self.volume_slider, self.fullscreen_button):
            w.setEnabled(enabled)
        for s in self._page_keys:
            s.setEnabled(enabled and not self._fullscreen)

    # -------------------------------------------------------------- player events

    def _on_position(self, ms: int) -> None:
        if self.player is not None and self.player.is_playing():
            self.tracker.observe(ms, self.player.rate)
            self._dirty = True
        self._show_position(ms)

    def _show_position(self, ms: int) -> None:
        self.transcript_panel.set_position(ms)
        length = self.player.length_ms() if self.player is not None else self.seek_slider.maximum()
        if not self._dragging:
            self.seek_slider.blockSignals(True)
            self.seek_slider.setValue(ms)
            self.seek_slider.blockSignals(False)
        self.seek_slider.set_watched(self.tracker.watched.intervals)
        self.time_label.setText(f"{format_time(ms)} / {format_time(length)}")

    def _on_playing_changed(self, playing: bool) -> None:
        self.play_button.setText("❚❚ Pause" if playing else "▶ Play")
        self.play_button.setAccessibleName("Pause" if playing else "Play")
        if playing:
            self.status_label.setText("")
            self._save_timer.start()
        else:
            self.tracker.interrupt()
            self._save_timer.stop()
            self.save_progress()

    def _on_length(self, length: int) -> None:
        self.seek_slider.setRange(0, length)
        transcript = self.transcript
        if transcript is not None and transcript.estimated and transcript.cues and transcript.cues[-1].end_ms != length:
            self._load_transcript(length)  # spread the estimated timings over the real length
        self._show_position(self.player.position_ms())

    def _on_ended(self) -> None:
        self.tracker.interrupt()
        self.save_progress()

    def save_progress(self, then=None) -> bool:
        """Queue the learner's place on the writer; `then()` runs on the GUI thread once it is stored.

        False (and `then` is not called) when there is nothing to save.
        """
        if self.services is None or self.detail is None or self.player is None:
            return False
        position = self.player.position_ms()
        if not self._dirty and position == 0:
            return False
        place = Place(self._learner_id, self.detail.id, position, self.player.length_ms(),
                      WatchedIntervals(self.tracker.watched.intervals))  # a copy: the tracker goes on
        if not self._dirty and place == self._queued_place:
            return False  # already queued (closing twice: the page is hidden, then the app quits)
        self._queued_place, self._dirty = place, False
        services = self.services

        def save():
            learner = services.current_learner()
            if learner is None or learner.id != place.learner_id:
                return None  # another learner is current now: this place is not theirs
            return services.save_watch_progress(place.activity_id, place.position_ms, place.duration_ms,
                                                place.watched)

        def failed(exc: BaseException) -> None:  # a busy or closed cache must not stop the video
            log.error("saving the watch position failed", exc_info=exc)
            self._dirty = True

        run_write(self, save, lambda _saved: then() if then is not None else None, failed)
        return True

    # -------------------------------------------------------------- fullscreen

    def toggle_fullscreen(self) -> None:
        self.set_fullscreen(not self._fullscreen)

    def set_fullscreen(self, on: bool) -> None:
        if on == self._fullscreen or (on and self.player is None):
            return
        self._fullscreen = on
        if on:
            self._sizes = self.splitter.sizes()
            self.video_column.setParent(None)
            self.video_column.setWindowTitle(self.detail.title if self.detail else "Video")
            self.video_column.showFullScreen()
            self.video_column.activateWindow()
            self.play_button.setFocus()  # so the keys reach the fullscreen window
        else:
            self.splitter.insertWidget(0, self.video_column)
            self.video_column.show()
            self.splitter.setSizes(getattr(self, "_sizes", self.splitter.sizes()))
            self.window().activateWindow()
            self.play_button.setFocus()
        for s in self._fullscreen_keys:
            s.setEnabled(on)
        for s in self._page_keys:
            s.setEnabled(not on and self.player is not None)
        self.fullscreen_button.setToolTip("Leave fullscreen (Esc)" if on else "Fullscreen (F; Esc to leave)")
