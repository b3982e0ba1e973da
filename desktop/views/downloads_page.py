"""The Downloads page: one table row per download job, with progress, and the controls.

A `QAbstractTableModel` over plain job records (no widget per row: download_jobs.py); the
progress column is painted by a delegate with the style's own progress bar
(download_widgets.py). Progress events arrive from `DownloadRunner.event` (already on the
GUI thread, throttled) and update rows in place; changes of state reload the jobs from the
queue. The storage table says which form of each video is on this computer. Every change goes through Services on
the app's writer, never on the GUI thread's time.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSplitter, QVBoxLayout, QWidget

from desktop.errors import CmeError, SignInRequired
from desktop.views.download_jobs import (
    ACTIVE, RESTARTABLE, UNFINISHED, DownloadsModel, JobChanges, JobRow, summary_text,
)
from desktop.views.download_widgets import JobsTable, StorageTable, bandwidth_text
from desktop.views.events import AppEvents
from desktop.views.quality_choice import switching_text
from desktop.views.tasks import run_write
from desktop.views.text import error_text, human_bytes
from desktop.views.widgets import plain_label, popup_menu, push_button

log = logging.getLogger(__name__)

__all__ = ["DownloadsModel", "DownloadsPage", "JobRow"]  # the model lives in download_jobs.py

class DownloadsPage(QWidget):
    """Jobs table, per-job and global controls, storage and disk space.

    Announces `downloads_changed` on the app's events when a reload of the job list finds a
    change, naming the activities changed (JobChanges), and `catalog_changed` when it removed
    files (the library's media column and an open activity's Files list are stale).
    """

    start_requested = Signal()  # something was queued: the runner should run
    open_activity = Signal(str)
    activity_downloaded = Signal(str)  # the title of an activity whose last job just finished
    sign_in_needed = Signal(str)  # the downloads stopped for a sign-in: why

    def __init__(self, services, parent=None, *, events: AppEvents | None = None):
        super().__init__(parent)
        self.services = services
        self.events = events if events is not None else AppEvents(self)
        self.setAccessibleName("Downloads")
        self._busy = 0
        self._titles: dict[str, str] = {}
        self._changes = JobChanges()  # which activities a reload finds changed

        self.model = DownloadsModel(self)
        self.table = JobsTable(self.model, self)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(self._open_index)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.model.modelReset.connect(self._update_buttons)
        self.model.dataChanged.connect(lambda *_: self._update_buttons())

        def button(text: str, name: str, tip: str, slot) -> QPushButton:
            return push_button(self, text, tip, slot, name=name)

        self.pause_button = button("Pause", "Pause selected downloads",
                                   "Pause the selected downloads; what arrived is kept", self.pause_selected)
        self.resume_button = button("Resume", "Resume selected downloads",
                                    "Resume the selected paused, failed or cancelled downloads", self.resume_selected)
        self.cancel_button = button("Cancel", "Cancel selected downloads",
                                    "Cancel the selected downloads and delete their partial files",
                                    self.cancel_selected)
        self.pause_all_button = button("Pause all", "Pause all downloads", "Pause every download", self.pause_all)
        self.resume_all_button = button("Resume all", "Resume all downloads",
                                        "Resume every paused or failed download", self.resume_all)
        self.download_all_button = button("⬇ Download all", "Download all activities",
                                          "Queue every file of every activity in the library", self.download_all)
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
        self.message_label.setVisible(False)

        self.storage_table = StorageTable(self)
        self.storage_model = self.storage_table.model()

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(150)
        self._refresh_timer.timeout.connect(self.refresh)

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
        self._reload()

    # -------------------------------------------------------------- data

    def set_services(self, services) -> None:
        self.services = services
        self._changes.forget()  # everything may differ
        self.refresh()

    def refresh(self) -> None:
        """Reload the jobs, storage and disk figures (quick local reads); announce what changed."""
        if (changed := self._reload()) is None or changed:
            self.events.downloads_changed.emit(self, changed)

    def _reload(self) -> frozenset[str] | None:
        """Read and show; the activities changed since (None: any may; empty: none, or the read failed)."""
        self._refresh_timer.stop()
        s = self.services
        try:
            rows = s.library_rows()
            jobs = s.download_jobs()
            storage = s.storage_used()
        except Exception:  # a closed or broken cache must not take the window down
            log.exception("reading the download queue failed")
            return frozenset()
        changed = self._changes.since_last_read(jobs, s.downloads.activities_using, s.downloads.take_files_changed())
        self._titles = {r.id: r.title for r in rows}
        selected = set(self.selected_job_ids())
        self.model.set_jobs(jobs, self._titles)
        self._reselect(selected)

        self.storage_table.show_use(storage.by_activity, self._titles, {r.id: r.video_quality for r in rows})
        self.storage_label.setText(f"Storage used: {human_bytes(storage.total_bytes)}")
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
        return changed

    def schedule_refresh(self) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def apply_event(self, event) -> None:
        """A DownloadEvent from the runner: update the row; a change of state reloads."""
        known = self.model.apply_event(event)
        if not known or event.state != "running":
            self.schedule_refresh()
        self._update_summary()
        if event.state == "done" and self.model.unfinished_for(event.activity_id) == 0:
            self.activity_downloaded.emit(self._titles.get(event.activity_id) or event.activity_id)

    def run_finished(self, outcome) -> None:
        """The runner stopped: a DownloadSummary, or the exception that stopped it."""
        if isinstance(outcome, BaseException):
            text = str(outcome) if isinstance(outcome, CmeError) else error_text(outcome)
            self._note(f"Downloads stopped: {text}")
            if isinstance(outcome, SignInRequired):
                self.sign_in_needed.emit(str(outcome))
        self.schedule_refresh()

    def active_count(self) -> int:
        return self.model.active_count()

    def progress_by_activity(self) -> dict[str, tuple[int, int]]:
        return self.model.progress_by_activity()

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

    # -------------------------------------------------------------- actions

    def pause_selected(self) -> None:
        ids = [r.id for r in self.selected_rows() if r.state in ACTIVE]
        self._change(lambda: sum(self.services.pause_download(i) for i in ids))

    def resume_selected(self) -> None:
        ids = [r.id for r in self.selected_rows() if r.state in RESTARTABLE]
        self._change(lambda: sum(self.services.resume_download(i) for i in ids), start=True)

    def cancel_selected(self) -> None:
        ids = [r.id for r in self.selected_rows() if r.state in UNFINISHED]
        self._change(lambda: sum(self.services.cancel_download(i) for i in ids))

    def pause_all(self) -> None:
        self._change(lambda: self.services.pause_download(None))

    def resume_all(self) -> None:
        self._change(lambda: self.services.resume_download(None), start=True)

    def download_all(self) -> None:
        self._change(lambda: self.services.enqueue_downloads(None), start=True)

    def download_activities(self, activity_ids: list[str], quality=None) -> None:
        """Queue these activities' files; the video in `quality` (None: the preferred one)."""
        if activity_ids:
            downloads = self.services.downloads
            self._change(lambda: downloads.enqueue(list(activity_ids), quality), start=True, activities=activity_ids)

    def switch_quality(self, activity_id: str, quality) -> None:
        """Fetch another form of this activity's video; the service removes the old file only
        once the new one has arrived and been checked."""
        downloads = self.services.downloads
        self._change(lambda: downloads.switch_quality(activity_id, quality), start=True,
                     done_text=lambda _jobs: switching_text(quality), activities=[activity_id])

    def remove_selected_videos(self) -> None:
        self.remove_videos(list(dict.fromkeys(r.activity_id for r in self.selected_rows())))

    def remove_videos(self, activity_ids: list[str]) -> None:
        if activity_ids:
            services = self.services

            def remove():
                return sum(services.remove_downloaded_video(a) for a in activity_ids)

            self._change(remove, media=True, done_text=lambda freed: f"Removed the video; {human_bytes(freed)} freed.",
                         activities=activity_ids)

    def _change(self, fn, *, start: bool = False, media: bool = False, done_text=None, activities=()) -> None:
        """Run `fn` on the writer, then reload; `activities`: those it may change with no job to show it."""
        self._busy += 1
        self.message_label.setVisible(False)

        def done(result) -> None:
            self._busy -= 1
            self._changes.touch(activities)
            if done_text is not None:
                self._note(done_text(result))
            self.refresh()
            if media:
                self.events.catalog_changed.emit(self)
            if start:
                self.start_requested.emit()

        def failed(exc: BaseException) -> None:
            self._busy -= 1
            self._changes.touch(activities)  # part of it may have been done
            self._note(error_text(exc))
            self.refresh()

        run_write(self, fn, done, failed)

    def _note(self, text: str) -> None:
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
