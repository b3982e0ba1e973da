"""The library: one table model over the cached activities, sortable and filterable.

Titles are read whole: the Title column takes what the other columns leave and the rows
grow to as many lines as the longest titles need at its width (up to TITLE_LINES; past
that the last line is elided and the tooltip has the title). The Credits column wraps
between credits, never inside "0.5 AMA". Row heights are one for all rows, measured on a
few titles and the distinct credit labels, so a large library costs no per-row measuring.

An activity that is over (rule 3, judged by the library service on the server-corrected
clock: `LibraryRow.ended`) reads "Expired" with the reason in its tooltip and accessible
description, and the Download button refuses it with that reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.cache.blobstore import LocalState  # a plain enum (no database code)
from desktop.views.library_table import CreditsDelegate, LibraryTable, two_line_width, widest, wrapped_lines
from desktop.views.row_model import RowTableModel
from desktop.views.text import format_date, media_text
from desktop.views.widgets import line_edit

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2

DOWNLOAD_TIP = "Fetch the video, transcript and summaries of the selected activities"
DOWNLOAD_TEXT = "⬇ Download"
ALL_HERE_TIP = "Already downloaded: everything the selected activities need is on this computer"

_MEDIA_ORDER = {"present": 0, "partial": 1, "queued": 2, "absent": 3}
TITLE_LINES = 3  # the most lines a row takes for its title
MEASURED_TITLES = 20  # the longest titles (by one-line width) decide the rows' height
TEXT_MARGIN = 10  # a cell's text is inset by the style's focus-frame margins (Fusion: 3 px a side)

if TYPE_CHECKING:  # plain dataclasses; the views never load the cache layer themselves
    from desktop.cache.library import LibraryRow


class LibraryModel(RowTableModel):
    TITLE, CREDITS, FACULTY, RELEASED, EXPIRES, MEDIA = range(6)
    HEADERS = ("Title", "Credits", "Faculty", "Released", "Expires", "Media")

    def __init__(self, rows: list[LibraryRow] | None = None, profession: str | None = None, parent=None):
        super().__init__(parent)
        self._rows: list[LibraryRow] = list(rows or [])
        self._profession = profession
        self._progress: dict[str, tuple[int, int]] = {}  # activity id -> (bytes done, bytes wanted)
        self._sort = (self.TITLE, Qt.SortOrder.AscendingOrder)

    # -------------------------------------------------------------- updates

    def set_rows(self, rows: list[LibraryRow]) -> None:
        self.beginResetModel()
        self._rows = self._sorted(rows)
        self.endResetModel()

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Sort the rows here, with one key per row, rather than in the proxy.

        A QSortFilterProxyModel sort calls data() twice per comparison (~20,000 calls
        into Python for 1,000 rows); a list sort computes each key once.
        """
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        ids = [self._rows[i.row()].id for i in old]
        self._rows = self._sorted(self._rows)
        where = {r.id: n for n, r in enumerate(self._rows)}
        self.changePersistentIndexList(old, [self.index(where[a], i.column()) for a, i in zip(ids, old)])
        self.layoutChanged.emit()

    def _sorted(self, rows) -> list[LibraryRow]:
        column, order = self._sort
        descending = order == Qt.SortOrder.DescendingOrder
        if column == self.TITLE:  # the usual order, kept short: one call per row, not three
            return sorted(rows, key=lambda r: r.title.casefold(), reverse=descending)
        return sorted(rows, key=lambda r: self._sort_key(r, column), reverse=descending)

    def set_profession(self, profession: str | None) -> None:
        if profession != self._profession:
            self._profession = profession
            if self._rows:
                self.dataChanged.emit(
                    self.index(0, self.CREDITS), self.index(len(self._rows) - 1, self.CREDITS)
                )

    def row_of(self, activity_id: str) -> LibraryRow | None:
        return next((r for r in self._rows if r.id == activity_id), None)

    def set_download_progress(self, progress: dict[str, tuple[int, int]]) -> None:
        """Activities with unfinished download jobs -> (bytes received, bytes wanted).

        The media column then reads "queued" or "n% downloaded" until the next reload
        of the rows says the files are present.
        """
        if progress == self._progress:
            return
        changed = set(progress) | set(self._progress)
        self._progress = dict(progress)
        for i, r in enumerate(self._rows):
            if r.id in changed:
                index = self.index(i, self.MEDIA)
                self.dataChanged.emit(index, index)

    # -------------------------------------------------------------- model API

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == self.MEDIA and r.video_quality:
                return f"The {form_label(r.video_quality)} form of the video is on this computer (Overview: Change video quality…)"
            if col == self.CREDITS:
                return self.credits_tip(r)
            if col == self.EXPIRES and r.ended:
                return f"Ended {format_date(r.termination_date)}. {r.ended}"
            return self._display(r, col)
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            if r.ended:
                return f"Expired: {r.ended}"
            if col == self.CREDITS:  # every credit, even where the column elides them
                return self.credits_tip(r)
            if col == self.MEDIA and r.video_quality:
                return f"The {form_label(r.video_quality)} form of the video is on this computer"
        return self._sort_or_id(r, col, role)

    @staticmethod
    def credits_tip(r: LibraryRow) -> str:
        return "\n".join(f"{c.label} — {c.credit_type}" for c in r.credits)

    def credits_labels(self) -> set[str]:
        """Each distinct label of the Credits column (rows sharing one tuple of offers, as the
        cache gives most of a library, are labelled once)."""
        return {r.credits_label(self._profession) for r in {id(r.credits): r for r in self._rows}.values()}

    def _sort_or_id(self, r: LibraryRow, col: int, role):
        if role == SORT_ROLE:
            return self._sort_key(r, col)
        if role == ID_ROLE:
            return r.id
        return None

    def _display(self, r: LibraryRow, col: int) -> str:
        if col == self.TITLE:
            return r.title
        if col == self.CREDITS:
            return r.credits_label(self._profession)
        if col == self.FACULTY:
            return r.faculty
        if col == self.RELEASED:
            return format_date(r.release_date)
        if col == self.EXPIRES:
            return "Expired" if r.ended else format_date(r.termination_date)
        if col == self.MEDIA:
            return self._media(r)
        return ""

    def _media(self, r: LibraryRow) -> str:
        progress = self._progress.get(r.id)
        if progress is None or str(r.media_state) == "present":
            # A smaller form says which ("● Small", "● Audio only"); the provider's own video
            # reads "● Downloaded" as it always has (the tooltip names the form either way).
            form = form_label(r.video_quality) if r.video_quality != "best" else ""
            return f"● {form}" if form and str(r.media_state) == "present" else media_text(r.media_state)
        done, wanted = progress
        done += r.media_bytes
        wanted += r.media_bytes
        if done <= 0 or wanted <= 0:
            return media_text(LocalState.queued)
        return f"◐ {min(99, int(done * 100 / wanted))}% downloaded"

    def _sort_key(self, r: LibraryRow, col: int):
        if col == self.RELEASED:
            return r.release_date.isoformat()
        if col == self.EXPIRES:
            return r.termination_date.isoformat()
        if col == self.MEDIA:
            return _MEDIA_ORDER.get(str(r.media_state), 9)
        if col == self.CREDITS:
            own = [c for c in r.credits if c.profession == self._profession] or list(r.credits)
            return max((c.contact_hours or c.max_credits for c in own), default=0.0)
        return self._display(r, col).casefold()


