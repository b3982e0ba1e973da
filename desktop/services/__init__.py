"""The services the GUI and the CLI share: one `Services` per data dir and server, composed
of one service per capability.

    services.library      the library list, an activity's details, search (offline)
    services.content      an activity's video, transcript, summaries; watch progress
    services.account      sign in/out, the learners on this computer, switching learner
    services.syncing      sync with the server (catalog, then completions), the status line
    services.downloads    the download queue, running it, storage used, indexing what arrives
    services.learning     disclosures, post-test, evaluation, the claim (rules 1-8)
    services.credits      my credits, certificates, exports, verifying a certificate
    services.deployment   for IT: prefetch, content packs, the shared content folder
    services.config       settings and machine policy, the server address

Each service gets its collaborators (database, blob store, the server connection, the
configuration, another service) when composed here, and nothing reaches into another's
private members. The methods on `Services` itself are one-line delegations kept while the
views move to `services.<capability>.<method>`; new code calls the capability directly.

Methods that touch the network may take seconds: the GUI runs them off its thread
(views/tasks.py). This package is imported after the first paint.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.cache.blobstore import BlobStore
from desktop.cache.db import Database, open_database
from desktop.config import Paths, Settings, load_settings
from desktop.policy import Policy, load_policy
from desktop.services.account import AccountService
from desktop.services.config import ConfigService
from desktop.services.connection import Connection
from desktop.services.content import ContentService
from desktop.services.credits import CreditsService
from desktop.services.downloads import CompletedAsset, DownloadsService, StorageUse, VideoForm
from desktop.services.learning import LearningService
from desktop.services.library import LibraryService
from desktop.services.syncing import Status, SyncReport, SyncService

if TYPE_CHECKING:
    from desktop.services.deployment import DeploymentService

__all__ = ["Services", "Status", "SyncReport", "CompletedAsset", "StorageUse", "VideoForm"]


class Services:
    def __init__(self, paths: Paths, *, server_url: str | None = None, settings: Settings | None = None,
                 policy: Policy | None = None):
        """Raises BadServerAddress for a `server_url` that is not http(s), SchemaTooNewError
        for a cache written by a newer app."""
        self.paths = paths
        paths.make_private()  # before the first file is written: learners' records live here
        # `config`, not `settings`: `services.settings` is the effective Settings values read
        # everywhere (`services.settings.extra_ca_bundle`); `services.config` changes them.
        self.config = ConfigService(paths, policy if policy is not None else load_policy(),
                                    settings or load_settings(paths.settings), server_url)
        self.db: Database = open_database(paths.database)
        self.blobs = BlobStore(paths.blobs)
        self.connection = Connection(self.db, self.config)
        self.account = AccountService(self.db, self.connection)
        self.content = ContentService(self.db, self.blobs, self.account)
        self.library = LibraryService(self.db, self.blobs, self.connection, self.content.is_open)
        # `syncing`, not `sync`: `services.sync()` is the verb the views and tests call today.
        self.syncing = SyncService(self.db, self.blobs, self.connection, self.account)
        self.downloads = DownloadsService(self.db, self.blobs, self.connection, self.config)
        self.learning = LearningService(self.db, self.connection, self.account)
        self.credits = CreditsService(self.db, self.connection, self.account)
        self.config.on_change += [self.connection.reset, self.downloads.settings_changed]

    @cached_property
    def deployment(self) -> DeploymentService:
        """IT's prefetch and content packs, built on first use: their modules (the pack format,
        Ed25519 checks with cryptography) are not needed to learn, ~7 MB the GUI process does
        not hold until someone exports, imports or prefetches."""
        from desktop.services.deployment import DeploymentService  # memory: see the docstring

        return DeploymentService(self.db, self.blobs, self.connection, self.config, self.syncing, self.downloads)

    def close(self) -> None:
        self.syncing.stop_courier()
        self.connection.close()
        self.db.close()

    # ------------------------------------------------------------ what applies now

    @property
    def settings(self) -> Settings:
        """The effective settings (the user's, with the machine policy laid over them)."""
        return self.config.settings

    @property
    def user_settings(self) -> Settings:
        return self.config.user_settings

    @property
    def policy(self) -> Policy:
        return self.config.policy

    @property
    def server_url(self) -> str | None:
        return self.config.server_url

    @property
    def online(self) -> bool | None:
        return self.connection.online

    def diagnostics(self) -> dict:
        """What the help desk needs (versions, paths, effective settings and their source, policy
        problems, sync state, storage, queue, the last log lines), never a token; it reads
        across every capability, so it is composed here."""
        from desktop.diagnostics import collect  # start-up: asked for from the Help menu or the CLI only

        return collect(self)

    # ------------------------------------------------------------ delegations the views call today

    def library_rows(self):
        return self.library.library_rows()

    def activity_detail(self, activity_id):
        return self.library.activity_detail(activity_id)

    def search(self, query, limit=50):
        return self.library.search(query, limit)

    def media_file(self, activity_id, kind="video"):
        return self.content.media_file(activity_id, kind)

    def video_form(self, activity_id):
        return self.content.video_form(activity_id)

    def transcript(self, activity_id):
        return self.content.transcript(activity_id)

    def summaries(self, activity_id):
        return self.content.summaries(activity_id)

    def watch_progress(self, activity_id):
        return self.content.watch_progress(activity_id)

    def save_watch_progress(self, activity_id, position_ms, duration_ms, watched_intervals):
        return self.content.save_watch_progress(activity_id, position_ms, duration_ms, watched_intervals)

    def current_learner(self):
        return self.account.current_learner()

    def sign_in(self, username, password):
        return self.account.sign_in(username, password)

    def sign_out(self):
        return self.account.sign_out()

    def learners(self):
        return self.account.learners()

    def switch_learner(self, learner_id, password):
        return self.account.switch_learner(learner_id, password)

    def lock(self):
        return self.account.lock()

    def locked(self):
        return self.account.locked()

    def sign_out_everyone(self):
        return self.account.sign_out_everyone()

    def sync(self, *, retry_now=True):
        return self.syncing.sync(retry_now=retry_now)

    def deliver_completions(self, retry_now=False):
        return self.syncing.deliver_completions(retry_now)

    def pending_completions_count(self, learner_only=False):
        return self.syncing.pending_completions_count(learner_only)

    def status(self):
        return self.syncing.status()

    def enqueue_downloads(self, activity_ids=None, quality=None):
        return self.downloads.enqueue(activity_ids, quality)

    def video_forms(self, activity_id):
        return self.downloads.video_forms(activity_id)

    def switch_quality(self, activity_id, quality):
        return self.downloads.switch_quality(activity_id, quality)

    def pause_download(self, job_id=None):
        return self.downloads.pause(job_id)

    def resume_download(self, job_id=None):
        return self.downloads.resume(job_id)

    def cancel_download(self, job_id=None):
        return self.downloads.cancel(job_id)

    def download_jobs(self):
        return self.downloads.jobs()

    def run_downloads(self, listener=None, stop_event=None, *, policy=None):
        return self.downloads.run(listener, stop_event, policy=policy)

    def remove_downloaded_video(self, activity_id):
        return self.downloads.remove_downloaded_video(activity_id)

    def free_disk_space(self):
        return self.downloads.free_disk_space()

    def storage_used(self):
        return self.downloads.storage_used()

    def learning_state(self, activity_id):
        return self.learning.learning_state(activity_id)

    def acknowledge_disclosures(self, activity_id):
        return self.learning.acknowledge_disclosures(activity_id)

    def start_attempt(self, activity_id):
        return self.learning.start_attempt(activity_id)

    def save_answer(self, attempt_id, question_id, option_ids, current_question=None):
        return self.learning.save_answer(attempt_id, question_id, option_ids, current_question)

    def submit_attempt(self, attempt_id):
        return self.learning.submit_attempt(attempt_id)

    def evaluation_questions(self, activity_id):
        return self.learning.evaluation_questions(activity_id)

    def evaluation(self, activity_id):
        return self.learning.evaluation(activity_id)

    def save_evaluation(self, activity_id, ratings, texts, commitments, reminder_weeks=None, submit=False):
        return self.learning.save_evaluation(activity_id, ratings, texts, commitments, reminder_weeks, submit)

    def commitment_reminder(self, activity_id):
        return self.learning.commitment_reminder(activity_id)

    def due_reminders(self, now=None):
        return self.learning.due_reminders(now)

    def reminders_announced(self, activity_ids, now=None):
        return self.learning.reminders_announced(activity_ids, now)

    def reminder_done(self, activity_id, now=None):
        return self.learning.reminder_done(activity_id, now)

    def add_time_spent(self, activity_id, ms, learner_id=None):
        return self.learning.add_time_spent(activity_id, ms, learner_id)

    def claim_credit(self, activity_id, credits, attested_minutes, reporting_consent):
        return self.learning.claim(activity_id, credits, attested_minutes, reporting_consent)

    def my_credits(self, year=None):
        return self.credits.my_credits(year)

    def certificate_pdf(self, certificate_id):
        return self.credits.certificate_pdf(certificate_id)

    def export_certificate(self, certificate_id, path):
        return self.credits.export_certificate(certificate_id, path)

    def export_credit_transcript(self, path, fmt="csv"):
        return self.credits.export_transcript(path, fmt)

    def verify_certificate_file(self, path):
        return self.credits.verify_certificate_file(path)

    def shared_content_dir(self) -> Path | None:
        return self.config.shared_content_dir()

    def prefetch(self, folder, activity_ids=None, *, qualities=(), sync_first=True):
        return self.deployment.prefetch(folder, activity_ids, qualities=qualities, sync_first=sync_first)

    def export_pack(self, activity_ids, out, *, qualities=()):
        return self.deployment.export_pack(activity_ids, out, qualities=qualities)

    def import_pack(self, path):
        return self.deployment.import_pack(path)

    def set_server_url(self, url):
        return self.config.set_server_url(url)

    def file_exists(self, path):
        return self.config.file_exists(path)

    def locked_settings(self):
        return self.config.locked_settings()

    def update_settings(self, **changes):
        return self.config.update_settings(**changes)
