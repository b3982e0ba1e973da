"""An activity's content for the current learner: the video file, the transcript, the key
clinical summaries, and where they are in the video.

The content is behind the disclosure gate (rule 1): until the current learner has
acknowledged the disclosures of the version cached now, every read raises ContentLocked
(NotSignedIn when no one is signed in). An activity not in the library gives nothing.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path

from cmecore.renditions import Choice, Quality
from desktop.cache.blobstore import BlobStore
from desktop.cache.db import Database
from desktop.cache.learning_store import current_ack
from desktop.cache.library import activity_exists
from desktop.cache.progress_store import (
    WatchProgressInfo,
    activity_assets,
    load_watch_progress,
    save_media_length,
    save_watch_progress,
)
from desktop.cache.video_forms import form_here, video_choice, video_forms
from desktop.errors import ContentLocked, NotSignedIn, SummaryError
from desktop.learning.progress import WatchedIntervals
from cmecore.transcripts.cues import Transcript
from desktop.services.account import AccountService
from desktop.services.transcripts import read_transcript, refresh_transcript_index

SUMMARY_TITLE = "Key clinical summary"  # for a summary the catalog gives no title


class ContentService:
    def __init__(self, db: Database, blobs: BlobStore, account: AccountService):
        self.db = db
        self.blobs = blobs
        self.account = account

    def media_file(self, activity_id: str, kind: str = "video") -> Path | None:
        """The downloaded file of this activity's first asset of `kind`, or None if absent; for
        the video, the file of the form here (the wanted one, else any other: video_in_use.py)."""
        if not self._unlocked(activity_id):
            return None
        if kind == "video":
            form = self._video_here(activity_id)
            return self.blobs.path_for(form.sha256) if form is not None else None
        return next(self._files(activity_id, kind), (None, None))[1]

    def video_form(self, activity_id: str) -> Quality | None:
        """Which form of the video `media_file` gives (Quality.audio: sound alone, the player
        shows its audio-only layout); None while no form is here."""
        if not self._unlocked(activity_id):
            return None
        form = self._video_here(activity_id)
        return form.quality if form is not None else None

    def _video_here(self, activity_id: str) -> Choice | None:
        return form_here(video_forms(self.db, activity_id), video_choice(self.db, activity_id).wanted, self.blobs)

    def transcript(self, activity_id: str) -> Transcript | None:
        """The downloaded transcript, or None.

        Timed as search indexed it (services/transcripts.py: a plain-text transcript is
        spread over the catalog's video length, else the length a player here found, else
        the nominal pace). Raises TranscriptError for a file that cannot be read.
        """
        if not self._unlocked(activity_id):
            return None
        found = read_transcript(self.db, self.blobs, activity_id)
        return found.transcript if found is not None else None

    def media_length_found(self, activity_id: str, length_ms: int) -> bool:
        """The player found the video's length (call on the writer thread): it is kept in the
        signed-in learner's progress, and if the transcript's timing changes with it, the
        search index is rebuilt. True then: read the transcript again to show the new times."""
        learner = self.account.current_learner()
        if learner is None or length_ms <= 0:
            return False
        save_media_length(self.db, learner.id, activity_id, self._media_length(activity_id, length_ms), _utcnow())
        return bool(refresh_transcript_index(self.db, self.blobs, activity_id))

    def summaries(self, activity_id: str) -> list[tuple[str, str]]:
        """(title, safe HTML fragment) for each downloaded key clinical summary, in catalog order;
        a summary that cannot be shown says why in its place. The title is the summary's own
        opening heading, taken out of the fragment (`split_title`), else the catalog's."""
        if not self._unlocked(activity_id):
            return []
        # memory: markdown-it and nh3 load when a summary is first shown, not for playing
        from desktop.media.summary import render_summary, split_title

        out = []
        for asset, path in self._files(activity_id, "summary"):
            title = asset.title or SUMMARY_TITLE
            try:
                own_title, body = split_title(render_summary(path.read_bytes(), asset.media_type))
                out.append((own_title or title, body))
            except SummaryError as exc:
                out.append((title, f"<p>{html.escape(str(exc))}</p>"))
        return out

    def watch_progress(self, activity_id: str) -> WatchProgressInfo | None:
        """The signed-in learner's progress in this activity's video (None: nothing yet, or no one signed in)."""
        learner = self.account.current_learner()
        return load_watch_progress(self.db, learner.id, activity_id) if learner else None

    def save_watch_progress(self, activity_id: str, position_ms: int, duration_ms: int,
                            watched_intervals) -> WatchProgressInfo | None:
        """Record the signed-in learner's position and watched ranges (merged with what is stored).

        `watched_intervals`: a WatchedIntervals or [(start_ms, end_ms), …]. Returns what is
        stored now, or None when no one is signed in (nothing is saved).
        """
        learner = self.account.current_learner()
        if learner is None:
            return None
        if not isinstance(watched_intervals, WatchedIntervals):
            watched_intervals = WatchedIntervals(watched_intervals)
        return save_watch_progress(self.db, learner.id, activity_id, position_ms,
                                   self._media_length(activity_id, duration_ms), watched_intervals, _utcnow())

    def _media_length(self, activity_id: str, found_ms: int) -> int:
        """The video's length in media time: the catalog's when it gives one, so the watched
        share holds whichever form is played (an audio-only file may end a few ms apart from
        the original); else what the player found."""
        forms = video_forms(self.db, activity_id)
        catalog = forms[0].duration_ms if forms else None
        return catalog if catalog else found_ms

    def is_open(self, activity_id: str) -> bool:
        """Whether the content may be shown now (the gate below, asked instead of raising):
        False while no learner is signed in or the learner has not acknowledged this version's
        disclosures. Search asks it before it shows a word of a transcript or summary."""
        try:
            return self._unlocked(activity_id)
        except (ContentLocked, NotSignedIn):  # not acknowledged, or no one (or a locked session) here
            return False

    def _unlocked(self, activity_id: str) -> bool:
        """The disclosure gate: False for an activity not in the library (nothing to show);
        raises NotSignedIn, or ContentLocked until the learner acknowledged this version."""
        if not activity_exists(self.db, activity_id):
            return False
        if current_ack(self.db, self.account.require_learner().id, activity_id) is None:
            raise ContentLocked()
        return True

    def _files(self, activity_id: str, kind: str):
        """(asset, path) of the activity's downloaded assets of `kind`, in catalog order."""
        for asset in activity_assets(self.db, activity_id, kind):
            path = self.blobs.path_for(asset.sha256)
            if path.is_file():
                yield asset, path


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