def form_label(quality: str | None) -> str:
    """"Small", "Audio only": which form of the video is on this computer ("" for none)."""
    if not quality:
        return ""
    from cmecore.renditions import QUALITY_LABELS  # start-up speed: it loads pydantic, which the first paint never needs

    return QUALITY_LABELS.get(quality, "")


class _SourceSortingProxy(QSortFilterProxyModel):
    """Filters here; sorting is handed to the source model (see LibraryModel.sort)."""

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        self.sourceModel().sort(column, order)


class LibraryView(QWidget):
    """Filter field over a sortable table, or the empty state when nothing is cached."""

    open_activity = Signal(str)
    download_requested = Signal(list)  # activity ids
    first_rows_painted = Signal()

    EMPTY_TEXT = "No activities yet — sign in and sync"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = LibraryModel(parent=self)
        self.proxy = _SourceSortingProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)

        self.filter_edit = line_edit(self, "Filter the library", "Show only activities whose title, faculty or "
                                     "credits contain this text", placeholder="Filter by title, faculty or credit…",
                                     clear_button=True)
        self.filter_edit.textChanged.connect(self._filter_changed)

        self.download_button = QPushButton(DOWNLOAD_TEXT, self)
        # Set by the window once the services are open: ids -> (what a Download fetches, its tooltip).
        self.describe_download = None
        self.download_button.setAccessibleName("Download selected activities")
        self.download_button.setToolTip(DOWNLOAD_TIP)
        self.download_button.setEnabled(False)
        self.download_button.clicked.connect(self._download_selected)

        self.count_label = QLabel(self)
        self.count_label.setAccessibleDescription("Number of activities shown")
        self.count_label.setToolTip("How many activities the table shows")

        self.table = LibraryTable(self)
        self.table.setModel(self.proxy)
        self.table.setAccessibleName("Library")
        self.table.setToolTip("Your cached activities. Double-click or press Enter to open one.")
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(LibraryModel.TITLE, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table (arrows move inside it)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        # Fixed starting widths (the user can drag them): ResizeToContents would measure
        # every row, which costs first paint on a large library.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(LibraryModel.TITLE, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(60)
        fm = self.fontMetrics()
        for col, sample in ((LibraryModel.CREDITS, "0.75 AMA · 1.5 ACPE"),
                            (LibraryModel.FACULTY, "Miriam Okafor, Tom"),  # wraps: the title has the room
                            (LibraryModel.RELEASED, "30 Sep 2026"), (LibraryModel.EXPIRES, "30 Sep 2026"),
                            (LibraryModel.MEDIA, "◐ Partly downloaded")):
            self.table.setColumnWidth(col, fm.horizontalAdvance(sample) + 24)
        self._credits_width = self.table.columnWidth(LibraryModel.CREDITS)  # the least it gets
        self._credit_lines = 1
        self._long_titles: list[str] = []
        header.sectionResized.connect(self._column_resized)
        self.table.setItemDelegateForColumn(LibraryModel.CREDITS, CreditsDelegate(self.table))
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.doubleClicked.connect(self._open_index)
        self.table.enter_pressed.connect(self._open_current)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.rows_painted.connect(self.first_rows_painted)

        self.empty_label = QLabel(self.EMPTY_TEXT, self)
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAccessibleDescription("Library is empty")
        self.empty_label.setToolTip("Sign in and sync to fetch the activities your provider offers")

        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.table)
        self.pages.addWidget(self.empty_label)

        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.count_label)
        top.addWidget(self.download_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.pages, 1)
        self._update_state()

    # -------------------------------------------------------------- API

    def set_rows(self, rows: list[LibraryRow], profession: str | None = None) -> None:
        selected = self.selected_id()
        self.model.set_profession(profession)
        self.model.set_rows(rows)
        self._long_titles = widest(self.table.font(), {r.title for r in rows}, MEASURED_TITLES)
        self._fit_credits_column()
        self._update_state()
        if selected:
            self.select_id(selected)
        self._selection_changed()  # the files here may have changed: what Download would fetch

    def set_profession(self, profession: str | None) -> None:
        self.model.set_profession(profession)
        self._fit_credits_column()

    def visible_titles(self) -> list[str]:
        """Titles in the order the table shows them (after sort and filter)."""
        return [
            self.proxy.index(i, LibraryModel.TITLE).data() for i in range(self.proxy.rowCount())
        ]

    def selected_id(self) -> str | None:
        index = self.table.current_or_kept()
        return index.data(ID_ROLE) if index.isValid() else None

    def selected_ids(self) -> list[str]:
        """Every selected activity (the current one if nothing is selected)."""
        rows = self.table.selectionModel().selectedRows(LibraryModel.TITLE)
        ids = [index.data(ID_ROLE) for index in rows]
        if not ids and self.selected_id():
            ids = [self.selected_id()]
        return ids

    def set_download_progress(self, progress: dict[str, tuple[int, int]]) -> None:
        self.model.set_download_progress(progress)

    def media_text_of(self, activity_id: str) -> str | None:
        for i in range(self.model.rowCount()):
            if self.model.row_at(i).id == activity_id:
                return self.model.index(i, LibraryModel.MEDIA).data()
        return None

    def select_id(self, activity_id: str) -> bool:
        for i in range(self.proxy.rowCount()):
            index = self.proxy.index(i, LibraryModel.TITLE)
            if index.data(ID_ROLE) == activity_id:
                self.table.make_current(index)
                return True
        return False

    def focus_table(self) -> None:
        (self.table if self.pages.currentWidget() is self.table else self.filter_edit).setFocus()

    # -------------------------------------------------------------- internals

    def _fit_credits_column(self) -> None:
        """Widen "Credits" to its longest label (measured on the labels alone, not by
        ResizeToContents over every row) while the title keeps room; if that is not
        enough the rows take two lines and the labels wrap between credits (never inside
        "0.5 AMA"). Past that a label is elided; every credit is in its tooltip and
        accessible description."""
        fm = self.table.fontMetrics()
        labels = self.model.credits_labels()  # each distinct label measured once (1,000 rows share few)
        one_line = max((fm.horizontalAdvance(t) for t in labels), default=0) + 24
        # Until the window is first shown nothing is laid out: the viewport is still the small
        # child Qt made (under 100 px), and asking for it would cost ~10 ms (see LibraryTable.viewportEvent).
        shown = self.window().testAttribute(Qt.WidgetAttribute.WA_WState_ExplicitShowHide)
        room = max(self.table.viewport().width() if shown else 0, 840) // 4
        two_lines = one_line > room
        if two_lines:
            wanted = max(two_line_width(fm, t) for t in labels) + 24
        else:
            wanted = one_line
        self._credit_lines = 2 if two_lines else 1
        width = max(self._credits_width, min(wanted, room))
        if width != self.table.columnWidth(LibraryModel.CREDITS):
            self.table.setColumnWidth(LibraryModel.CREDITS, width)  # the title's width changes: rows refit
        self._fit_rows()

    def _column_resized(self, column: int, _old: int, new: int) -> None:
        if column == LibraryModel.TITLE:  # the window or a column was resized: the titles wrap anew
            self._fit_rows(new)  # (while this is told, columnWidth may still give the old width)

    def _fit_rows(self, title_width: int | None = None) -> None:
        """All rows as tall as the longest titles need, word-wrapped at the Title column's
        width (at most TITLE_LINES lines), and as the credits need; one line when all fit."""
        fm = self.table.fontMetrics()
        if title_width is None:
            title_width = self.table.columnWidth(LibraryModel.TITLE)
        width = max(1, title_width - TEXT_MARGIN)
        lines = max([self._credit_lines] + [wrapped_lines(fm, t, width) for t in self._long_titles])
        lines = min(lines, max(TITLE_LINES, self._credit_lines))
        self.table.setWordWrap(lines > 1)
        height = fm.height() + fm.lineSpacing() * (lines - 1) + 8
        if height != self.table.verticalHeader().defaultSectionSize():
            self.table.verticalHeader().setDefaultSectionSize(height)

    def _filter_changed(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._update_state()

    def _update_state(self) -> None:
        total = self.model.rowCount()
        shown = self.proxy.rowCount()
        self.pages.setCurrentWidget(self.table if total else self.empty_label)
        self.filter_edit.setEnabled(bool(total))
        if not total:
            self.count_label.setText("")
        elif shown == total:
            self.count_label.setText(f"{total} activit{'y' if total == 1 else 'ies'}")
        else:
            self.count_label.setText(f"{shown} of {total} shown")

    def _open_index(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_activity.emit(index.data(ID_ROLE))

    def _selection_changed(self, *_args) -> None:
        ids = self.selected_ids()
        rows = [row for a in ids if (row := self.model.row_of(a)) is not None]
        ended = [row.ended for row in rows]
        over = bool(ids) and len(ended) == len(ids) and all(ended)
        # As on the Overview: nothing to fetch when every file is here (never a silent no-op).
        here = bool(ids) and len(rows) == len(ids) and all(str(row.media_state) == "present" for row in rows)
        self.download_button.setEnabled(bool(ids) and not over and not here)
        plan, tip = self.describe_download(ids) if self.describe_download is not None and ids else ("", DOWNLOAD_TIP)
        # What a click fetches, with its size; an activity that is over (rule 3) can no
        # longer be started: its media is not fetched.
        self.download_button.setText(f"{DOWNLOAD_TEXT} ({plan})" if plan and not over and not here else DOWNLOAD_TEXT)
        self.download_button.setToolTip(f"Not downloaded: {ended[0]}" if over else ALL_HERE_TIP if here else tip)

    def refresh_download_plan(self) -> None:
        """The preferred quality or "ask" changed: say again what a Download fetches."""
        self._selection_changed()

    def _download_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.download_requested.emit(ids)

    def _open_current(self) -> None:
        self._open_index(self.table.current_or_kept())
