"""The transcript beside the video: one list view over a model of cues.

The panel reads the activity's transcript itself, on the task pool (`load`), and shows
it, or in plain words why there is none, when it arrives; a late answer for another
activity is dropped. It shows the cues as the service times them (the times search
gives too) and never re-times them itself; `reload` reads them again when the service
says their timing changed (the player found the video's length).

Banners say when the text is machine-made and when its timings are estimated (from text
length here, or from the audio by the server at publish).

The current cue (CueIndex, a binary search per position tick) is shown bold on the
highlight colour and kept in view, unless the learner scrolls by hand: then auto-follow
stops and a "↓ Follow" button brings it back. Clicking a cue seeks there. A find box
marks the matching cues and steps through them. Cue text is plain text, never HTML.

Cues wrap to show every word: the list lays its rows out again whenever its width
changes (no "…" while there is room). When the panel comes into view (resuming, or
switching to the Watch tab) the current cue is scrolled into view. The text size (A−/A+)
is remembered on this computer (window_prefs.py, beside the window's own look).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QAbstractListModel, QEvent, QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import CmeError, TranscriptError
from cmecore.transcripts.cues import CueIndex, Transcript
from desktop.views.activity.cue_delegate import CueDelegate
from desktop.views.activity.player_widget import format_time
from desktop.views.learning_text import locked_text
from desktop.views.tasks import run_task
from desktop.views.widgets import line_edit, tool_button
from desktop.views.window_prefs import WindowPrefs, clamp_points

if TYPE_CHECKING:
    from desktop.cache.library import ActivityDetail

log = logging.getLogger(__name__)

MACHINE_BANNER = "Machine-generated transcript, not checked by hand"
ESTIMATED_BANNER = "Timings are estimated"
AUDIO_BANNER = "Timings estimated from the audio"
BANNERS = (  # (text, tooltip): machine-made text, timings estimated here, timings estimated by the server
    (MACHINE_BANNER, "This transcript was made by speech recognition"),
    (ESTIMATED_BANNER, "This transcript came without timings: where each line starts is an estimate"),
    (AUDIO_BANNER, "This transcript came without timings: the server placed each line where the speech "
                   "is in the video, so a line may start a little early or late"),
)
START_ROLE = Qt.ItemDataRole.UserRole + 1
SKIPS_DESCRIBED = 5  # the skipped-lines note's tooltip names the first few, then counts the rest


class CueModel(QAbstractListModel):
    font_changed = Signal(QModelIndex)  # a row became, or stopped being, the spoken (bold) line

    def __init__(self, parent=None):
        super().__init__(parent)
        self.index_ = CueIndex(())
        self.current: int | None = None
        self.matches: frozenset[int] = frozenset()
        self.bold_font: QFont | None = None  # the view's font, bold: for the current cue

    def set_cues(self, index: CueIndex) -> None:
        self.beginResetModel()
        self.index_ = index
        self.current = None
        self.matches = frozenset()
        self.endResetModel()

    def set_current(self, row: int | None) -> None:
        if row == self.current:
            return
        old, self.current = self.current, row
        for r in (old, row):
            if r is not None:
                i = self.index(r)
                self.dataChanged.emit(i, i)
                self.font_changed.emit(i)

    def set_matches(self, rows: list[int]) -> None:
        changed = self.matches.symmetric_difference(rows)
        self.matches = frozenset(rows)
        if changed:
            self.dataChanged.emit(self.index(min(changed)), self.index(max(changed)))

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.index_.cues)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        row = index.row()
        if not index.isValid() or row >= len(self.index_.cues):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            # made when asked, not kept: a third copy of the transcript's text otherwise
            cue = self.index_.cues[row]
            return f"{format_time(cue.start_ms)}   {cue.text}"
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            cue = self.index_.cues[row]
            where = " (now playing)" if row == self.current else ""
            return f"{format_time(cue.start_ms)}{where}: {cue.text}. Click to play from here."
        if role == START_ROLE:
            return self.index_.cues[row].start_ms
        if role == Qt.ItemDataRole.FontRole and row == self.current:
            return self.bold_font
        if role == Qt.ItemDataRole.BackgroundRole:
            palette = self.parent().palette() if self.parent() is not None else QPalette()
            if row == self.current:
                color = palette.color(QPalette.ColorRole.Highlight)
                color.setAlpha(70)
                return color
            if row in self.matches:
                color = palette.color(QPalette.ColorRole.Link)
                color.setAlpha(45)
                return color
        return None


def missing_note(detail: ActivityDetail, transcript: Transcript | None = None) -> str:
    """Why there is no transcript to show when reading it found none."""
    if transcript is not None and transcript.skipped:
        return "No line of the transcript file could be read."
    has_asset = any(a.kind == "transcript" for a in detail.assets)
    return "The transcript is not downloaded yet." if has_asset else "This activity has no transcript."


def failure_note(exc: BaseException) -> str:
    """What to show when reading the transcript failed."""
    if isinstance(exc, CmeError) and not isinstance(exc, TranscriptError):
        return locked_text(exc)  # rule 1, or no one signed in
    if not isinstance(exc, TranscriptError):
        log.error("reading the transcript failed", exc_info=exc)
    return f"The transcript file could not be read ({exc})."


def banner(parent: QWidget, text: str, tip: str) -> QLabel:
    label = QLabel(text, parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setAccessibleName(text)
    label.setToolTip(tip)
    label.setFrameShape(QLabel.Shape.StyledPanel)
    label.setStyleSheet("padding: 3px;")
    label.setVisible(False)
    return label


def skipped_note(parent: QWidget) -> QLabel:
    """A quiet line under the banners: how many lines of the file could not be read."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setVisible(False)
    return label


