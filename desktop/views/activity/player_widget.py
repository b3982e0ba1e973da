"""The video surface (a native window libvlc draws into) and the seek bar.

libvlc draws straight into a native window we hand it (`set_xwindow`/`set_hwnd`/
`set_nsobject`), before play and again whenever Qt recreates that window (reparenting
for fullscreen does). Under the offscreen or minimal platforms there is no window to
draw into: nothing is attached (tests use libvlc's dummy video output).

When libvlc shows no picture (before Play, and after the end, when it closes its video
window) the surface is not a blank black box: it says what to do (`set_poster`:
"Press Play to start the video (1:00)"). libvlc's own window covers it while it plays.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QSlider, QStackedWidget, QStyle, QStyleOptionSlider, QWidget

from cmecore.transcripts.cues import clock as format_time  # the one m:ss (re-exported for the views)
from desktop.media.qt_player import QtPlayer

HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal"})


def idle_poster(*, ended: bool = False, resume_ms: int = 0, length_ms: int = 0) -> str:
    """What the video area says while there is no picture: what Play does now."""
    if ended:
        return "The video has ended. Press Play to watch it again."
    if resume_ms:
        return f"Press Play to go on from {format_time(resume_ms)}."
    if length_ms:
        return f"Press Play to start the video ({format_time(length_ms)})."
    return "Press Play to start the video."


def can_embed_video() -> bool:
    return QGuiApplication.platformName() not in HEADLESS_PLATFORMS


POSTER_INK = "#d8d8d8"  # the poster's words on the black surface (13:1)


class VideoSurface(QWidget):
    """A black 16:9 native window for libvlc; keeps the player attached to it, and shows a
    line saying what to do while libvlc shows no picture."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._player: QtPlayer | None = None
        self.poster = ""
        self.setAttribute(Qt.WidgetAttribute.WA_NativeWindow, True)
        self.setAttribute(Qt.WidgetAttribute.WA_DontCreateNativeAncestors, True)
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor("black"))
        self.setPalette(palette)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setMinimumSize(320, 180)
        self.setAccessibleName("Video")
        self.setToolTip("The video (Space plays or pauses, F for fullscreen)")

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width * 9 // 16

    def sizeHint(self) -> QSize:
        return QSize(640, 360)

    def set_poster(self, text: str) -> None:
        """The words shown while libvlc shows no picture ("" for none)."""
        if text != self.poster:
            self.poster = text
            self.setAccessibleDescription(text)
            self.update()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self.poster:
            return
        painter = QPainter(self)
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        painter.setFont(font)
        painter.setPen(QColor(POSTER_INK))
        margin = self.width() // 10
        painter.drawText(self.rect().adjusted(margin, 0, -margin, 0),
                         Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.poster)
        painter.end()

    def attach(self, player: QtPlayer) -> None:
        """Draw `player`'s video here (call before it plays)."""
        self._player = player
        self._attach_window()

    def _attach_window(self) -> None:
        if self._player is not None and self._player.available and can_embed_video():
            self._player.attach(int(self.winId()))

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.WinIdChange:
            self._attach_window()  # the native window was recreated: hand libvlc the new one
        return super().event(event)


class VideoArea(QStackedWidget):
    """The place of the video (the surface, or the words saying why there is none): it takes
    the keyboard focus on a click or Tab, so Space and F reach the player's keys, and draws
    a ring in its margin while it has it (libvlc paints over the surface itself)."""

    RING = 2  # px

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setContentsMargins(self.RING, self.RING, self.RING, self.RING)
        self.setAccessibleName("Video")
        self.setToolTip("The video (Space plays or pauses, ←/→ skip 10 s, F for fullscreen)")

    def focusInEvent(self, event) -> None:
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        self.update()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.hasFocus():
            painter = QPainter(self)
            pen = painter.pen()
            pen.setColor(self.palette().color(QPalette.ColorRole.Highlight))
            pen.setWidth(self.RING)
            painter.setPen(pen)
            painter.drawRect(self.rect().adjusted(1, 1, -1, -1))
            painter.end()


class SeekSlider(QSlider):
    """A horizontal slider in media milliseconds; a click jumps there; watched parts drawn under it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._watched: tuple[tuple[int, int], ...] = ()
        self.setRange(0, 0)
        self.setSingleStep(5_000)
        self.setPageStep(10_000)
        self.setTracking(False)  # seek once, when the learner lets go
        self.setAccessibleName("Position")
        self.setToolTip("Position in the video; the band underneath shows what you have watched")
        self.setMinimumHeight(max(self.sizeHint().height(), 22))

    def set_watched(self, intervals: tuple[tuple[int, int], ...]) -> None:
        if intervals != self._watched:
            self._watched = intervals
            self.update()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.maximum() > 0:
            option = QStyleOptionSlider()
            self.initStyleOption(option)
            handle = self.style().subControlRect(
                QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self
            )
            if not handle.contains(event.position().toPoint()):
                value = QStyle.sliderValueFromPosition(
                    self.minimum(), self.maximum(), int(event.position().x()) - handle.width() // 2,
                    max(1, self.width() - handle.width()),
                )
                self.setSliderPosition(value)
                self.triggerAction(QSlider.SliderAction.SliderMove)
                self.sliderReleased.emit()  # a click is a finished move: seek now
                event.accept()
                return
        super().mousePressEvent(event)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self._watched or self.maximum() <= 0:
            return
        painter = QPainter(self)
        color = self.palette().color(QPalette.ColorRole.Highlight)
        color.setAlpha(160)
        width, top, span = self.width(), self.height() - 3, self.maximum()
        for start, end in self._watched:
            x0 = int(width * min(start, span) / span)
            x1 = max(x0 + 1, int(width * min(end, span) / span))
            painter.fillRect(x0, top, x1 - x0, 3, color)
        painter.end()
