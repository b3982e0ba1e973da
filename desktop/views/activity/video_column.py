"""The Watch tab's left column: the video (or a message saying why there is none) and its
controls, and fullscreen.

The column shows and asks; it does not play. The Watch tab owns the player and tells the
column where playback is (`show_position`, `show_playing`); the column announces what the
learner asked for (`toggle_requested`, `seek_requested`, `skip_requested`, `rate_chosen`,
`volume_chosen`, `download_requested`, `continue_requested`). When libvlc plays the
sound but cannot make a picture, the column says so in words in place of the video
(`show_picture(False)`) and the controls go on working: never a silent black rectangle.
When the form on this computer is audio only (`set_audio_only`), the place of the video
shows the line being spoken, large (`show_spoken`), and no picture is expected.
Fullscreen takes the column itself out of its
splitter into a window of its own and puts it back.

Keys: Space play/pause · ←/→ ±10 s (Shift ±30 s) · [ / ] speed · F fullscreen · Esc
leaves fullscreen. One set of shortcuts lives on the page the column sits in, one on the
column for while it is a fullscreen window; only one set is enabled at a time. The keys
work while the focus is on the page, so the controls and the video area take the focus on
a click, and a Download click hands it to Play or the video area (views/focus.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QStyle,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.media.player import no_picture_message, probe_libvlc
from desktop.media.qt_player import RATES
from desktop.views.activity.player_widget import SeekSlider, VideoArea, VideoSurface, format_time
from desktop.views.focus import pass_focus
from desktop.views.widgets import tool_button

if TYPE_CHECKING:
    from desktop.cache.library import ActivityDetail

SKIP_MS = 10_000
BIG_SKIP_MS = 30_000
SURFACE, MESSAGE, AUDIO = range(3)  # the pages of the video stack
SPOKEN_SCALE = 1.8  # the line being spoken, audio only: this much larger than the text around it
DOWNLOADING = ("queued", "partial")
DOWNLOAD_TIP = "Queue the video, transcript and summaries for download"


def click_takes_focus(*buttons: QWidget) -> None:
    """A click keeps the focus on the page, so Space and F then act on the video (not on
    whatever had the focus before, such as the status bar's Switch learner)."""
    for button in buttons:
        button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)


def pass_download_focus(column: VideoColumn) -> None:
    """The column's Download button is about to go: the focus it holds goes to Play or the video area."""
    pass_focus(column.download_button, column.play_button, column.video_stack)