def show_skipped(label: QLabel, transcript: Transcript | None) -> None:
    """Say how many lines were not read (and, on hover or to a screen reader, which and why)."""
    skipped = transcript.skipped if transcript is not None else ()
    label.setVisible(bool(skipped))
    if not skipped:
        return
    count = len(skipped)
    text = f"{count} line{'s' if count != 1 else ''} could not be read"
    label.setText(text)
    label.setAccessibleName(text)
    first = "; ".join(str(skip) for skip in skipped[:SKIPS_DESCRIBED])
    more = f"; and {count - SKIPS_DESCRIBED} more" if count > SKIPS_DESCRIBED else ""
    why = f"Lines of the transcript file left out because they could not be read: {first}{more}."
    label.setAccessibleDescription(why)
    label.setToolTip(why)


def match_count_text(query: str, matches: list[int], match_at: int) -> str:
    """The find box's count: "", "No matches", "3 matches" or "2 of 3" (stepping through)."""
    if not query.strip():
        return ""
    if not matches:
        return "No matches"
    if match_at < 0:
        return f"{len(matches)} match{'es' if len(matches) != 1 else ''}"
    return f"{match_at + 1} of {len(matches)}"


class TranscriptPanel(QWidget):
    seek_requested = Signal(int)
    transcript_shown = Signal()  # what `load` asked for (or why there is none) is on screen

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAccessibleName("Transcript")
        self.index = CueIndex(())
        self.transcript: Transcript | None = None  # as last loaded
        self._request = 0  # bumped per load: a late transcript for another activity is dropped
        self._source: tuple | None = None  # (services, detail) last loaded from (services None: locked)
        self.following = True
        self._auto_scrolling = False
        self._matches: list[int] = []
        self._prefs_dir, self._prefs = None, None  # the text size's WindowPrefs (the services' data dir)
        self._match_at = -1

        self.machine_banner, self.estimated_banner, self.audio_banner = (banner(self, *b) for b in BANNERS)
        self.skipped_note = skipped_note(self)
        self.empty_label = QLabel(self)
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAccessibleName("Transcript status")

        self.find_edit = line_edit(self, "Find in transcript", "Find words in the transcript (Enter: next match, "
                                   "Shift+Enter: previous)", placeholder="Find in transcript", clear_button=True)
        self.find_edit.textChanged.connect(self._find)
        self.find_edit.returnPressed.connect(self.next_match)
        back = QShortcut(QKeySequence("Shift+Return"), self.find_edit, context=Qt.ShortcutContext.WidgetShortcut)
        back.activated.connect(self.previous_match)
        self.prev_button = tool_button(self, "‹", "Previous match", "Previous match (Shift+Enter)", self.previous_match)
        self.next_button = tool_button(self, "›", "Next match", "Next match (Enter)", self.next_match)
        self.match_label = QLabel("", self)
        self.match_label.setAccessibleName("Matches")
        self.match_label.setToolTip("How many lines of the transcript match")
        self.match_label.setMinimumWidth(70)
        self.smaller_button = tool_button(self, "A−", "Smaller text", "Make the transcript text smaller",
                                         lambda: self.change_font_size(-1))
        self.larger_button = tool_button(self, "A+", "Larger text", "Make the transcript text larger",
                                        lambda: self.change_font_size(+1))

        self.model = CueModel(self)
        self.view = QListView(self)
        self.view.setModel(self.model)
        self.view.setWordWrap(True)
        delegate = CueDelegate(self.view)  # every word shown (cue_delegate.py)
        self.view.setItemDelegate(delegate)
        self.model.font_changed.connect(delegate.sizeHintChanged)  # the spoken line is bold: taller
        self.view.setResizeMode(QListView.ResizeMode.Adjust)  # rows wrap again at every new width
        # The scroll bar's coming and going would change the width rows were wrapped for.
        self.view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.view.setUniformItemSizes(False)
        self.view.setLayoutMode(QListView.LayoutMode.Batched)
        self.view.setBatchSize(200)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSpacing(2)
        self.view.setAccessibleName("Transcript lines")
        self.view.setToolTip("Click a line to play from there")
        self.model.bold_font = QFont(self.view.font())
        self.model.bold_font.setBold(True)
        self.view.clicked.connect(self._cue_clicked)
        self.view.activated.connect(self._cue_clicked)
        # What the learner does to scroll (wheel, scroll bar, keys) stops auto-follow;
        # our own scrollTo and Qt's relayouts do not.
        self.view.viewport().installEventFilter(self)
        self.view.installEventFilter(self)
        bar = self.view.verticalScrollBar()
        bar.actionTriggered.connect(lambda _action: self._scrolled_by_hand())

        self.follow_button = QPushButton("↓ Follow", self)
        self.follow_button.setAccessibleName("Follow the video")
        self.follow_button.setToolTip("Keep the line being spoken in view again")
        self.follow_button.clicked.connect(self.resume_follow)
        self.follow_button.setVisible(False)

        # The find box keeps its placeholder readable (not "Fi…" at 1024 px): the match
        # count and A−/A+ get a row of their own under it.
        self.find_edit.setMinimumWidth(
            self.find_edit.fontMetrics().horizontalAdvance(self.find_edit.placeholderText()) + 40)
        find_row = QHBoxLayout()
        find_row.addWidget(self.find_edit, 1)
        find_row.addWidget(self.prev_button)
        find_row.addWidget(self.next_button)
        size_row = QHBoxLayout()
        size_row.addWidget(self.match_label, 1)
        size_row.addWidget(self.smaller_button)
        size_row.addWidget(self.larger_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for label in (self.machine_banner, self.estimated_banner, self.audio_banner, self.skipped_note):
            layout.addWidget(label)
        layout.addLayout(find_row)
        layout.addLayout(size_row)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.follow_button, 0, Qt.AlignmentFlag.AlignRight)
        self.set_transcript(None, machine_generated=False, note="No transcript.")

    # -------------------------------------------------------------- loading

    def load(self, services, detail: ActivityDetail, locked_reason: str | None) -> None:
        """Read `detail`'s transcript off the GUI thread; `locked_reason` (rule 1, no one
        signed in) is shown instead."""
        self._source = (services if locked_reason is None else None, detail)  # None: nothing to read
        paths = getattr(services, "paths", None)
        data_dir = paths.data_dir if paths is not None else None
        if data_dir != self._prefs_dir:  # one settings handle per data dir, not one per activity shown
            self._prefs_dir, self._prefs = data_dir, WindowPrefs(data_dir) if data_dir is not None else None
        remembered = self._prefs.transcript_points if self._prefs is not None else None
        if remembered is not None and remembered != self.font_size():
            self.set_font_size(remembered)
        self.transcript = None
        self.set_transcript(None, machine_generated=False, note="Reading the transcript…")
        if locked_reason is not None or services is None:
            self._request += 1
            self._show(None, locked_reason or "")
        else:
            self._read()

    def reload(self) -> None:
        """Read the transcript again (its timing changed): what is shown stays until it
        arrives, and an earlier read still under way is dropped."""
        if self._source is not None and self._source[0] is not None:
            self._read()

    def _read(self) -> None:
        self._request += 1
        request, (services, detail) = self._request, self._source
        run_task(self, lambda: services.transcript(detail.id),
                 lambda transcript: self._arrived(request, transcript),
                 lambda exc: self._failed(request, exc))

    def _arrived(self, request: int, transcript: Transcript | None) -> None:
        if request == self._request:  # else another activity (or length) was asked for meanwhile
            self._show(transcript, missing_note(self._source[1], transcript))

    def _failed(self, request: int, exc: BaseException) -> None:
        if request == self._request:
            self._show(None, failure_note(exc))

    def _show(self, transcript: Transcript | None, note: str) -> None:
        self.transcript = transcript
        machine = bool(transcript is not None and self._source[1].transcript_machine_generated)
        self.set_transcript(transcript, machine_generated=machine, note=note)
        self.transcript_shown.emit()

    # -------------------------------------------------------------- content

    def set_transcript(self, transcript: Transcript | None, *, machine_generated: bool, note: str = "") -> None:
        """Show these cues (None: show `note` instead)."""
        cues = transcript.cues if transcript is not None else ()
        self.index = CueIndex(cues)
        self.model.set_cues(self.index)
        has = bool(cues)
        self.machine_banner.setVisible(has and machine_generated)
        self.estimated_banner.setVisible(has and transcript.estimated)
        self.audio_banner.setVisible(has and transcript.from_audio)
        show_skipped(self.skipped_note, transcript)
        self.empty_label.setText(note if not has else "")
        self.empty_label.setVisible(not has)
        self.view.setVisible(has)
        for w in (self.find_edit, self.prev_button, self.next_button, self.smaller_button, self.larger_button):
            w.setEnabled(has)
        self.resume_follow()
        self._find(self.find_edit.text())

    @property
    def current_row(self) -> int | None:
        return self.model.current

    # -------------------------------------------------------------- following the video

    def set_position(self, ms: int) -> None:
        """The player's position (every tick): highlight the cue and keep it in view."""
        row = self.index.index_at(ms)
        if row == self.model.current:
            return
        self.model.set_current(row)
        if row is not None:  # the spoken cue is the list's selected item (screen readers are told)
            self.view.selectionModel().select(self.model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if row is not None and self.following:
            self._scroll_to(row)

    def _scroll_to(self, row: int) -> None:
        self._auto_scrolling = True
        try:
            self.view.scrollTo(self.model.index(row), QAbstractItemView.ScrollHint.PositionAtCenter)
        finally:
            self._auto_scrolling = False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._follow_later()  # laid out for its real size only now (resuming, or back to Watch)

    def _follow_later(self) -> None:
        if self.following and self.model.current is not None:
            QTimer.singleShot(0, self, lambda: self.following and self.model.current is not None
                              and self._scroll_to(self.model.current))

    def resume_follow(self) -> None:
        self.following = True
        self.follow_button.setVisible(False)
        if self.model.current is not None:
            self._scroll_to(self.model.current)

    def _scrolled_by_hand(self) -> None:
        if self._auto_scrolling or not self.view.isVisible():
            return
        self.following = False
        self.follow_button.setVisible(True)

    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Wheel:
            self._scrolled_by_hand()
        elif kind == QEvent.Type.Resize and watched is self.view.viewport():
            self._follow_later()  # rows wrapped again: keep the current cue in view
        elif kind == QEvent.Type.KeyPress and watched is self.view and event.key() in (
            Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown,
            Qt.Key.Key_Home, Qt.Key.Key_End,
        ):
            self._scrolled_by_hand()
        return super().eventFilter(watched, event)

    def _cue_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.resume_follow()
            self.seek_requested.emit(int(index.data(START_ROLE)))

    # -------------------------------------------------------------- find

    def _find(self, text: str) -> None:
        self._matches = self.index.find(text)
        self._match_at = -1
        self.model.set_matches(self._matches)
        self._show_match_count()

    def _show_match_count(self) -> None:
        self.match_label.setText(match_count_text(self.find_edit.text(), self._matches, self._match_at))
        self.prev_button.setEnabled(bool(self._matches))
        self.next_button.setEnabled(bool(self._matches))

    def next_match(self) -> None:
        self._step_match(+1)

    def previous_match(self) -> None:
        self._step_match(-1)

    def _step_match(self, step: int) -> None:
        if not self._matches:
            return
        if self._match_at < 0:
            # Start from the line being spoken, so "next" means next after here.
            here = self.model.current if self.model.current is not None else -1
            after = [i for i, row in enumerate(self._matches) if (row > here if step > 0 else row < here)]
            self._match_at = (after[0] if step > 0 else after[-1]) if after else (0 if step > 0 else len(self._matches) - 1)
        else:
            self._match_at = (self._match_at + step) % len(self._matches)
        row = self._matches[self._match_at]
        self.following = False
        self.follow_button.setVisible(True)
        self._auto_scrolling = True
        try:
            index = self.model.index(row)
            self.view.setCurrentIndex(index)
            self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        finally:
            self._auto_scrolling = False
        self._show_match_count()

    # -------------------------------------------------------------- text size

    def change_font_size(self, step: int) -> None:
        """A−/A+: one point smaller or larger, remembered on this computer."""
        self.set_font_size(self.font_size() + step)
        if self._prefs is not None:
            self._prefs.transcript_points = self.font_size()

    def set_font_size(self, points: float) -> None:
        font = self.view.font()
        font.setPointSizeF(clamp_points(points))
        self.view.setFont(font)
        self.model.bold_font = QFont(font)
        self.model.bold_font.setBold(True)
        if self.following and self.model.current is not None:
            self._scroll_to(self.model.current)

    def font_size(self) -> float:
        return self.view.font().pointSizeF()
