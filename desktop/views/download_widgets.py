"""The Downloads page's parts that know nothing of the queue: how speed, time left and the
bandwidth cap read, the progress bar painted in the jobs table, the jobs table's shape and
the storage-per-activity table."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QTableView,
    QWidget,
)

from cmecore.renditions import QUALITY_LABELS
from desktop.views.text import human_bytes

FRACTION_ROLE = Qt.ItemDataRole.UserRole + 11  # a row's share done (0..1), for the progress bar


def format_eta(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return "—"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_speed(bps: float) -> str:
    return f"{human_bytes(int(bps))}/s" if bps > 0 else "—"


def bandwidth_text(kbps: int | None) -> str:
    if not kbps:
        return "Bandwidth: no cap"
    if kbps >= 1000:
        return f"Bandwidth cap: {kbps / 1000:g} Mbit/s"
    return f"Bandwidth cap: {kbps} kbit/s"


class ProgressDelegate(QStyledItemDelegate):
    """Paints the progress column as the style's own progress bar."""

    def paint(self, painter, option, index) -> None:
        fraction = index.data(FRACTION_ROLE)
        if fraction is None:
            super().paint(painter, option, index)
            return
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        bar = QStyleOptionProgressBar()
        bar.rect = QRect(option.rect.adjusted(3, 3, -3, -3))
        bar.minimum = 0
        bar.maximum = 1000
        bar.progress = int(round(fraction * 1000))
        bar.text = f"{fraction:.0%}"
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        bar.palette = option.palette
        bar.fontMetrics = option.fontMetrics
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)


class JobsTable(QTableView):
    """One row per download job (a DownloadsModel), progress painted as a bar, several rows selectable."""

    def __init__(self, model, parent: QWidget | None = None):
        super().__init__(parent)
        self.setModel(model)
        self.setAccessibleName("Download jobs")
        self.setToolTip("Files being fetched or waiting. Select rows to pause, resume or cancel them.")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTabKeyNavigation(False)  # Tab leaves the table (arrows move inside it)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.setItemDelegateForColumn(model.PROGRESS, ProgressDelegate(self))
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(model.ACTIVITY, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        fm = self.fontMetrics()
        for col, sample in ((model.ASSET, "Video · Small"), (model.PROGRESS, "████████████"),
                            (model.BYTES, "999.9 MB / 999.9 MB"), (model.SPEED, "999.9 KB/s"),
                            (model.ETA, "0:00:00"), (model.STATE, "Downloading")):
            self.setColumnWidth(col, fm.horizontalAdvance(sample) + 24)
        # The Error column is as narrow as its heading until a job has an error: the space
        # goes to the activity's title (the full error is in the cell's tooltip).
        self._error_widths = (fm.horizontalAdvance(model.HEADERS[model.ERROR]) + 24,
                              fm.horizontalAdvance("Server not reachable") + 24)
        model.modelReset.connect(self._fit_error_column)
        model.dataChanged.connect(self._fit_error_column)
        self._fit_error_column()

    def _fit_error_column(self, *_changed) -> None:
        model = self.model()
        width = self._error_widths[any(r.error for r in model.rows())]
        if self.columnWidth(model.ERROR) != width:
            self.setColumnWidth(model.ERROR, width)


class StorageTable(QTableView):
    """The space each activity's complete files take, largest first, and which form of its
    video is on this computer."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        model = QStandardItemModel(0, 3, self)
        model.setHorizontalHeaderLabels(["Activity", "Video", "Stored"])
        self.setModel(model)
        self.setAccessibleName("Storage used per activity")
        self.setToolTip("Space the complete files of each activity take")
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTabKeyNavigation(False)  # Tab leaves the table (arrows move inside it)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)

    def show_use(self, by_activity: dict[str, int], titles: dict[str, str],
                 forms: dict[str, str | None] | None = None) -> None:
        """`forms`: activity id -> the Quality of the video on this computer (None: no video here)."""
        model = self.model()
        model.removeRows(0, model.rowCount())
        for activity_id, used in sorted(by_activity.items(), key=lambda kv: -kv[1]):
            if used <= 0:
                continue
            title = QStandardItem(titles.get(activity_id, activity_id))
            title.setData(activity_id, Qt.ItemDataRole.UserRole)
            quality = (forms or {}).get(activity_id)
            form = QStandardItem(QUALITY_LABELS[quality] if quality in QUALITY_LABELS else "—")
            form.setToolTip("The form of the video on this computer")
            size = QStandardItem(human_bytes(used))
            size.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            model.appendRow([title, form, size])
