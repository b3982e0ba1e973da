"""The Downloads page: one table row per download job, with progress, and the controls.

A view of the window's `DownloadQueue` (download_queue.py), which holds the jobs and makes
every change: the page is built the first time the learner goes to it, while the queue
(the navigation's count, the library's progress) works from the start. The table is a
`QAbstractTableModel` over plain job records (no widget per row: download_jobs.py); the
progress column is painted by a delegate with the style's own progress bar
(download_widgets.py). The storage table says which form of each video is on this computer.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSplitter, QVBoxLayout, QWidget

from desktop.views.download_jobs import ACTIVE, RESTARTABLE, UNFINISHED, DownloadsModel, JobRow, summary_text
from desktop.views.download_queue import DownloadQueue
from desktop.views.download_widgets import JobsTable, StorageTable, bandwidth_text
from desktop.views.events import AppEvents
from desktop.views.text import human_bytes
from desktop.views.widgets import plain_label, popup_menu, push_button

__all__ = ["DownloadsModel", "DownloadsPage", "JobRow"]  # the model lives in download_jobs.py


class DownloadsPage(QWidget):
    """Jobs table, per-job and global controls, storage and disk space: the `queue` shown.

    Without a `queue` the page makes its own (a page on its own, as the tests build it).
    """

    open_activity = Signal(str)

    def __init__(self, services, parent=None, *, events: AppEvents | None = None,
                 queue: DownloadQueue | None = None):
        super().__init__(parent)
        self.queue = queue if queue is not None else DownloadQueue(services, self, events=events)
        self.events = self.queue.events
        self.setAccessibleName("Downloads")
        self._selected_before_reload: set[int] = set()

        self.model = self.queue.model
        self.table = JobsTable(self.model, self)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(self._open_index)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.model.modelReset.connect(self._update_buttons)
        self.model.dataChanged.connect(lambda *_: self._update_buttons())
        self.model.dataChanged.connect(lambda *_: self._update_summary())  # a running job's progress

        def button(text: str, name: str, tip: str, slot) -> QPushButton:
            return push_button(self, text, tip, slot, name=name)

        queue_ = self.queue
        self.pause_button = button("Pause", "Pause selected downloads",
                                   "Pause the selected downloads; what arrived is kept", self.pause_selected)
        self.resume_button = button("Resume", "Resume selected downloads",
                                    "Resume the selected paused, failed or cancelled downloads", self.resume_selected)
        self.cancel_button = button("Cancel", "Cancel selected downloads",
                                    "Cancel the selected downloads and delete their partial files",
                                    self.cancel_selected)
        self.pause_all_button = button("Pause all", "Pause all downloads", "Pause every download", queue_.pause_all)
        self.resume_all_button = button("Resume all", "Resume all downloads",
                                        "Resume every paused or failed download", queue_.resume_all)
        self.download_all_button = button("⬇ Download all", "Download all activities",
                                          "Queue every file of every activity in the library", queue_.download_all)
        self.remove_video_button = button("Remove downloaded video", "Remove downloaded video",
                                          "Delete the video file of the selected activity to free space; "
                                          "transcript, summaries and progress stay", self.remove_selected_videos)

        self.summary_label = plain_label("", self, name="Download summary", selectable=False)
        self.bandwidth_label = plain_label("", self, name="Bandwidth cap",
                                           tip="The download speed limit; change it in Settings", selectable=False)
        self.disk_label = plain_label("", self, name="Free disk space",
                                      tip="Free space on the disk that holds the app's data", selectable=False)
        self.storage_label = plain_label("", self, name="Storage used",
                                         tip="Space the downloaded files take, partial downloads included",
                                         selectable=False)
        self.message_label = plain_label("", self, name="Downloads message")
        self._show_note(queue_.note)

        self.storage_table = StorageTable(self)
        self.storage_model = self.storage_table.model()

        top = QHBoxLayout()
        top.addWidget(plain_label("Downloads", self, name="Downloads", heading=True, selectable=False))
        top.addStretch(1)
        top.addWidget(self.download_all_button)
        controls = QHBoxLayout()
        for b in (self.pause_button, self.resume_button, self.cancel_button):
            controls.addWidget(b)
        controls.addSpacing(16)
        controls.addWidget(self.pause_all_button)
        controls.addWidget(self.resume_all_button)
        controls.addStretch(1)
        controls.addWidget(self.remove_video_button)
        facts = QHBoxLayout()  # the summary has a line of its own: at 1024 px or 2× scaling one row does not fit
        for lab in (self.bandwidth_label, self.disk_label, self.storage_label):
            lab.setWordWrap(False)
            facts.addWidget(lab)
            facts.addSpacing(12)
        facts.addStretch(1)

        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.table)
        split.addWidget(self.storage_table)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)

        v = QVBoxLayout(self)
        v.addLayout(top)
        v.addLayout(controls)
        v.addWidget(self.message_label)
        v.addWidget(split, 1)
        v.addWidget(self.summary_label)
        v.addLayout(facts)
        queue_.about_to_reload.connect(self._keep_selection)
        queue_.reloaded.connect(self._show_queue)
        queue_.noted.connect(self._show_note)
        self._show_queue()
        self._update_buttons()

    @property
    def services(self):
        return self.queue.services

    # -------------------------------------------------------------- data

    def set_services(self, services) -> None:
        self.queue.set_services(services)

    def refresh(self) -> None:
        """Reload the jobs, storage and disk figures (quick local reads), and announce it."""
        self.queue.refresh()

    def _keep_selection(self) -> None:
        self._selected_before_reload = set(self.selected_job_ids())

    def _show_queue(self) -> None:
        """What the queue read last: the selection kept, storage, the bandwidth and disk facts."""
        self._reselect(self._selected_before_reload)
        self._selected_before_reload = set()
        q, s = self.queue, self.queue.services
        if q.storage is not None:
            self.storage_table.show_use(q.storage.by_activity, q.titles, q.qualities)
            self.storage_label.setText(f"Storage used: {human_bytes(q.storage.total_bytes)}")
        text = bandwidth_text(s.settings.bandwidth_cap_kbps)
        hours = getattr(s.settings, "download_hours", None)
        if hours:
            text += f" · downloads run {hours}"
        locked = s.locked_settings() if hasattr(s, "locked_settings") else {}
        reason = locked.get("bandwidth_cap_kbps") or locked.get("download_hours")
        self.bandwidth_label.setText(text + (" (set by your organisation)" if reason else ""))
        self.bandwidth_label.setToolTip(reason or "The download speed limit; change it in Settings")
        self.disk_label.setText(self._free_space_text())
        self._update_summary()

    def active_count(self) -> int:
        return self.queue.active_count()

    def progress_by_activity(self) -> dict[str, tuple[int, int]]:
        return self.queue.progress_by_activity()

    def _free_space_text(self) -> str:
        free = self.services.free_disk_space()
        return "Free disk space: unknown" if free is None else f"Free disk space: {human_bytes(free)}"

    def _update_summary(self) -> None:
        self.summary_label.setText(summary_text(self.model.rows()))

    # -------------------------------------------------------------- selection

    def selected_rows(self) -> list[JobRow]:
        sel = self.table.selectionModel()
        return [self.model.row_at(i.row()) for i in sel.selectedRows()] if sel is not None else []

    def selected_job_ids(self) -> list[int]:
        return [r.id for r in self.selected_rows()]

    def select_jobs(self, job_ids) -> None:
        self.table.clearSelection()
        self._reselect(set(job_ids))

    def _reselect(self, job_ids: set[int]) -> None:
        selection = QItemSelection()
        for jid in job_ids:
            row = self.model.row_of(jid)
            if row is not None:
                selection.select(self.model.index(row, 0), self.model.index(row, self.model.columnCount() - 1))
        if not selection.isEmpty():
            self.table.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _update_buttons(self) -> None:
        sel = self.selected_rows()
        rows = self.model.rows()
        self.pause_button.setEnabled(any(r.state in ACTIVE for r in sel))
        self.resume_button.setEnabled(any(r.state in RESTARTABLE for r in sel))
        self.cancel_button.setEnabled(any(r.state in UNFINISHED for r in sel))
        self.remove_video_button.setEnabled(bool(sel))
        self.pause_all_button.setEnabled(any(r.state in ACTIVE for r in rows))
        self.resume_all_button.setEnabled(any(r.state in ("paused", "failed") for r in rows))

    # -------------------------------------------------------------- actions (the queue makes each change)

    def pause_selected(self) -> None:
        self.queue.pause([r.id for r in self.selected_rows() if r.state in ACTIVE])

    def resume_selected(self) -> None:
        self.queue.resume([r.id for r in self.selected_rows() if r.state in RESTARTABLE])

    def cancel_selected(self) -> None:
        self.queue.cancel([r.id for r in self.selected_rows() if r.state in UNFINISHED])

    def download_activities(self, activity_ids: list[str], quality=None) -> None:
        self.queue.download_activities(activity_ids, quality)

    def switch_quality(self, activity_id: str, quality) -> None:
        self.queue.switch_quality(activity_id, quality)

    def remove_selected_videos(self) -> None:
        self.queue.remove_videos(list(dict.fromkeys(r.activity_id for r in self.selected_rows())))

    def _show_note(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    def _open_index(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_activity.emit(self.model.row_at(index.row()).activity_id)

    def _context_menu(self, pos) -> None:
        if self.selected_rows():
            popup_menu(self, self.table.viewport().mapToGlobal(pos), (
                ("Pause", self.pause_button), ("Resume", self.resume_button), ("Cancel", self.cancel_button),
                ("Remove downloaded video", self.remove_video_button)))
