"""The download queue as the window follows it, with or without the Downloads page.

The window needs the queue from the start — the Downloads count in the navigation, the
library's progress column, the status line, the runner's events, the Download buttons of
the library and the activity page — but the learner may never open the Downloads page.
So the jobs, their model and every change to them live here, in a QObject built with the
services; the page (downloads_page.py) is built the first time the learner goes to it
and only shows this queue and forwards what they select.

Announces `downloads_changed` on the app's events when a reload of the job list finds a
change, naming the activities changed (JobChanges: those whose jobs moved, and those whose
files the services say changed, `DownloadsService.take_files_changed`, even when an action
failed part way), and `catalog_changed` after a remove, done or failed (the library's media
column and an open activity's Files list are stale). Every change goes through Services on
the app's writer, never on the GUI thread's time.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.errors import CmeError, SignInRequired
from desktop.views.download_jobs import DownloadsModel, JobChanges
from desktop.views.events import AppEvents
from desktop.views.quality_choice import switching_text
from desktop.views.tasks import run_write
from desktop.views.text import error_text, human_bytes

log = logging.getLogger(__name__)

REFRESH_DELAY_MS = 150  # changes of state arriving together reload the queue once
NOTHING_TO_DOWNLOAD = "Nothing to download: every file of every activity is already here or in the list."


class DownloadQueue(QObject):
    """The jobs (`model`), the titles they belong to, what the store holds, and the changes."""

    start_requested = Signal()  # something was queued: the runner should run
    activity_downloaded = Signal(str)  # the title of an activity whose last job just finished
    sign_in_needed = Signal(str)  # the downloads stopped for a sign-in: why
    noted = Signal(str)  # what the last change came to ("" once another starts): the page shows it
    reloaded = Signal()  # jobs, titles and storage read again
    about_to_reload = Signal()  # the model is about to be reset (the page keeps its selection)

    def __init__(self, services, parent=None, *, events: AppEvents | None = None):
        super().__init__(parent)
        self.services = services
        self.events = events if events is not None else AppEvents(self)
        self.model = DownloadsModel(self)
        self.titles: dict[str, str] = {}
        self.qualities: dict[str, object] = {}  # each activity's video quality here
        self.storage = None  # the last StorageUse read
        self.note = ""
        self._changes = JobChanges()  # which activities a reload finds changed
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self.reload()

    def set_services(self, services) -> None:
        self.services = services
        self._changes.forget()  # everything may differ
        self.refresh()

    def refresh(self) -> None:
        """Reload the jobs and storage (quick local reads); announce what changed."""
        if (changed := self.reload()) is None or changed:
            self.events.downloads_changed.emit(self, changed)

    def reload(self) -> frozenset[str] | None:
        """Read the jobs, titles and storage again, without announcing it; the activities
        changed since the last read (None: any may have; empty: none, or the cache failed)."""
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
        self.titles = {r.id: r.title for r in rows}
        self.qualities = {r.id: r.video_quality for r in rows}
        self.storage = storage
        self.about_to_reload.emit()
        self.model.set_jobs(jobs, self.titles)
        self.reloaded.emit()
        return changed

    def schedule_refresh(self) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def apply_event(self, event) -> None:
        """A DownloadEvent from the runner: update the row; a change of state reloads."""
        known = self.model.apply_event(event)
        if not known or event.state != "running":
            self.schedule_refresh()
        if event.state == "done" and self.model.unfinished_for(event.activity_id) == 0:
            self.activity_downloaded.emit(self.titles.get(event.activity_id) or event.activity_id)

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

    # -------------------------------------------------------------- changes

    def pause(self, job_ids: list[int]) -> None:
        self._change(lambda: sum(self.services.pause_download(i) for i in job_ids))

    def resume(self, job_ids: list[int]) -> None:
        self._change(lambda: sum(self.services.resume_download(i) for i in job_ids), start=True)

    def cancel(self, job_ids: list[int]) -> None:
        self._change(lambda: sum(self.services.cancel_download(i) for i in job_ids))

    def pause_all(self) -> None:
        self._change(lambda: self.services.pause_download(None))

    def resume_all(self) -> None:
        self._change(lambda: self.services.resume_download(None), start=True)

    def download_all(self) -> None:
        """Queue every missing file; when nothing is missing, say so (a click is never met with silence)."""
        self._change(lambda: self.services.enqueue_downloads(None), start=True,
                     done_text=lambda jobs: "" if jobs else NOTHING_TO_DOWNLOAD)

    def download_activities(self, activity_ids: list[str], quality=None) -> None:
        """Queue these activities' files; the video in `quality` (None: the preferred one)."""
        if activity_ids:
            downloads = self.services.downloads
            self._change(lambda: downloads.enqueue(list(activity_ids), quality), start=True)

    def switch_quality(self, activity_id: str, quality) -> None:
        """Fetch another form of this activity's video; the service removes the old file only
        once the new one has arrived and been checked."""
        downloads = self.services.downloads
        self._change(lambda: downloads.switch_quality(activity_id, quality), start=True,
                     done_text=lambda _jobs: switching_text(quality))

    def remove_videos(self, activity_ids: list[str]) -> None:
        if activity_ids:
            services = self.services

            def remove():
                return sum(services.remove_downloaded_video(a) for a in activity_ids)

            self._change(remove, media=True, done_text=lambda freed: f"Removed the video; {human_bytes(freed)} freed.")

    def _change(self, fn, *, start: bool = False, media: bool = False, done_text=None) -> None:
        """Run `fn` on the writer, then reload (the services say which activities it changed);
        `media`: it removes files, even when it fails part way."""
        self._note("")

        def done(result) -> None:
            if done_text is not None:
                self._note(done_text(result))
            self.refresh()
            if media:
                self.events.catalog_changed.emit(self)
            if start:
                self.start_requested.emit()

        def failed(exc: BaseException) -> None:
            self._note(error_text(exc))
            self.refresh()
            if media:  # part of it may have been done
                self.events.catalog_changed.emit(self)

        run_write(self, fn, done, failed)

    def _note(self, text: str) -> None:
        self.note = text
        self.noted.emit(text)