class AudioPage(QWidget):
    """Audio only, in the video's place: a quiet line saying so, and the line being spoken, large."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.audio_label = QLabel("Audio only: the transcript below follows the sound.", self)
        self.audio_label.setTextFormat(Qt.TextFormat.PlainText)
        self.audio_label.setAccessibleDescription("Audio only")  # read by its text (accessibility.py)
        self.audio_label.setToolTip("The form of this video on this computer is sound alone; change it on the "
                                    "Overview tab (Change video quality…)")
        self.spoken_label = QLabel("", self)
        self.spoken_label.setTextFormat(Qt.TextFormat.PlainText)
        self.spoken_label.setWordWrap(True)
        self.spoken_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.spoken_label.setAccessibleDescription("Now speaking")
        self.spoken_label.setToolTip("The line of the transcript being spoken now")
        font = self.spoken_label.font()
        font.setPointSizeF(font.pointSizeF() * SPOKEN_SCALE)
        self.spoken_label.setFont(font)
        self.spoken_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        v = QVBoxLayout(self)
        v.addWidget(self.audio_label, 0, Qt.AlignmentFlag.AlignHCenter)
        v.addWidget(self.spoken_label, 1)


class VideoColumn(QWidget):
    toggle_requested = Signal()
    seek_requested = Signal(int)  # ms: a drag let go, a click or a key on the seek bar
    skip_requested = Signal(int)  # ± ms from here
    rate_chosen = Signal(float)
    volume_chosen = Signal(int)  # 0–100
    download_requested = Signal()
    continue_requested = Signal()  # "Continue to the post-test", offered at the end of the video

    def __init__(self, page: QWidget):
        """A column for `page`, which also receives the page-wide keys."""
        super().__init__(page)
        self.setAccessibleName("Video and controls")
        self.fullscreen = False
        self.playable = False  # a video is loaded: the controls and keys work
        self._dragging = False
        self._splitter: QSplitter | None = None  # where the column sits when not fullscreen
        self._home_sizes: list[int] = []
        self._blocked: str | None = None  # why there is no video to play (locked, not downloaded…)
        self._download_refused: str | None = None  # why the downloads would refuse it (rule 3)
        self.no_picture = False  # libvlc plays the sound but cannot show the picture
        self.audio_only = False  # the form here is sound alone: the spoken line takes the video's place
        self._download_tip = DOWNLOAD_TIP  # what a Download fetches (`show_download_plan`)

        self.surface = VideoSurface(self)
        self.message = QLabel(self)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setAccessibleName("Video status")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.download_button = QPushButton("Download this activity", self)
        self.download_button.setAccessibleName("Download this activity")
        self.download_button.setToolTip(DOWNLOAD_TIP)
        self.download_button.clicked.connect(self.download_requested)
        message_page = QWidget(self)
        mv = QVBoxLayout(message_page)
        mv.addStretch(1)
        mv.addWidget(self.message)
        mv.addWidget(self.download_button, 0, Qt.AlignmentFlag.AlignCenter)
        mv.addStretch(1)
        self.video_stack = VideoArea(self)
        self.video_stack.addWidget(self.surface)
        self.video_stack.addWidget(message_page)
        self.audio_page = AudioPage(self)
        self.spoken_label = self.audio_page.spoken_label
        self.video_stack.addWidget(self.audio_page)
        self.video_stack.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self.play_button = tool_button(self, "▶ Play", "Play", "Play or pause (Space)", self.toggle_requested.emit)
        self.back_button = tool_button(self, "⟲ 10 s", "Back 10 seconds", "Back 10 seconds (←; Shift+← 30 s)",
                                        lambda: self.skip_requested.emit(-SKIP_MS))
        self.forward_button = tool_button(self, "10 s ⟳", "Forward 10 seconds", "Forward 10 seconds (→; Shift+→ 30 s)",
                                           lambda: self.skip_requested.emit(SKIP_MS))
        self.seek_slider = SeekSlider(self)
        self.seek_slider.sliderPressed.connect(self._drag_started)
        self.seek_slider.sliderReleased.connect(self._drag_finished)
        self.seek_slider.actionTriggered.connect(self._slider_action)
        self.time_label = QLabel("0:00 / 0:00", self)
        self.time_label.setAccessibleName("Time")
        self.time_label.setToolTip("Position / length")
        self.speed_combo = QComboBox(self)
        for rate in RATES:
            self.speed_combo.addItem(f"{rate:g}×", rate)
        self.speed_combo.setCurrentIndex(RATES.index(1.0))
        self.speed_combo.setAccessibleName("Speed")
        self.speed_combo.setToolTip("Playback speed ([ slower, ] faster)")
        self.speed_combo.view().setAccessibleName("Speeds")
        self.speed_combo.view().setToolTip("Playback speeds")
        self.speed_combo.currentIndexChanged.connect(lambda index: self.rate_chosen.emit(RATES[index]))
        self.volume_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.volume_slider.setRange(0, 100)
        self.volume_slider.setValue(100)
        self.volume_slider.setMaximumWidth(90)
        self.volume_slider.setAccessibleName("Volume")
        self.volume_slider.setToolTip("Volume")
        self.volume_slider.valueChanged.connect(self.volume_chosen)
        self.fullscreen_button = tool_button(self, "Fullscreen", "Fullscreen", "Fullscreen (F; Esc to leave)",
                                              self.toggle_fullscreen)
        # An icon every style draws (a glyph may be missing from the font); the text stays its name.
        self.fullscreen_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_TitleBarMaxButton))
        self.fullscreen_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        click_takes_focus(self.play_button, self.back_button, self.forward_button, self.fullscreen_button)
        self.status_label = QLabel("", self)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setAccessibleName("Playback note")
        self.status_label.setToolTip("What the player last did")
        self.watched_label = QLabel("", self)
        self.watched_label.setTextFormat(Qt.TextFormat.PlainText)
        self.watched_label.setWordWrap(True)
        self.watched_label.setAccessibleName("Watched")
        self.watched_label.setToolTip("How much of the video you have really watched (the band under the position)")
        self.continue_button = QPushButton("Continue to the post-test", self)
        self.continue_button.setAccessibleName("Continue to the post-test")
        self.continue_button.setToolTip("Go to the Assessment tab")
        self.continue_button.clicked.connect(self.continue_requested)
        self.continue_button.setVisible(False)

        controls = QHBoxLayout()
        for w in (self.play_button, self.back_button, self.forward_button):
            controls.addWidget(w)
        controls.addWidget(self.seek_slider, 1)
        for w in (self.time_label, self.speed_combo, self.volume_slider, self.fullscreen_button):
            controls.addWidget(w)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.video_stack, 1)
        column.addLayout(controls)
        notes = QHBoxLayout()
        notes.addWidget(self.watched_label, 1)
        notes.addWidget(self.status_label, 1)
        notes.addWidget(self.continue_button)
        column.addLayout(notes)

        self._page_keys = self._shortcuts(page, fullscreen=False)
        self._fullscreen_keys = self._shortcuts(self, fullscreen=True)
        self.set_playable(False)

    def _shortcuts(self, owner: QWidget, *, fullscreen: bool) -> list[QShortcut]:
        skip = self.skip_requested.emit
        keys = [
            ("Space", self.toggle_requested.emit), ("Left", lambda: skip(-SKIP_MS)), ("Right", lambda: skip(SKIP_MS)),
            ("Shift+Left", lambda: skip(-BIG_SKIP_MS)), ("Shift+Right", lambda: skip(BIG_SKIP_MS)),
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

    # -------------------------------------------------------------- what is shown

    def show_state(self, detail: ActivityDetail, *, has_video: bool, locked_reason: str | None,
                   has_transcript: bool) -> None:
        """The video surface, or the words saying why there is no video (and a Download button)."""
        if locked_reason is not None:
            pass_download_focus(self)
            self.download_button.setVisible(False)
            self._blocked = locked_reason
            self._show_stack()
            return
        lines = []
        video = next((a for a in detail.assets if a.kind == "video"), None)
        if not has_video:
            if video is None:
                lines.append("This activity has no video.")
            elif video.state in DOWNLOADING:
                lines.append("The video is downloading. Watch its progress on the Downloads page.")
            else:
                lines.append("The video is not downloaded yet. Download it to watch it here, "
                             "with or without a network.")
        problem = probe_libvlc()
        if problem:
            lines.append(problem)
        if lines and has_transcript:
            lines.append("The transcript is below." if self.audio_only else "The transcript is on the right.")
        offered = not has_video and video is not None and video.state not in DOWNLOADING
        if not offered:
            pass_download_focus(self)
        self.download_button.setVisible(offered)
        self._show_download_refusal()
        self._blocked = "\n\n".join(lines) or None
        self._show_stack()

    def show_picture(self, shows: bool | None) -> None:
        """libvlc shows the picture (True), cannot (False: say so in its place), or not known yet."""
        self.no_picture = shows is False
        self._show_stack()

    def _show_stack(self) -> None:
        # Sound alone has no picture to miss: libvlc's "no video output" is no news then.
        text = self._blocked or (no_picture_message() if self.no_picture and not self.audio_only else None)
        if text:
            self.message.setText(text)
        self.video_stack.setCurrentIndex(MESSAGE if text else AUDIO if self.audio_only else SURFACE)

    def set_audio_only(self, audio_only: bool) -> None:
        """The form on this computer is sound alone (True) or a video (False)."""
        self.audio_only = audio_only
        self.spoken_label.setText("")
        self._show_stack()

    def show_spoken(self, text: str) -> None:
        """Audio only: the line being spoken now ("" between lines)."""
        if text != self.spoken_label.text():
            self.spoken_label.setText(text)

    def download_pending(self) -> bool:
        """A Download click is being handled (its button is disabled meanwhile)."""
        return not self.download_button.isEnabled() and self._download_refused is None

    def refuse_download(self, reason: str | None) -> None:
        """Rule 3 (the activity is over, never started here): the downloads would refuse, so
        the button says why instead of offering it (None: offer it again)."""
        self._download_refused = reason
        self._show_download_refusal()

    def _show_download_refusal(self) -> None:
        reason = self._download_refused
        button = self.download_button
        button.setEnabled(reason is None)
        button.setToolTip(f"Not downloaded: {reason}" if reason else self._download_tip)
        button.setAccessibleDescription(f"Not downloaded: {reason}" if reason else "")

    def show_download_plan(self, plan: str, tip: str) -> None:
        """What a Download click fetches ("Small · 360p · 24.0 MB"; "" when the dialog asks)."""
        self._download_tip = tip
        self.download_button.setText(f"Download this activity ({plan})" if plan else "Download this activity")
        self._show_download_refusal()

    def set_length(self, length_ms: int) -> None:
        self.seek_slider.setRange(0, max(0, length_ms))

    def show_position(self, ms: int, length_ms: int, watched: tuple[tuple[int, int], ...]) -> None:
        if not self._dragging:
            self.seek_slider.blockSignals(True)
            self.seek_slider.setValue(ms)
            self.seek_slider.blockSignals(False)
        self.seek_slider.set_watched(watched)
        self.time_label.setText(f"{format_time(ms)} / {format_time(length_ms)}")

    def show_playing(self, playing: bool) -> None:
        self.play_button.setText("❚❚ Pause" if playing else "▶ Play")
        self.play_button.setAccessibleName("Pause" if playing else "Play")
        if playing:
            self.status_label.setText("")
            self.continue_button.setVisible(False)
            self.surface.set_poster("")  # the picture from now on (a pause keeps its frame)

    def offer_continue(self, offered: bool) -> None:
        """At the end of the video, with the post-test unlocked: offer to go on to it."""
        self.continue_button.setVisible(offered)

    def set_playable(self, playable: bool) -> None:
        """A video is loaded (or not): the controls and the page keys follow."""
        self.playable = playable
        for w in (self.play_button, self.back_button, self.forward_button, self.seek_slider,
                  self.speed_combo, self.volume_slider, self.fullscreen_button):
            w.setEnabled(playable)
        for s in self._page_keys:
            s.setEnabled(playable and not self.fullscreen)

    def step_speed(self, step: int) -> None:
        index = min(len(RATES) - 1, max(0, self.speed_combo.currentIndex() + step))
        self.speed_combo.setCurrentIndex(index)

    # -------------------------------------------------------------- seek bar

    def _drag_started(self) -> None:
        self._dragging = True

    def _drag_finished(self) -> None:
        self._dragging = False
        self.seek_requested.emit(self.seek_slider.sliderPosition())

    def _slider_action(self, action: int) -> None:
        # Keyboard and page clicks on the slider (not drags: those seek on release).
        if not self.seek_slider.isSliderDown() and action != QSlider.SliderAction.SliderMove.value:
            QTimer.singleShot(0, lambda: self.seek_requested.emit(self.seek_slider.sliderPosition()))

    # -------------------------------------------------------------- fullscreen

    def toggle_fullscreen(self) -> None:
        self.set_fullscreen(not self.fullscreen)

    def set_fullscreen(self, on: bool) -> None:
        """Leave the splitter for a fullscreen window of its own (titled with the window title
        set on the column), or go back to the splitter at its old size."""
        if on == self.fullscreen or (on and not self.playable):
            return
        self.fullscreen = on
        if on:
            self._splitter = self.parentWidget()
            self._home_sizes = self._splitter.sizes()
            self.setParent(None)
            self.showFullScreen()
            self.activateWindow()
            self.play_button.setFocus()  # so the keys reach the fullscreen window
        else:
            splitter = self._splitter
            splitter.insertWidget(0, self)
            self.show()
            splitter.setSizes(self._home_sizes or splitter.sizes())
            self.window().activateWindow()
            self.play_button.setFocus()
        for s in self._fullscreen_keys:
            s.setEnabled(on)
        for s in self._page_keys:
            s.setEnabled(not on and self.playable)
        self.fullscreen_button.setText("Leave fullscreen" if on else "Fullscreen")
        self.fullscreen_button.setAccessibleName("Leave fullscreen" if on else "Fullscreen")
        self.fullscreen_button.setToolTip("Leave fullscreen (Esc)" if on else "Fullscreen (F; Esc to leave)")
        icon = QStyle.StandardPixmap.SP_TitleBarNormalButton if on else QStyle.StandardPixmap.SP_TitleBarMaxButton
        self.fullscreen_button.setIcon(self.style().standardIcon(icon))
