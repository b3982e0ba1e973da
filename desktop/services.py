"""The services the GUI and the CLI share: one object per data dir and server.

Views and CLI commands call these methods and nothing below them. Methods that touch the
network may take seconds: the GUI runs them off its thread (views/tasks.py). httpx is
imported only when the network is first used, so start-up stays fast.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from desktop import disk
from desktop.cache.blobstore import BlobStore
from desktop.cache.db import Database, open_database
from desktop.cache.learners import LearnerInfo
from desktop.cache.library import ActivityDetail, LibraryRow, activity_detail, library_rows, sync_state
from desktop.cache.search import SearchHit
from desktop.cache.search import search as search_cache
from desktop.config import Paths, Settings, load_settings, normalise_server_url, save_settings
from desktop.learning.records import (  # noqa: F401 (re-exported for the GUI and CLI)
    AttemptResult,
    AttemptSummary,
    AttemptView,
    ClaimOptions,
    CompletionInfo,
    CreditRow,
    EvaluationDraft,
    LearningState,
    MyCredits,
    OutboxReport,
    QuestionResult,
    QuestionView,
    VerifyResult,
)
from desktop.errors import (  # noqa: F401 (ContentLocked, RuleError re-exported)
    ContentLocked,
    RuleError,
    InvalidResponse,
    NoServerConfigured,
    NotSignedIn,
    ServerFailed,
    ServerUnreachable,
    SignInRequired,
    CmeError,
    WrongCredentials,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Status:
    server_url: str | None
    online: bool | None  # None: not tried since start
    learner: LearnerInfo | None
    last_sync_at: datetime | None  # naive UTC
    last_error: str | None
    clock_offset_ms: int | None
    storage_bytes: int
    notice: str | None = None  # something the user should know once, e.g. a rebuilt cache
    pending_completions: int = 0  # claims on this computer waiting to be sent (every learner's)


@dataclass(frozen=True)
class SyncReport:
    not_modified: bool
    changed: int
    synced_at: datetime
    # Completions delivered after the catalog (None: not tried); a failure of one part does
    # not hide the other's outcome.
    completions: OutboxReport | None = None
    completions_error: str | None = None  # delivery could not run at all (e.g. no server key/learner)


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


class Services:
    def __init__(self, paths: Paths, *, server_url: str | None = None, settings: Settings | None = None,
                 policy=None):
        from desktop.policy import effective_settings, load_policy

        self.paths = paths
        # Machine policy (desktop/policy.py) wins over the user's settings.json; `settings`
        # holds the effective values, `user_settings` what the user chose.
        self.policy = policy if policy is not None else load_policy()
        self.user_settings = settings or load_settings(paths.settings)
        self.settings = effective_settings(self.user_settings, self.policy)
        if self.policy.is_set("server_url"):
            if server_url and normalise_server_url(server_url) != self.policy.get("server_url"):
                log.warning("server %s not used: the machine policy sets %s", server_url, self.policy.get("server_url"))
            server_url = self.policy.get("server_url")
        url = server_url or self.settings.server_url
        self.server_url = normalise_server_url(url) if url else None
        self.db: Database = open_database(paths.database)
        self.blobs = BlobStore(paths.blobs)
        self.online: bool | None = None
        self._net_lock = threading.Lock()
        self._http = None
        self._api = None
        self._account = None
        self._downloads = None
        # Called (on a download worker thread) for each asset whose file just arrived,
        # e.g. to index a transcript or summary for search. A hook that raises is logged
        # and does not affect the download.
        self.on_asset_complete: list[Callable[[CompletedAsset], None]] = [self._index_for_search]

    # ------------------------------------------------------------ offline reads

    def library_rows(self) -> list[LibraryRow]:
        return library_rows(self.db, self.blobs)

    def activity_detail(self, activity_id: str) -> ActivityDetail | None:
        return activity_detail(self.db, self.blobs, activity_id)

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Titles, summaries and transcript cues matching what the user typed (offline)."""
        return search_cache(self.db, query, limit=limit)

    def current_learner(self) -> LearnerInfo | None:
        if self.server_url is None:
            return None
        from desktop.cache.learners import current_learner

        return current_learner(self.db, self.server_url)

    # ------------------------------------------------------------ media and watch progress

    def media_file(self, activity_id: str, kind: str = "video") -> Path | None:
        """The downloaded file of this activity's first asset of `kind`, or None if absent.

        Raises ContentLocked until the current learner has acknowledged the disclosures
        (rule 1), NotSignedIn when no one is signed in. An activity not in the library
        gives None.
        """
        from desktop.cache.progress_store import activity_assets

        if not self._content_unlocked(activity_id):
            return None

        for asset in activity_assets(self.db, activity_id, kind):
            path = self.blobs.path_for(asset.sha256)
            if path.is_file():
                return path
        return None

    def transcript(self, activity_id: str, duration_ms: int | None = None):
        """The downloaded transcript (desktop.media.transcript.Transcript), or None.

        A plain-text transcript has no timings: they are spread over `duration_ms` (the
        video's length once the player knows it), else over the length last recorded for
        this learner, else estimated from the words. Raises TranscriptError for a file
        that cannot be read. ContentLocked / NotSignedIn as `media_file`.
        """
        from desktop.cache.progress_store import activity_assets
        from desktop.media.transcript import parse_transcript

        if not self._content_unlocked(activity_id):
            return None

        for asset in activity_assets(self.db, activity_id, "transcript"):
            path = self.blobs.path_for(asset.sha256)
            if not path.is_file():
                continue
            if not duration_ms:
                saved = self.watch_progress(activity_id)
                duration_ms = saved.duration_ms if saved and saved.duration_ms else None
            return parse_transcript(path.read_bytes(), asset.media_type, duration_ms)
        return None

    def summaries(self, activity_id: str) -> list[tuple[str, str]]:
        """(title, safe HTML fragment) for each downloaded key clinical summary, in catalog order.

        ContentLocked / NotSignedIn as `media_file`.
        """
        import html

        if not self._content_unlocked(activity_id):
            return []

        from desktop.cache.progress_store import activity_assets
        from desktop.media.summary import SummaryError, render_summary

        out = []
        for asset in activity_assets(self.db, activity_id, "summary"):
            path = self.blobs.path_for(asset.sha256)
            if not path.is_file():
                continue
            title = asset.title or "Key clinical summary"
            try:
                out.append((title, render_summary(path.read_bytes(), asset.media_type)))
            except SummaryError as exc:
                out.append((title, f"<p>{html.escape(str(exc))}</p>"))
        return out

    def _content_unlocked(self, activity_id: str) -> bool:
        """False: no such activity (nothing to show). Raises when the content is locked."""
        from desktop.cache import models as m

        with self.db.read() as s:
            if s.get(m.Activity, activity_id) is None:
                return False
        learner = self._learner()
        if self._current_ack(learner.id, activity_id) is None:
            raise ContentLocked()
        return True

    def watch_progress(self, activity_id: str):
        """The signed-in learner's WatchProgressInfo for this activity (None: nothing yet, or no one signed in)."""
        from desktop.cache.progress_store import load_watch_progress

        learner = self.current_learner()
        if learner is None:
            return None
        return load_watch_progress(self.db, learner.id, activity_id)

    def save_watch_progress(self, activity_id: str, position_ms: int, duration_ms: int, watched_intervals):
        """Record the signed-in learner's position and watched ranges (merged with what is stored).

        `watched_intervals`: a WatchedIntervals or [(start_ms, end_ms), …]. Returns the
        stored WatchProgressInfo, or None when no one is signed in (nothing is saved).
        """
        from datetime import timezone

        from desktop.cache.progress_store import save_watch_progress
        from desktop.learning.progress import WatchedIntervals

        learner = self.current_learner()
        if learner is None:
            return None
        if not isinstance(watched_intervals, WatchedIntervals):
            watched_intervals = WatchedIntervals(watched_intervals)
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        return save_watch_progress(
            self.db, learner.id, activity_id, position_ms, duration_ms, watched_intervals, now
        )

    def status(self) -> Status:
        state = sync_state(self.db, self.server_url) if self.server_url else None
        return Status(
            server_url=self.server_url,
            online=self.online,
            learner=self.current_learner(),
            last_sync_at=state.last_sync_at if state else None,
            last_error=state.last_error if state else None,
            clock_offset_ms=state.clock_offset_ms if state else None,
            storage_bytes=self.blobs.bytes_used(),
            notice=self._notice(),
            pending_completions=self.pending_completions_count(),
        )

    def _notice(self) -> str | None:
        if self.db.damaged_copy is None:
            return None
        return (
            "The local cache file was damaged, so a fresh one was started; the catalog comes "
            f"back at the next sync. The damaged file is kept at {self.db.damaged_copy}."
        )

    # ------------------------------------------------------------ network

    def sign_in(self, username: str, password: str) -> LearnerInfo:
        return self._networked(lambda: self.account().sign_in(username, password))

    def sign_out(self) -> LearnerInfo | None:
        return self._networked(lambda: self.account().sign_out())

    def sync(self, *, retry_now: bool = True) -> SyncReport:
        """Refresh the catalog, then deliver waiting completions (and fetch certificates).

        An explicit sync (the default: "Sync now", `cme-offline sync`) sends waiting claims
        at once, even those backing off after a failed try; the GUI's timer passes
        `retry_now=False` so a struggling server is not hammered.

        A catalog failure is raised as before, after the completions were tried (unless
        the server is unreachable); the delivery outcome is then on the exception as
        `completions` and, as always, in the cache (`pending_completions_count`,
        `learning_state`). A delivery problem never hides a good catalog sync: it is in
        the report (`completions.errors`, `completions_error`).
        """
        from desktop.sync.catalog_sync import sync_catalog

        server = self._require_server()
        failure: CmeError | None = None
        result = None
        try:
            result = self._networked(lambda: sync_catalog(self.db, self.api(), self.account(), server))
        except CmeError as exc:
            failure = exc
        completions, completions_error = None, None
        if not isinstance(failure, ServerUnreachable):
            try:
                completions = self.deliver_completions(retry_now=retry_now)
            except CmeError as exc:
                completions_error = str(exc)
        if failure is not None:
            failure.completions = completions
            raise failure
        return SyncReport(result.not_modified, result.changed, result.synced_at, completions, completions_error)

    def set_server_url(self, url: str) -> None:
        from desktop.policy import SettingLocked, effective_settings

        url = normalise_server_url(url)
        locked = self.locked_settings()
        if "server_url" in locked:
            if url == self.server_url:
                return
            raise SettingLocked("server_url", locked["server_url"])
        self.server_url = url
        self.user_settings = self.user_settings.model_copy(update={"server_url": self.server_url})
        save_settings(self.paths.settings, self.user_settings)
        self.settings = effective_settings(self.user_settings, self.policy)
        self._close_http()

    def locked_settings(self) -> dict[str, str]:
        """Settings the machine policy sets: name -> why it cannot change ("Set by your organisation's policy (file)")."""
        return self.policy.locked()

    def diagnostics(self) -> dict:
        """What the help desk needs (versions, paths, effective settings and their source, policy
        problems, sync state, storage, queue, the last log lines) — never a token."""
        from desktop.diagnostics import collect

        return collect(self)

    def update_settings(self, **changes) -> Settings:
        """Validate, apply and save other settings (the server: `set_server_url`).

        Raises ValueError (pydantic's ValidationError) for an out-of-range value; the HTTP
        client is rebuilt on next use so a new CA bundle takes effect.
        """
        from desktop.policy import SettingLocked, effective_settings

        changes.pop("server_url", None)
        locked = self.locked_settings()
        for name in [k for k in changes if k in locked]:
            if changes[name] != getattr(self.settings, name, None):
                raise SettingLocked(name, locked[name])
            del changes[name]  # unchanged: nothing to refuse, nothing to save
        self.user_settings = Settings.model_validate({**self.user_settings.model_dump(), **changes})
        save_settings(self.paths.settings, self.user_settings)
        self.settings = effective_settings(self.user_settings, self.policy)
        self._close_http()
        if self._downloads is not None and "bandwidth_cap_kbps" in changes:
            from desktop.sync.downloads_ratelimit import kbps_to_bytes_per_s

            self._downloads.set_bandwidth(kbps_to_bytes_per_s(self.settings.bandwidth_cap_kbps))
        return self.settings

    def account(self):
        from desktop.sync.account import Account
        from desktop.sync.credentials import TokenVault

        if self._account is None:
            server = self._require_server()
            self._account = Account(self.db, self.api(), TokenVault(server), server, _device_name())
        return self._account

    def api(self):
        from desktop.sync.api import CreditServerApi
        from desktop.sync.http import build_client

        if self._api is None:
            self._http = build_client(
                self._require_server(), extra_ca_bundle=self.settings.extra_ca_bundle, proxy=self.settings.proxy
            )
            self._api = CreditServerApi(
                self._http, max_catalog_bytes=self.settings.max_catalog_mb * 1024 * 1024
            )
        return self._api

    # ------------------------------------------------------------ downloads

    def downloads(self):
        """The persisted download queue (desktop.sync.downloads.DownloadQueue)."""
        from desktop.sync.downloads import DownloadQueue

        if self._downloads is None:
            self._downloads = DownloadQueue(self.db, self.blobs)
        return self._downloads

    def enqueue_downloads(self, activity_ids: list[str] | None = None):
        """Queue the missing assets of these activities (None: every activity); list[JobInfo]."""
        return self.downloads().enqueue(activity_ids)

    def pause_download(self, job_id: int | None = None) -> int:
        """Pause one job (None: all); what was received is kept. Returns how many changed."""
        return self.downloads().pause(job_id)

    def resume_download(self, job_id: int | None = None) -> int:
        """Queue a paused, failed or cancelled job again (None: all); `run_downloads` fetches it."""
        return self.downloads().resume(job_id)

    def cancel_download(self, job_id: int | None = None) -> int:
        """Cancel one job (None: all unfinished) and delete its partial file."""
        return self.downloads().cancel(job_id)

    def download_jobs(self):
        """Every download job, most urgent first (list[JobInfo], plain dataclasses)."""
        return self.downloads().jobs()

    def run_downloads(self, listener=None, stop_event: threading.Event | None = None, *, policy=None):
        """Fetch every queued job; blocks until the queue is empty or `stop_event` is set.

        `listener(DownloadEvent)` is called from worker threads. Returns a DownloadSummary.
        Raises SignInRequired/NotSignedIn if the server wants a sign-in (jobs stay queued).
        """
        import httpx

        from desktop.sync.downloads import DownloadPolicy
        from desktop.sync.downloads_transfer import BlobFetcher
        from desktop.sync.http import build_client

        policy = policy or DownloadPolicy.from_settings(self.settings)
        server = self._require_server()
        self.account()  # NoServerConfigured now rather than in a worker
        client = build_client(
            server, extra_ca_bundle=self.settings.extra_ca_bundle, proxy=self.settings.proxy,
            timeout=httpx.Timeout(policy.connect_timeout_s, read=policy.read_timeout_s),
        )

        def make_fetcher(limiter):
            return BlobFetcher(
                # Looked up on each use: changing settings mid-run rebuilds the account.
                client, self.blobs, server_url=server, access_token=lambda: self.account().access_token(),
                forget_token=lambda: self.account().forget_access_token(), limiter=limiter,
                chunk_size=policy.chunk_size,
                disk_margin_bytes=policy.disk_margin_bytes,
                shared_dir=self.shared_content_dir(),
            )

        try:
            summary = self.downloads().run(
                make_fetcher, policy=policy, listener=listener, stop_event=stop_event,
                on_complete=self._asset_downloaded,
            )
        finally:
            client.close()
        if summary.bytes_fetched:
            self.online = True
        return summary

    def remove_downloaded_video(self, activity_id: str) -> int:
        """Delete this activity's video file unless another activity uses the same file.

        Transcript, summaries and the learner's progress stay. Returns the bytes freed.
        """
        from sqlalchemy import select

        from desktop.cache import models as m

        with self.db.read() as s:
            videos = set(s.scalars(
                select(m.Asset.sha256).where(m.Asset.activity_id == activity_id, m.Asset.kind == "video")
            ))
            shared = set(s.scalars(
                select(m.Asset.sha256).where(m.Asset.sha256.in_(videos), m.Asset.activity_id != activity_id)
            ))
        freed = 0
        for sha in sorted(videos - shared):
            self.downloads().forget(sha)
            freed += self.blobs.remove(sha)
        return freed

    def shared_content_dir(self) -> Path | None:
        """The read-only shared content folder (policy or settings), looked in before any download."""
        from desktop.policy import expand_path

        raw = self.settings.shared_content_dir
        return expand_path(raw) if raw else None

    # ------------------------------------------------------------ IT: prefetch and content packs

    def prefetch(self, folder, activity_ids: list[str] | None = None, *, sync_first: bool = True):
        """Fill `folder` (a shared content folder, ab/<sha256>) with these activities' files
        (None: all). Resumable (.part files in `folder`), verified. Returns a PrefetchReport."""
        from desktop.sync.prefetch import prefetch

        return prefetch(self, Path(folder), activity_ids, sync_first=sync_first)

    def export_pack(self, activity_ids: list[str], out) -> object:
        """Write a content pack (server-signed metadata + media) for these activities; needs the server."""
        from desktop.sync.packs import export_pack

        return export_pack(self, list(activity_ids), Path(out))

    def import_pack(self, path) -> object:
        """Verify a content pack whole (hashes, the server's signature) and add it; works offline."""
        from desktop.sync.packs import import_pack

        return import_pack(self, Path(path))

    def sign_out_everyone(self) -> int:
        """Sign out every learner signed in on this computer (idle sign-out on shared
        workstations). Downloaded content stays. Returns how many were signed out."""
        n = 0
        for _ in range(1000):  # each round signs out the current learner; the next becomes current
            if not self.server_url or self.current_learner() is None:
                break
            if self.sign_out() is not None:
                n += 1
        return n

    def storage_used(self) -> StorageUse:
        """Bytes in the blob store in total, and the complete files each activity uses."""
        return StorageUse(
            total_bytes=self.blobs.bytes_used(),
            by_activity={row.id: row.media_bytes for row in self.library_rows()},
        )

    def _asset_downloaded(self, job) -> None:
        if not self.on_asset_complete:
            return
        from sqlalchemy import select

        from desktop.cache import models as m

        with self.db.read() as s:
            assets = list(s.scalars(select(m.Asset).where(m.Asset.sha256 == job.sha256)))
        for asset in assets:
            done = CompletedAsset(
                asset.activity_id, asset.kind, asset.media_type, asset.language, asset.timed,
                asset.sha256, self.blobs.path_for(asset.sha256),
            )
            for hook in list(self.on_asset_complete):
                try:
                    hook(done)
                except Exception:
                    log.exception("on_asset_complete hook failed for %s", asset.activity_id)

    def _index_for_search(self, done: CompletedAsset) -> None:
        """A transcript or summary that just arrived becomes searchable (default hook)."""
        if done.kind not in ("transcript", "summary"):
            return
        from sqlalchemy import select

        from desktop.cache import models as m
        from desktop.cache.search import index_summary, index_transcript

        if done.kind == "transcript":
            from desktop.media.transcript import parse_transcript

            cues = parse_transcript(done.path.read_bytes(), done.media_type).cues
            index_transcript(self.db, done.activity_id, cues)
            return
        from desktop.media.summary import render_summary

        with self.db.read() as s:  # every summary of the activity present so far, in order
            summaries = [
                (a.sha256, a.media_type) for a in s.scalars(
                    select(m.Asset).where(m.Asset.activity_id == done.activity_id, m.Asset.kind == "summary")
                    .order_by(m.Asset.position)
                )
            ]
        texts = []
        for sha, media_type in summaries:
            path = self.blobs.path_for(sha)
            if path.is_file():
                texts.append(render_summary(path.read_bytes(), media_type))
        index_summary(self.db, done.activity_id, "\n".join(texts))

    def close(self) -> None:
        self._close_http()
        self.db.close()

    def _close_http(self) -> None:
        if self._http is not None:
            self._http.close()
        self._http = self._api = self._account = None

    # ------------------------------------------------------------ earning credit (rules 1-8)
    # Everything below is scoped to the current learner (`current_learner()`) and raises
    # NotSignedIn when no one is signed in. Refusals are RuleError (a CmeError)
    # with the reason in plain words. All offline except deliver_completions and sync.

    def learners(self) -> list[LearnerInfo]:
        """Learners signed in on this computer for this server (the current one first)."""
        from desktop.cache.learning_store import signed_in_learners

        if self.server_url is None:
            return []
        return signed_in_learners(self.db, self.server_url)

    def switch_learner(self, learner_id: str) -> LearnerInfo:
        """Make another signed-in learner current; SignInRequired if their token is no longer kept."""
        return self.account().switch_to(learner_id)

    def learning_state(self, activity_id: str) -> LearningState:
        """Where the current learner stands in this activity (see LearningState)."""
        from desktop.learning.state import learning_state

        learner = self._learner()
        rules = self._rules(activity_id)
        return learning_state(rules, self._records(learner.id, activity_id), self._corrected_now())

    def acknowledge_disclosures(self, activity_id: str) -> datetime:
        """Rule 1: record that the learner read the disclosures; unlocks the content.

        Returns when it was acknowledged (naive UTC, device clock; the server-corrected
        time is stored too). Idempotent: a second call returns the first time. Refused
        (RuleError) for an activity that is over or not yet released (rule 3).
        """
        from desktop.cache import learning_store as store
        from cmecore.rules.availability import availability

        learner = self._learner()
        rules = self._rules(activity_id)
        ack = self._current_ack(learner.id, activity_id)
        if ack is not None:
            return ack.acknowledged_at
        corrected = self._corrected_now()
        avail = availability(rules.release_date, rules.review_date, rules.termination_date, corrected)
        if not avail.available:
            raise RuleError(avail.reason, "availability")
        return store.acknowledge(self.db, learner.id, activity_id, rules.version, _utcnow(),
                                 _naive(corrected)).acknowledged_at

    def start_attempt(self, activity_id: str) -> AttemptView:
        """Resume the open post-test attempt, or start the next one if the rules allow (rule 4)."""
        import uuid

        from desktop.cache import learning_store as store
        from cmecore.rules.assessment import attempts_left, option_order

        learner = self._learner()
        rules = self._rules(activity_id)
        state = self.learning_state(activity_id)
        if not state.assessment_unlocked:
            raise RuleError(state.assessment_reason, "assessment")
        assessment = rules.assessment
        attempt_id = str(uuid.uuid4())

        def may_create(submitted: int) -> str:
            if state.passed:
                return "You have passed the post-test."
            if attempts_left(assessment.attempts_allowed, submitted) == 0:
                return "You have used all the attempts this activity allows."
            return ""

        try:
            row = store.open_or_create_attempt(
                self.db, learner.id, activity_id, rules.version, attempt_id, option_order(assessment, attempt_id),
                _utcnow(), may_create=may_create,
            )
        except ValueError as exc:
            raise RuleError(str(exc), "attempt") from None
        return _attempt_view(row, assessment)

    def save_answer(self, attempt_id: str, question_id: str, option_ids, current_question: int | None = None) -> None:
        """Store one answer of an open attempt at once (fsynced), and where the learner is."""
        from desktop.cache import learning_store as store
        from cmecore.rules.assessment import AnswerInvalid, check_answer

        learner = self._learner()
        row = self._attempt(learner.id, attempt_id)
        rules = self._rules(row.activity_id)
        try:
            chosen = check_answer(rules.assessment, question_id, list(option_ids))
            store.save_answer(self.db, learner.id, attempt_id, question_id, chosen, current_question)
        except (AnswerInvalid, ValueError) as exc:
            raise RuleError(str(exc), "attempt") from None

    def submit_attempt(self, attempt_id: str) -> AttemptResult:
        """Submit and grade an attempt here (provisional: the server re-grades). Kept forever (rule 4).

        Submitting again returns the same result.
        """
        from desktop.cache import learning_store as store
        from cmecore.rules.assessment import attempts_left, grade

        learner = self._learner()
        row = self._attempt(learner.id, attempt_id)
        rules = self._rules(row.activity_id)
        g = grade(rules.assessment, row.answers)
        row = store.submit_attempt(self.db, learner.id, attempt_id, g.score, g.passed, _utcnow())
        texts = {q.id: q.text for q in rules.assessment.questions}
        submitted = sum(1 for a in store.attempts(self.db, learner.id, row.activity_id) if a.submitted_at)
        return AttemptResult(
            attempt_id=row.id, number=row.number, score=row.local_score, passed=bool(row.local_passed),
            passing_score=rules.assessment.passing_score,
            questions=[QuestionResult(q.question_id, texts.get(q.question_id, ""), list(q.chosen), list(q.correct),
                                      q.right, q.rationale) for q in g.questions],
            attempts_left=attempts_left(rules.assessment.attempts_allowed, submitted),
        )

    def evaluation_questions(self, activity_id: str) -> list:
        """The activity's evaluation form (protocol.EvaluationQuestion: id, text, kind rating|text|commitment,
        scale, required), offline; [] when it has none. RuleError if the activity is not here."""
        return list(self._rules(activity_id).evaluation)

    def evaluation(self, activity_id: str) -> EvaluationDraft | None:
        """The current learner's evaluation as saved (a draft or submitted), or None."""
        from desktop.cache import learning_store as store
        from cmecore.rules import evaluation as ev

        learner = self._learner()
        rules = self._rules(activity_id)
        row = store.get_evaluation(self.db, learner.id, activity_id)
        if row is None:
            return None
        r = row.responses
        clean = ev.CleanEvaluation(dict(r.get("ratings") or {}), dict(r.get("texts") or {}),
                                   list(r.get("commitments") or []), r.get("reminder_weeks"))
        return EvaluationDraft(clean.ratings, clean.texts, clean.commitments, clean.reminder_weeks, row.submitted_at,
                               ev.missing(rules.evaluation, clean))

    def save_evaluation(self, activity_id: str, ratings: dict, texts: dict, commitments: list,
                        reminder_weeks: int | None = None, submit: bool = False) -> EvaluationDraft:
        """Save the evaluation (rule 5) as a draft, or submit it (then every required question must be answered).

        Up to 3 commitments to change; a reminder 1-52 weeks ahead. Refused once a claim
        carrying it is waiting or accepted.
        """
        from desktop.cache import learning_store as store
        from cmecore.rules import evaluation as ev

        learner = self._learner()
        rules = self._rules(activity_id)
        if not rules.evaluation:
            raise RuleError("This activity has no evaluation.", "evaluation")
        if self._current_ack(learner.id, activity_id) is None:
            raise ContentLocked()
        claim = store.latest_completion(self.db, learner.id, activity_id)
        if claim is not None and claim.state in ("pending", "accepted"):
            raise RuleError("Your evaluation was sent with your claim; it can no longer change.", "evaluation")
        try:
            clean = ev.clean(rules.evaluation, ratings or {}, texts or {}, commitments or [], reminder_weeks)
            if submit:
                ev.check_complete(rules.evaluation, clean)
        except ev.EvaluationInvalid as exc:
            raise RuleError(str(exc), "evaluation") from None
        responses = {"ratings": clean.ratings, "texts": clean.texts, "commitments": clean.commitments,
                     "reminder_weeks": clean.reminder_weeks}
        row = store.save_evaluation(self.db, learner.id, activity_id, responses, _utcnow(), submit)
        return EvaluationDraft(clean.ratings, clean.texts, clean.commitments, clean.reminder_weeks, row.submitted_at,
                               ev.missing(rules.evaluation, clean))

    def claim_credit(self, activity_id: str, credits: float, attested_minutes: int | None,
                     reporting_consent: bool) -> CompletionInfo:
        """Rule 6/8: claim credit; the completion and its outbox item are written in one transaction.

        Checks every rule the server checks (RuleError with the reason, code
        "claim" or "pharmacist-ids"), builds the protocol CompletionIn (a new UUID, every
        attempt, the evaluation, the claim, the watched share, local and corrected
        times) and returns it as pending. It goes to the server at the next sync.
        """
        from desktop.cache import learning_store as store
        from cmecore.rules import claims

        learner = self._learner()
        rules = self._rules(activity_id)
        state = self.learning_state(activity_id)
        ids = store.learner_ids(self.db, learner.id)
        if not state.can_claim:
            code = "pharmacist-ids" if state.claim_options.missing_pharmacist_ids and state.claim_reason.startswith(
                "A pharmacist") else "claim"
            raise RuleError(state.claim_reason, code)
        try:
            statement = claims.check_claim(
                ids.profession, rules.statements, credits, attested_minutes, reporting_consent,
                nabp_eprofile_id=ids.nabp_eprofile_id, birth_mmdd=ids.birth_mmdd,
            )
        except claims.ClaimRefused as exc:
            raise RuleError(exc.reason, exc.code) from None
        payload, corrected = self._completion_payload(learner.id, rules, ids, statement, credits, attested_minutes,
                                                      reporting_consent)
        try:
            return store.add_completion(
                self.db, learner_id=learner.id, payload=payload, title=rules.title, created_at=_utcnow(),
                completed_at_corrected=_naive(corrected), credit_type=statement.credit_type,
                credits=float(credits),
            )
        except store.ClaimExists as exc:
            raise RuleError(str(exc), "claim") from None

    def pending_completions_count(self, learner_only: bool = False) -> int:
        """Completions waiting to be sent from this computer: every learner's (default), or
        only the current learner's (`learner_only=True`; 0 when no one is signed in)."""
        from desktop.cache.learning_store import count_pending

        if learner_only:
            learner = self.current_learner()
            return count_pending(self.db, learner_id=learner.id) if learner else 0
        return count_pending(self.db)

    def deliver_completions(self, retry_now: bool = False) -> OutboxReport:
        """Send every learner's waiting completions (each with their own token), then fetch
        and verify new certificates. Never raises for a failed delivery: the items stay
        (with their error and a backoff that `retry_now` skips) and the report says so.
        """
        from desktop.sync.outbox import deliver

        server = self._require_server()
        with self._net_lock:
            report = deliver(self.db, self.api(), self.account(), server, retry_now=retry_now)
        if any("cannot be reached" in e for e in report.errors):
            self.online = False
        elif report.requests:
            self.online = True
        return report

    def my_credits(self, year: int | None = None) -> MyCredits:
        """The current learner's claims: accepted ones count in the totals; pending and
        rejected are listed with their state (and the server's reason)."""
        from desktop.cache.learning_store import completion_rows

        learner = self._learner()
        rows, totals, all_time = [], {}, {}
        for c in completion_rows(self.db, learner.id):
            day = c.completed_at_corrected.date()
            if c.state == "accepted":
                all_time[c.credit_type] = round(all_time.get(c.credit_type, 0.0) + c.credits, 2)
            if year is not None and day.year != year:
                continue
            rows.append(CreditRow(c.id, c.activity_id, c.title, day, c.credit_type, c.credits, c.state, c.reason,
                                  c.certificate_id))
            if c.state == "accepted":
                key = (c.credit_type, day.year)
                totals[key] = round(totals.get(key, 0.0) + c.credits, 2)
        return MyCredits(rows, totals, all_time)

    def certificate_pdf(self, certificate_id: str) -> bytes | None:
        """The cached PDF of one of the current learner's certificates (offline), or None."""
        from desktop.cache.learning_store import get_certificate

        row = get_certificate(self.db, self._learner().id, certificate_id)
        return row.pdf if row else None

    def export_certificate(self, certificate_id: str, path) -> Path:
        """Write the certificate to `path`: the PDF, or the signed credential if `path` ends in .json."""
        import json

        from desktop.cache.learning_store import get_certificate

        row = get_certificate(self.db, self._learner().id, certificate_id)
        path = Path(path)
        if path.suffix.lower() == ".json":
            if row is None or row.credential is None:
                raise RuleError("This certificate's signed form is not on this computer yet; sync first.",
                                      "certificate")
            data = json.dumps(row.credential, ensure_ascii=False, indent=2).encode("utf-8")
        else:
            if row is None or row.pdf is None:
                raise RuleError("This certificate is not on this computer yet; sync first.", "certificate")
            data = row.pdf
        _write_file(path, data)
        return path

    def export_credit_transcript(self, path, fmt: str = "csv") -> Path:
        """Write My Credits (every claim, its state, and the accepted totals) as CSV or PDF."""
        from desktop.learning.transcript_export import credits_csv, credits_pdf

        if fmt not in ("csv", "pdf"):
            raise ValueError("fmt must be 'csv' or 'pdf'")
        learner = self._learner()
        credits = self.my_credits()
        data = credits_csv(credits) if fmt == "csv" else credits_pdf(credits, learner.display_name)
        path = Path(path)
        _write_file(path, data)
        return path

    def verify_certificate_file(self, path) -> VerifyResult:
        """Check a signed certificate (JSON credential file) offline against the server's key kept here."""
        import json

        from desktop.cache.learning_store import signing_key
        from cmecore.signatures import verify_credential

        try:
            doc = json.loads(Path(path).read_bytes())
        except (OSError, ValueError) as exc:
            return VerifyResult(False, f"The file could not be read as a signed certificate ({exc}).")
        key = signing_key(self.db, self.server_url) if self.server_url else None
        if key is None:
            return VerifyResult(False, "This computer has no signing key from the credit server yet; sign in once, then check again.")
        if not isinstance(doc, dict) or not verify_credential(doc, key[1]):
            return VerifyResult(False, "The signature does not match: this certificate was changed, or was not "
                                       "issued by this credit server.")
        subject = doc.get("credentialSubject") or {}
        what = subject.get("achievement", {}).get("name", "the activity")
        return VerifyResult(True, f"Valid: {subject.get('creditsEarned')} {subject.get('creditType')} for "
                                  f"{subject.get('name')}, {what}, signed by the credit server.")

    # ------------------------------------------------------------ earning credit: helpers

    def _learner(self) -> LearnerInfo:
        learner = self.current_learner()
        if learner is None:
            raise NotSignedIn()
        return learner

    def _current_ack(self, learner_id: str, activity_id: str):
        """The learner's acknowledgement of the disclosures of the version cached now (rule 1).

        An acknowledgement of an older version does not count: a new version may disclose
        new relationships, so the learner reads and acknowledges them again.
        """
        from desktop.cache.learning_store import activity_rules, get_ack

        ack = get_ack(self.db, learner_id, activity_id)
        rules = activity_rules(self.db, activity_id)
        if ack is None or (rules is not None and ack.activity_version < rules.version):
            return None
        return ack

    def _rules(self, activity_id: str):
        from desktop.cache.learning_store import activity_rules

        rules = activity_rules(self.db, activity_id)
        if rules is None:
            raise RuleError("This activity is not in the library on this computer; sync the catalog.", "activity")
        return rules

    def _attempt(self, learner_id: str, attempt_id: str):
        from desktop.cache.learning_store import get_attempt

        row = get_attempt(self.db, learner_id, attempt_id)
        if row is None:
            raise RuleError("There is no such attempt for the signed-in learner.", "attempt")
        return row

    def _corrected_now(self) -> datetime:
        from desktop.cache.learning_store import clock_offset_ms
        from cmecore.rules.availability import corrected_now

        return corrected_now(clock_offset_ms(self.db, self.server_url))

    def _records(self, learner_id: str, activity_id: str):
        from desktop.cache import learning_store as store
        from desktop.cache.progress_store import load_watch_progress
        from desktop.learning.state import LearnerRecords

        ids = store.learner_ids(self.db, learner_id)
        ack = self._current_ack(learner_id, activity_id)
        wp = load_watch_progress(self.db, learner_id, activity_id)
        ev = store.get_evaluation(self.db, learner_id, activity_id)
        return LearnerRecords(
            profession=ids.profession, nabp_eprofile_id=ids.nabp_eprofile_id, birth_mmdd=ids.birth_mmdd,
            acknowledged_at=ack.acknowledged_at if ack else None,
            attempts=store.summaries(store.attempts(self.db, learner_id, activity_id)),
            watched_share=wp.watched_share if wp else 0.0,
            watched_ms=wp.watched.watched_ms(wp.duration_ms or None) if wp else 0,
            evaluation_submitted=bool(ev and ev.submitted_at),
            completion=store.latest_completion(self.db, learner_id, activity_id),
        )

    def _completion_payload(self, learner_id, rules, ids, statement, credits, attested_minutes, consent):
        """The protocol CompletionIn as JSON (stored and later sent exactly as is), and the corrected time."""
        import uuid
        from datetime import timezone

        from cmecore import protocol
        from desktop.cache import learning_store as store
        from desktop.cache.progress_store import load_watch_progress

        def aware(t: datetime) -> datetime:
            return t.replace(tzinfo=timezone.utc)

        ack = store.get_ack(self.db, learner_id, rules.id)
        rows = [a for a in store.attempts(self.db, learner_id, rules.id) if a.submitted_at is not None]
        started = min([ack.acknowledged_at] + [a.started_at for a in rows])
        now = _utcnow()
        completed = max([now, started] + [a.submitted_at for a in rows])
        corrected = self._corrected_now()
        wp = load_watch_progress(self.db, learner_id, rules.id)
        ev = store.get_evaluation(self.db, learner_id, rules.id)
        evaluation = None
        if ev is not None:
            r = ev.responses
            evaluation = protocol.EvaluationResponse(
                ratings=r.get("ratings") or {}, texts=r.get("texts") or {},
                commitments=r.get("commitments") or [], reminder_weeks=r.get("reminder_weeks"),
            )
        pharmacist = ids.profession == "pharmacist"
        claim = protocol.CreditClaim(
            profession=ids.profession, credit_type=statement.credit_type, credits_claimed=float(credits),
            attested_minutes=int(attested_minutes) if attested_minutes is not None else None,
            reporting_consent=consent,
            nabp_eprofile_id=ids.nabp_eprofile_id if pharmacist else None,
            birth_mmdd=ids.birth_mmdd,
            board_id=None if pharmacist else ids.board_id,
            licence_state=None if pharmacist else ids.licence_state,
            licence_number=None if pharmacist else ids.licence_number,
        )
        item = protocol.CompletionIn(
            id=uuid.uuid4(),
            activity_id=rules.id,
            activity_version=rules.version,
            disclosures_acknowledged_at=aware(min(ack.acknowledged_at, started)),
            started_at=aware(started),
            completed_at=aware(completed),
            completed_at_corrected=corrected,
            watched_share=round(min(1.0, wp.watched_share if wp else 0.0), 4),
            attempts=[
                protocol.AttemptRecord(
                    id=a.id, number=a.number, started_at=aware(a.started_at),
                    submitted_at=aware(max(a.submitted_at, a.started_at)), answers=a.answers,
                    local_score=a.local_score or 0.0, local_passed=bool(a.local_passed),
                )
                for a in rows
            ],
            evaluation=evaluation,
            claim=claim,
        )
        return item.model_dump(mode="json"), corrected

    def _require_server(self) -> str:
        if not self.server_url:
            raise NoServerConfigured()
        return self.server_url

    def _networked(self, call):
        """Run one network operation, keeping `online` true to what just happened."""
        with self._net_lock:
            try:
                result = call()
            except ServerUnreachable:
                self.online = False
                raise
            except (ServerFailed, InvalidResponse, WrongCredentials, SignInRequired):
                self.online = True  # the server answered, even if to say no
                raise
            self.online = True
            return result

    # --- added for the views (move at merge)

    def free_disk_space(self) -> int | None:
        """Free bytes on the disk that holds the app's data (None when the system cannot say)."""
        return disk.free_bytes(self.paths.data_dir)

    def file_exists(self, path: str) -> bool:
        """Whether a file the user named (a CA bundle) exists."""
        return disk.is_file(path)


def _utcnow() -> datetime:
    """Naive UTC on the device clock, as the cache stores times."""
    from datetime import timezone

    return datetime.now(timezone.utc).replace(tzinfo=None)


def _naive(t: datetime) -> datetime:
    from datetime import timezone

    return t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo else t


def _write_file(path: Path, data: bytes) -> None:
    """Write whole or not at all (a temporary file renamed into place)."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _attempt_view(row, assessment) -> AttemptView:
    questions = []
    for q in assessment.questions:
        texts = {o.id: o.text for o in q.options}
        order = [o for o in row.option_order.get(q.id, []) if o in texts]
        order += [o for o in texts if o not in order]  # a question the stored order does not know
        questions.append(QuestionView(q.id, q.text, q.kind, [(o, texts[o]) for o in order]))
    return AttemptView(row.id, row.number, assessment.passing_score, questions,
                       {k: list(v) for k, v in row.answers.items()}, row.current_question)


def _device_name() -> str:
    return f"CME Offline on {socket.gethostname()}"[:200]
