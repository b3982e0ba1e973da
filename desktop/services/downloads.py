"""Downloads: the persisted queue (enqueue, pause, resume, cancel), running it, removing a
downloaded video, the storage used; which form of each video (services/video_plan.py);
and what happens when a file arrives.

Each verified file that arrives (a download, a shared-folder copy, a content pack) is
announced to `on_asset_complete` hooks. The first hook makes transcripts and summaries
searchable (and re-times the index when a video brings a length); a hook that raises is
logged and changes nothing. A download announces it on its run's finishing thread, before
the job is recorded as done and while the workers go on with the next files
(sync/downloads_run.py); a shared-folder copy or a pack, on the thread that stored it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from cmecore.renditions import Quality
from desktop import disk
from cmecore.rules.availability import corrected_now
from desktop.cache.blobstore import BlobStore
from desktop.cache.closed_activities import all_activity_ids, closed_activities
from desktop.cache.db import Database
from desktop.cache.library import library_rows
from desktop.cache.progress_store import activities_using, activity_assets, assets_of_blob
from desktop.cache.video_forms import VideoForm  # noqa: F401 (re-exported: services.downloads.VideoForm)
from desktop.cache.search import index_summaries
from desktop.cache.server_state import clock_offset_ms
from desktop.errors import RuleError, VideoNotRemoved
from desktop.services.config import ConfigService
from desktop.services.connection import Connection
from desktop.services.video_plan import VideoPlan
from desktop.services.transcripts import index_activity_transcript, refresh_transcript_index
from desktop.sync.downloads import DownloadPolicy, DownloadQueue, DownloadSummary, JobInfo
from desktop.sync.downloads_ratelimit import kbps_to_bytes_per_s
from desktop.sync.downloads_transfer import ServerSource
from desktop.sync.sources import BlobFetcher, SharedFolderSource

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompletedAsset:
    """An asset whose file just arrived, verified, in the blob store (for `on_asset_complete`)."""

    activity_id: str
    kind: str  # video | transcript | summary
    media_type: str
    language: str
    timed: bool
    sha256: str
    path: Path


@dataclass(frozen=True)
class StorageUse:
    total_bytes: int  # everything in the blob store, partial downloads included
    by_activity: dict[str, int] = field(default_factory=dict)  # complete files each activity uses


class DownloadsService:
    def __init__(self, db: Database, blobs: BlobStore, connection: Connection, config: ConfigService):
        self.db = db
        self.blobs = blobs
        self.connection = connection
        self.config = config  # the download settings (bandwidth, hours, parallel) and the shared folder
        self.queue = DownloadQueue(db, blobs)
        self.video_plan = VideoPlan(db, blobs, config)
        self.on_asset_complete: list[Callable[[CompletedAsset], None]] = [self.index_for_search]
        self._files_lock = threading.Lock()
        self._files_changed: set[str] | None = set()  # since `take_files_changed`; None: any activity's

    # ------------------------------------------------------------ the queue

    def enqueue(self, activity_ids: list[str] | None = None, quality: Quality | None = None) -> list[JobInfo]:
        """Queue the missing assets of these activities (None: every activity).

        The video comes in the form `quality` asks for (None: the form already chosen for the
        activity here, else the settings' quality, `ConfigService.download_quality`), as
        cmecore.renditions.choose picks it within the policy's maximum. With `quality` None a
        form already here (a pack, an earlier download) is kept and nothing more is fetched,
        and a form in IT's shared content folder is copied rather than another downloaded.
        An activity asked for by id whose forms the policy all forbids is refused
        (QualityNotAllowed, naming the maximum and the forms there are); with None it gets
        no video.

        Media no one here can ever open (the activity is over — rule 3 — and no learner here
        started it) is not fetched; asked for by id alone, that is refused (RuleError
        "availability", with the reason).
        """
        now = corrected_now(clock_offset_ms(self.db, self.connection.server_url))
        closed = closed_activities(self.db, now, activity_ids)
        if not closed:
            wanted = activity_ids
        elif activity_ids is None:
            wanted = [a for a in all_activity_ids(self.db) if a not in closed]
        else:
            wanted = [a for a in activity_ids if a not in closed]
            if not wanted:
                raise RuleError(next(iter(closed.values())), "availability")
        try:
            return self.queue.enqueue(wanted, videos=self.video_plan.fetch_plan(wanted, quality,
                                                                               named=activity_ids is not None))
        finally:
            self._note_files_changed(wanted)  # the form wanted is recorded (even if queueing then failed)

    def video_forms(self, activity_id: str) -> list[VideoForm]:
        """The forms of this activity's video the policy allows, largest first, with which is
        here and which is wanted here (empty: no video)."""
        return self.video_plan.forms(activity_id)

    def hidden_video_forms(self, activity_id: str) -> list[Quality]:
        """The forms of this activity's video the policy's maximum hides, largest first."""
        return self.video_plan.hidden_forms(activity_id)

    def video_forms_by_activity(self, activity_ids: list[str]) -> dict[str, list[VideoForm]]:
        """`video_forms` of several activities at once (an activity without a video is left out)."""
        return self.video_plan.forms_by_activity(activity_ids)

    def switch_quality(self, activity_id: str, quality: Quality) -> list[JobInfo]:
        """Fetch another form of this activity's video; the form here now is removed only once
        the new one is verified (unless another activity uses that file), so an interrupted
        switch leaves the old form playable. Returns the jobs now waiting (none when the new
        form is here already). QualityNotAllowed when the policy allows no form."""
        switch = self.video_plan.start_switch(activity_id, quality)
        self._note_files_changed([activity_id])  # the switch is recorded: whatever follows, this one changed
        if switch.abandoned is not None:
            self.queue.forget(switch.abandoned)  # an earlier switch's form, not here yet: no longer wanted
        if switch.fetch is None:
            return []
        jobs = self.queue.enqueue([activity_id], videos={activity_id: self.video_plan.switch_videos(activity_id,
                                                                                              switch.fetch)})
        if self.blobs.path_for(switch.fetch.sha256).is_file():
            self._finish_switches(switch.fetch.sha256)  # here already (a pack): done now
        return jobs

    def pause(self, job_id: int | None = None) -> int:
        """Pause one job (None: all); what was received is kept. Returns how many changed."""
        return self.queue.pause(job_id)

    def resume(self, job_id: int | None = None) -> int:
        """Queue a paused, failed or cancelled job again (None: all); `run` fetches it."""
        return self.queue.resume(job_id)

    def cancel(self, job_id: int | None = None) -> int:
        """Cancel one job (None: all unfinished) and delete its partial file."""
        return self.queue.cancel(job_id)

    def jobs(self) -> list[JobInfo]:
        """Every download job, most urgent first."""
        return self.queue.jobs()

    def run(self, listener=None, stop_event: threading.Event | None = None, *,
            policy: DownloadPolicy | None = None) -> DownloadSummary:
        """Fetch every queued job; blocks until the queue is empty or `stop_event` is set.

        `listener(DownloadEvent)` is called from worker threads. Raises SignInRequired or
        NotSignedIn if the server wants a sign-in (jobs stay queued), NoServerConfigured now
        rather than in a worker.
        """
        policy = policy or DownloadPolicy.from_settings(self.config.settings)
        self._finish_switches()  # a new form a pack brought, or an old one left open
        connection = self.connection
        server = connection.require_server()
        connection.account()
        client = connection.new_client(httpx.Timeout(policy.connect_timeout_s, read=policy.read_timeout_s))

        def make_fetcher(limiter):
            shared = self.config.shared_content_dir()
            server_source = ServerSource(
                # Looked up on each use: changing settings mid-run rebuilds the account.
                client, server_url=server,
                authorized=lambda call, learner_id=None: connection.account().authorized(call, learner_id),
                limiter=limiter, chunk_size=policy.chunk_size,
            )
            sources = [SharedFolderSource(shared)] if shared else []
            return BlobFetcher(self.blobs, [*sources, server_source], disk_margin_bytes=policy.disk_margin_bytes)

        try:
            summary = self.queue.run(make_fetcher, policy=policy, listener=listener, stop_event=stop_event,
                                     on_complete=lambda job: self.asset_arrived(job.sha256))
        finally:
            client.close()
        return summary

    def settings_changed(self, changed: set[str]) -> None:
        """A new bandwidth cap applies to a running download at once."""
        if "bandwidth_cap_kbps" in changed:
            self.queue.set_bandwidth(kbps_to_bytes_per_s(self.config.settings.bandwidth_cap_kbps))

    # ------------------------------------------------------------ what is stored

    def remove_downloaded_video(self, activity_id: str) -> int:
        """Delete this activity's video file (every form of it here) unless another activity
        uses the same file. Transcript, summaries and the learner's progress stay. Returns the
        bytes freed. A file that cannot be removed raises VideoNotRemoved: the ones before it
        stay removed, and the activity is noted as changed all the same (`take_files_changed`)."""
        freed = 0
        try:
            for sha in sorted(self.video_plan.files_only_in(activity_id)):
                self.queue.forget(sha)
                freed += self.blobs.remove(sha)
        except OSError as exc:
            log.warning("removing the video of %s stopped part way: %s", activity_id, exc)
            raise VideoNotRemoved() from exc
        finally:
            self._note_files_changed([activity_id])
        return freed

    def activities_using(self, sha256s: set[str]) -> set[str]:
        """The activities these files serve: a file two activities share has one job, under one of them."""
        return activities_using(self.db, sha256s)

    def free_disk_space(self) -> int | None:
        """Free bytes on the disk that holds the blob store (None when the system cannot say)."""
        return disk.free_bytes(self.blobs.root if self.blobs.root.exists() else self.blobs.root.parent)

    def storage_used(self) -> StorageUse:
        """Bytes in the blob store in total, and the complete files each activity uses."""
        return StorageUse(
            total_bytes=self.blobs.bytes_used(),
            by_activity={row.id: row.media_bytes for row in library_rows(self.db, self.blobs)},
        )

    # ------------------------------------------------------------ a file arrived

    def asset_arrived(self, sha256: str) -> None:
        """A switch waiting for this verified file removes the old form; then tell
        `on_asset_complete` about every asset this newly stored blob serves."""
        self._finish_switches(sha256)
        assets = assets_of_blob(self.db, sha256)
        self._note_files_changed({asset.activity_id for asset in assets})
        for asset in assets:
            done = CompletedAsset(asset.activity_id, asset.kind, asset.media_type, asset.language, asset.timed,
                                  asset.sha256, self.blobs.path_for(asset.sha256))
            for hook in list(self.on_asset_complete):
                try:
                    hook(done)
                except Exception:
                    log.exception("on_asset_complete hook failed for %s", asset.activity_id)

    def _finish_switches(self, sha256: str | None = None) -> None:
        """`VideoPlan.finish_switches` for this verified file (None: any here): the old forms it
        removed are no longer wanted, and the activities switched have changed."""
        finished = self.video_plan.finish_switches(sha256)
        for sha in finished.removed:
            self.queue.forget(sha)
        self._note_files_changed(finished.activities)

    def take_files_changed(self) -> set[str] | None:
        """The activities whose files here, or the form of video wanted, changed since the last
        call (a file arrived, a form was chosen, switched or removed, or a remove failed part
        way; None: any may have). The one place that says so: the download queue
        (views/download_queue.py) takes them at each reload and announces them."""
        with self._files_lock:
            changed, self._files_changed = self._files_changed, set()
        return changed

    def _note_files_changed(self, activity_ids) -> None:
        with self._files_lock:
            if activity_ids is None:
                self._files_changed = None
            elif self._files_changed is not None:
                self._files_changed.update(activity_ids)

    def index_for_search(self, done: CompletedAsset) -> None:
        """A transcript or summary that just arrived becomes searchable (the first hook); a
        video may bring a better length for an untimed transcript (re-timed once)."""
        if done.kind == "transcript":
            index_activity_transcript(self.db, self.blobs, done.activity_id)  # as the panel reads it
        elif done.kind == "video":
            refresh_transcript_index(self.db, self.blobs, done.activity_id)
        elif done.kind == "summary":
            # memory: markdown-it and nh3 load when a summary arrives or is shown, not for playing
            from desktop.media.summary import render_summary, split_title

            # Every summary of the activity present so far, in catalog order, a row each,
            # labelled as the Summaries tab titles it (its own heading, else the catalog's).
            # The text keeps the heading, so its words are found; search shows it once.
            summaries = []
            for asset in activity_assets(self.db, done.activity_id, "summary"):
                if (path := self.blobs.path_for(asset.sha256)).is_file():
                    fragment = render_summary(path.read_bytes(), asset.media_type)
                    summaries.append((split_title(fragment)[0] or asset.title, fragment))
            index_summaries(self.db, done.activity_id, summaries)
