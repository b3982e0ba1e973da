"""The Watch tab: the video on the left with its controls, the transcript on the right.

The tab plays; its parts show. It owns the player and the record of what was really
watched (continuous playback; a seek ahead does not count), recorded with `WatchTracker`
and drawn under the seek bar. The column on the left (VideoColumn: the video or why
there is none, the controls, the keys, fullscreen) says what the learner asked for; the
transcript on the right (TranscriptPanel) reads its own file on the task pool and follows
the position; the learner's place is kept by a PlaceKeeper: saved every few seconds while
playing and on pause, on leaving the activity and at exit, and resumed on the next visit.

When the form of the video on this computer is audio only, the tab turns: the column (the
line being spoken, large, and the controls) on top, the transcript under it at full width;
no black rectangle waits for a picture. Position, watched time and the highlight are in
media time, so they are the same whichever form plays.

Under the video the tab says how much has been watched and how much the post-test needs
(the page hands it the learning state: `show_learning`); at the end of the video, once the
place is stored (`finished`), it offers "Continue to the post-test" if the test is unlocked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from cmecore.renditions import Quality
from cmecore.rules.assessment import watched_enough
from desktop.errors import CmeError
from desktop.learning.progress import WatchedIntervals, WatchTracker
from desktop.media.player import probe_libvlc
from desktop.media.qt_player import QtPlayer
from desktop.views.activity.player_widget import format_time, idle_poster
from desktop.views.activity.transcript_panel import TranscriptPanel
from desktop.views.activity.video_column import VideoColumn, pass_download_focus
from desktop.views.activity.watch_place import Place, PlaceKeeper, resume_at
from desktop.views.learning_text import download_refusal, locked_text
from desktop.views.tasks import run_write

if TYPE_CHECKING:
    from desktop.cache.library import ActivityDetail

SAVE_EVERY_MS = 5_000
VIDEO_WEIGHTS = [3000, 2000]  # the video and its transcript side by side: three fifths, two fifths


def watched_text(share: float, needed: float | None) -> str:
    """"Watched 52% — the post-test needs 80%." (`needed` None: the activity has no post-test.)"""
    watched = f"Watched {share * 100:.0f}%"
    if not needed:
        return f"{watched} of the video."
    if watched_enough(share, needed):
        return f"{watched} — enough for the post-test (it needs {needed * 100:.0f}%)."
    return f"{watched} — the post-test needs {needed * 100:.0f}%."


def form_here(services, activity_id: str) -> Quality | None:
    """Which form of the video is on this computer (None: none, or not readable now)."""
    try:
        return services.content.video_form(activity_id) if services is not None else None
    except CmeError:  # locked (rule 1) or no one signed in: the video's message says so
        return None


def arrange(splitter: QSplitter, column: VideoColumn, audio_only: bool) -> None:
    """Side by side for a video; for sound alone the controls and the spoken line on top
    and the transcript under them, full width."""
    if audio_only == column.audio_only:
        return
    column.set_audio_only(audio_only)
    # Sizes are weights (setSizes spreads the splitter's length by them, none below its
    # widget's minimum): for sound alone the column keeps its least height, the transcript
    # the rest, now and whenever the window grows; a video gets 3:2 beside its transcript.
    splitter.setOrientation(Qt.Orientation.Vertical if audio_only else Qt.Orientation.Horizontal)
    weights = (0, 1) if audio_only else (3, 2)
    for index, weight in enumerate(weights):
        splitter.setStretchFactor(index, weight)
    splitter.setSizes([1, 1000] if audio_only else VIDEO_WEIGHTS)


class WatchTab(QWidget):
    transcript_shown = Signal()  # the transcript (or why there is none) is on screen
    finished = Signal()  # the video played to its end and the place is stored (the gate may open)
    continue_requested = Signal()  # "Continue to the post-test"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAccessibleName("Watch")
        self.services = None
        self.detail: ActivityDetail | None = None
        self.player: QtPlayer | None = None
        self.tracker = WatchTracker()
        self.video_path = None
        self.locked_reason: str | None = None  # rule 1 (or no one signed in): why nothing is shown
        self._learner_id: str | None = None  # whose progress this tab records
        self.place = PlaceKeeper(self)
        # Set by the page: hands a Download click to the app's downloads; returns False if none.
        self.request_download = None
        self.needed_share: float | None = None  # what the post-test needs watched (None: no post-test)
        self.test_unlocked = False  # the post-test may be started now
        self.at_end = False  # the video played to its end (and has not played since)
        self._watched_shown = ""

        self.video_column = VideoColumn(self)
        self.video_column.toggle_requested.connect(self.toggle)
        self.video_column.seek_requested.connect(self.seek)
        self.video_column.skip_requested.connect(self.skip)
        self.video_column.rate_chosen.connect(self._rate_chosen)
        self.video_column.volume_chosen.connect(self._volume_chosen)
        self.video_column.download_requested.connect(self.download)
        self.video_column.continue_requested.connect(self.continue_requested)
        self.transcript_panel = TranscriptPanel(self)
        self.transcript_panel.seek_requested.connect(self.seek)
        self.transcript_panel.transcript_shown.connect(self._transcript_shown)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.video_column)
        self.splitter.addWidget(self.transcript_panel)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        # 3:2 from the start: laid out by size hints, the transcript got ~200 px (four lines a cue).
        self.splitter.setSizes(VIDEO_WEIGHTS)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        self._save_timer = QTimer(self)
        self._save_timer.setInterval(SAVE_EVERY_MS)
        self._save_timer.timeout.connect(self.save_progress)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # -------------------------------------------------------------- activity

    def show_activity(self, services, detail: ActivityDetail, start_ms: int | None = None) -> None:
        """Show this activity's video and transcript; resume where the learner stopped."""
        self.close_activity()
        self.services, self.detail = services, detail
        learner = services.current_learner() if services is not None else None
        self._learner_id = learner.id if learner else None
        saved = self.place.saved_place(services, self._learner_id, detail.id)
        self.tracker = WatchTracker(WatchedIntervals(saved.watched.intervals) if saved else None)
        length = saved.duration_ms if saved else 0
        start = resume_at(saved, start_ms)

        self.locked_reason = None
        self.at_end = False
        arrange(self.splitter, self.video_column, form_here(services, detail.id) is Quality.audio)
        self.video_column.offer_continue(False)
        try:
            self.video_path = services.media_file(detail.id) if services is not None else None
        except CmeError as exc:  # ContentLocked (rule 1), NotSignedIn: say so, never raise
            self.video_path, self.locked_reason = None, locked_text(exc)
        column = self.video_column
        column.setWindowTitle(detail.title)  # the fullscreen window's
        self.transcript_panel.load(services, detail, self.locked_reason)
        self._show_video_state()
        column.set_length(length)
        column.surface.set_poster(idle_poster(resume_ms=start, length_ms=length))
        column.status_label.setText(f"Resuming at {format_time(start)}" if start and start_ms is None else "")
        if self.video_path is not None and probe_libvlc() is None:
            player = self._ensure_player()
            column.surface.attach(player)
            player.load(self.video_path, start, length)
            column.set_playable(True)
            column.show_picture(player.picture)  # what this computer showed last time, until libvlc says
        else:
            column.set_playable(False)
            column.show_picture(None)
        self._show_position(start)
        self._show_watched()

    def show_learning(self, state) -> None:
        """Where the learner stands (a LearningState, or None): what the post-test needs, and
        at the end of the video whether to offer it."""
        has_test = state is not None and state.has_assessment
        self.needed_share = state.min_watched_share if has_test else None
        self.test_unlocked = bool(has_test and state.assessment_unlocked)
        self.video_column.refuse_download(download_refusal(state))
        self.video_column.offer_continue(self.at_end and self.test_unlocked)
        self._show_watched()

    def _show_watched(self) -> None:
        length = self.player.length_ms() if self.player is not None else 0
        text = ""
        watched = self.tracker.watched.watched_ms()
        if self.video_path is not None and (length > 0 or not watched):  # nothing watched is 0% of any length
            text = watched_text(min(1.0, watched / length) if length else 0.0, self.needed_share)
        if text != self._watched_shown:
            self._watched_shown = text
            self.video_column.watched_label.setText(text)

    def _transcript_shown(self) -> None:
        self._show_position(
            self.player.position_ms() if self.player is not None else self.video_column.seek_slider.value())
        if self.detail is not None and not self.video_column.download_pending():
            self._show_video_state()  # "The transcript is on the right." follows the transcript
        self.transcript_shown.emit()

    def _show_video_state(self) -> None:
        self.video_column.show_state(self.detail, has_video=self.video_path is not None,
                                     locked_reason=self.locked_reason,
                                     has_transcript=self.transcript_panel.transcript is not None)

    def _ensure_player(self) -> QtPlayer:
        if self.player is None:
            player = QtPlayer(self)
            player.position_changed.connect(self._on_position)
            player.playing_changed.connect(self._on_playing_changed)
            player.length_changed.connect(self._on_length)
            player.ended.connect(self._on_ended)
            player.error.connect(self.video_column.status_label.setText)
            player.picture_changed.connect(self.video_column.show_picture)
            player.set_volume(self.video_column.volume_slider.value())
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

    def form_changed(self) -> bool:
        """The file the services give for the video is not the one loaded (a form arrived or went)."""
        try:
            return self.services is not None and self.services.media_file(self.detail.id) != self.video_path
        except CmeError:
            return False

    def close_activity(self) -> None:
        """Stop playing and queue the learner's place (leaving the activity, or exit)."""
        if self.player is not None:
            self.player.pause()
        self.save_progress()
        self._save_timer.stop()
        self.video_column.set_fullscreen(False)

    def shutdown(self) -> None:
        """At exit: keep the place, then let libvlc go before Qt and Python tear down."""
        self.close_activity()
        if self.player is not None:
            self.player.release()
            self.player = None

    def download(self) -> None:
        if self.services is None or self.detail is None:
            return
        activity_id, column = self.detail.id, self.video_column
        pass_download_focus(column)
        column.download_button.setEnabled(False)

        def done(_jobs=None) -> None:
            column.download_button.setVisible(False)
            column.message.setText("Queued for download. Watch its progress on the Downloads page; "
                                   "the video appears here when it has arrived.")

        if self.request_download is not None and self.request_download([activity_id]):
            done()  # the main window's downloads took it
            return
        column.message.setText("Adding the activity to the download queue…")

        def failed(exc: BaseException) -> None:
            column.download_button.setEnabled(True)
            column.message.setText(f"The download could not be queued: {exc}")

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

    def _rate_chosen(self, rate: float) -> None:
        if self.player is not None:
            self.player.set_rate(rate)
        self.tracker.interrupt()

    def _volume_chosen(self, value: int) -> None:
        if self.player is not None:
            self.player.set_volume(value)

    # -------------------------------------------------------------- player events

    def _on_position(self, ms: int) -> None:
        if self.player is not None and self.player.is_playing():
            self.tracker.observe(ms, self.player.rate)
            self.place.moved = True
        self._show_position(ms)
        self._show_watched()

    def _show_position(self, ms: int) -> None:
        panel = self.transcript_panel
        panel.set_position(ms)
        if self.video_column.audio_only:
            row = panel.current_row
            self.video_column.show_spoken(panel.index.cues[row].text if row is not None else "")
        column = self.video_column
        length = self.player.length_ms() if self.player is not None else column.seek_slider.maximum()
        column.show_position(ms, length, self.tracker.watched.intervals)

    def _on_playing_changed(self, playing: bool) -> None:
        self.video_column.show_playing(playing)
        if playing:
            self.at_end = False
            self._save_timer.start()
        else:
            self.tracker.interrupt()
            self._save_timer.stop()
            self.save_progress()

    def _on_length(self, length: int) -> None:
        self.video_column.set_length(length)
        self._show_position(self.player.position_ms())
        if self.services is not None and self.detail is not None and self.locked_reason is None:
            # Kept for this activity on the writer; an untimed transcript spread over a
            # weaker length is re-timed there (search too), then the panel reads it again.
            services, activity_id, panel = self.services, self.detail.id, self.transcript_panel
            run_write(self, lambda: services.content.media_length_found(activity_id, length),
                      lambda retimed: panel.reload() if retimed else None)

    def _on_ended(self) -> None:
        self.tracker.interrupt()
        self.at_end = True
        self.video_column.surface.set_poster(idle_poster(ended=True))  # libvlc closed its picture
        self._show_watched()
        if not self.save_progress(then=self.finished.emit):
            # Queued already (on pause): the one writer runs in order, so this comes after it.
            run_write(self, lambda: None, lambda _none: self.finished.emit())

    def save_progress(self, then=None) -> bool:
        """Queue the learner's place on the writer; `then()` runs on the GUI thread once it is stored.

        False (and `then` is not called) when there is nothing to save.
        """
        if self.services is None or self.detail is None or self.player is None:
            return False
        place = Place(self._learner_id, self.detail.id, self.player.position_ms(), self.player.length_ms(),
                      WatchedIntervals(self.tracker.watched.intervals))  # a copy: the tracker goes on
        return self.place.save(self.services, place, then)
