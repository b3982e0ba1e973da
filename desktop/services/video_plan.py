"""Which form of each activity's video to fetch, keep and remove: the downloads' side of
renditions (issue 14).

The form to fetch is cmecore.renditions.choose (one rule) from the learner's quality within
the machine policy's maximum; a form already here counts; a switch keeps the old form until
the new one is verified (`finish_switches`, called when a file arrives). The wanted form
per activity is kept in the cache (`video_choices`), machine-wide like the blob store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cmecore.renditions import QUALITY_LABELS, Choice, Quality, allowed, choose
from desktop.cache.blobstore import BlobStore
from desktop.cache.db import Database
from desktop.cache.progress_store import videos_only_in
from desktop.cache.video_forms import (
    VideoChoiceInfo,
    VideoForm,
    blob_used_elsewhere,
    every_video_forms,
    form_here,
    set_video_choice,
    video_choice,
    video_choices,
    video_forms,
    video_forms_by_activity,
)
from desktop.errors import QualityNotAllowed
from desktop.services.config import ConfigService

log = logging.getLogger(__name__)

NO_CHOICE = VideoChoiceInfo(None, None)


@dataclass(frozen=True)
class Switch:
    """What a switch of form asks of the queue."""

    fetch: Choice | None  # the new form (None: it is here already, nothing to do)
    abandoned: str | None  # the blob of an earlier switch's form, never verified: its job goes


@dataclass(frozen=True)
class FinishedSwitches:
    """What `finish_switches` did: the activities whose switch is done, the old forms removed."""

    activities: frozenset[str] = frozenset()
    removed: tuple[str, ...] = ()  # the blobs of old forms deleted: their jobs go


class VideoPlan:
    def __init__(self, db: Database, blobs: BlobStore, config: ConfigService):
        self.db = db
        self.blobs = blobs
        self.config = config  # the learner's quality and the policy's maximum

    def forms(self, activity_id: str) -> list[VideoForm]:
        """The forms the policy allows, largest first, with which is here and which is wanted."""
        return self.forms_by_activity([activity_id]).get(activity_id, [])

    def forms_by_activity(self, activity_ids: list[str]) -> dict[str, list[VideoForm]]:
        """`forms` for several activities in two reads (a selection in the library)."""
        maximum, recorded = self.config.quality_maximum(), video_choices(self.db)
        result: dict[str, list[VideoForm]] = {}
        for activity_id, every in video_forms_by_activity(self.db, activity_ids).items():
            forms = allowed(every, maximum)
            if not forms:
                result[activity_id] = []
                continue
            choice = recorded.get(activity_id, NO_CHOICE)
            here = form_here(every, choice.wanted, self.blobs)
            preferred = choice.wanted or (here.quality if here else None) or self.config.download_quality()
            wanted = choose(forms, preferred)
            result[activity_id] = [
                VideoForm(f.quality, f.size, f.width, f.height, f.bitrate, f.duration_ms, f.media_type,
                          on_machine=self.blobs.path_for(f.sha256).is_file(), wanted=f is wanted)
                for f in forms
            ]
        return result

    def hidden_forms(self, activity_id: str) -> list[Quality]:
        """The forms of this activity's video the policy's maximum hides, largest first (empty:
        no maximum, nothing above it, or no video)."""
        every = video_forms(self.db, activity_id)
        shown = allowed(every, self.config.quality_maximum())
        return [f.quality for f in every if f not in shown]

    def fetch_plan(self, activity_ids: list[str] | None, quality: Quality | None, *,
                   named: bool) -> dict[str, dict[str, Choice | None]]:
        """Per activity with a video, per video (by its original's sha256, as the catalog lists
        the asset) the form to fetch (None: none — a form is here, or with `named` False none
        is allowed). Every video of an activity comes in the form `choose` picks for the same
        quality; the first one's (the one played) is recorded as the wanted form. With `named`,
        an activity whose played video's forms the policy all forbids refuses the whole
        request, before anything is written."""
        maximum = self.config.quality_maximum()
        recorded = video_choices(self.db)
        plan: dict[str, dict[str, Choice | None]] = {}
        record: dict[str, Quality] = {}
        for activity_id, videos in every_video_forms(self.db, activity_ids).items():
            choice = recorded.get(activity_id, NO_CHOICE)
            preferred = quality or choice.wanted or self.config.download_quality()
            played = videos[0]
            if choose(played, preferred, maximum) is None and named:
                raise QualityNotAllowed(refusal(played, maximum))
            plan[activity_id] = {forms[0].sha256: self._to_fetch(forms, preferred, maximum, keep_here=quality is None)
                                 for forms in videos}
            fetch = plan[activity_id][played[0].sha256]
            if fetch is not None:
                if choice.wanted is not fetch.quality:
                    record[activity_id] = fetch.quality
            elif choice.wanted is None and (here := form_here(allowed(played, maximum), None, self.blobs)):
                record[activity_id] = here.quality  # a form is here already (a pack, the shared folder, a download)
        for activity_id, wanted in record.items():
            set_video_choice(self.db, activity_id, wanted, recorded.get(activity_id, NO_CHOICE).replaces)
        return plan

    def _to_fetch(self, forms: list[Choice], preferred: Quality, maximum: Quality | None, *,
                  keep_here: bool) -> Choice | None:
        """The form of one video to fetch for `preferred` (None: none allowed; with `keep_here`,
        none while an allowed form is here). With `keep_here`, a form in IT's shared content
        folder is copied rather than another one downloaded."""
        chosen = choose(forms, preferred, maximum)
        if chosen is None or not keep_here:
            return chosen
        if form_here(allowed(forms, maximum), preferred, self.blobs) is not None:
            return None
        return self._in_shared_folder(allowed(forms, maximum), chosen) or chosen

    def switch_videos(self, activity_id: str, fetch: Choice) -> dict[str, Choice | None]:
        """What a switch queues (`fetch_plan`'s shape): the new form of the video played; the
        activity's other videos as a download without a named quality would (a form here stays)."""
        videos = every_video_forms(self.db, [activity_id]).get(activity_id, [])
        maximum = self.config.quality_maximum()
        plan = {forms[0].sha256: self._to_fetch(forms, fetch.quality, maximum, keep_here=True) for forms in videos[1:]}
        if videos:
            plan[videos[0][0].sha256] = fetch
        return plan

    def _in_shared_folder(self, forms: list[Choice], chosen: Choice) -> Choice | None:
        """The form IT's shared content folder holds (the chosen one first, else the largest
        there), copied rather than downloaded; None when it holds none."""
        folder = self.config.shared_content_dir()
        if folder is None:
            return None
        shared = BlobStore(folder, private=False)
        return form_here(forms, chosen.quality, shared)

    def start_switch(self, activity_id: str, quality: Quality) -> Switch:
        """Record a switch to `quality` (as choose picks it); the form here now is what it
        replaces. QualityNotAllowed when the policy allows none of the forms."""
        forms = video_forms(self.db, activity_id)
        if not forms:
            return Switch(None, None)
        maximum = self.config.quality_maximum()
        chosen = choose(forms, quality, maximum)
        if chosen is None:
            raise QualityNotAllowed(refusal(forms, maximum))
        recorded = video_choice(self.db, activity_id)
        here = form_here(forms, recorded.wanted, self.blobs)
        earlier = next((f for f in forms if f.quality is recorded.wanted), None)
        abandoned = (earlier.sha256 if earlier is not None and earlier is not chosen and earlier is not here
                     and not blob_used_elsewhere(self.db, earlier.sha256, activity_id) else None)
        if here is not None and here.sha256 == chosen.sha256:
            set_video_choice(self.db, activity_id, chosen.quality)
            return Switch(None, abandoned)
        set_video_choice(self.db, activity_id, chosen.quality, here.quality if here is not None else recorded.replaces)
        return Switch(chosen, abandoned)

    def finish_switches(self, sha256: str | None = None) -> FinishedSwitches:
        """This verified file (None: any here) is the wanted form of a switch under way: remove
        the form it replaces (unless another activity uses that file). A file that cannot be
        removed now (open in a player on Windows) is logged and tried again at the next call."""
        finished: set[str] = set()
        removed: list[str] = []
        for activity_id, choice in video_choices(self.db).items():
            if choice.replaces is None or choice.wanted is None:
                continue
            forms = {f.quality: f for f in video_forms(self.db, activity_id)}
            new, old = forms.get(choice.wanted), forms.get(choice.replaces)
            if new is None or sha256 not in (None, new.sha256) or not self.blobs.path_for(new.sha256).is_file():
                continue
            if old is not None and old.sha256 != new.sha256 and not blob_used_elsewhere(self.db, old.sha256,
                                                                                          activity_id):
                try:
                    self.blobs.remove(old.sha256)
                except OSError as exc:
                    log.warning("the %s form of %s could not be removed yet (%s); trying again later",
                                choice.replaces, activity_id, exc)
                    continue
                removed.append(old.sha256)
            set_video_choice(self.db, activity_id, choice.wanted)
            finished.add(activity_id)
        return FinishedSwitches(frozenset(finished), tuple(removed))

    def files_only_in(self, activity_id: str) -> set[str]:
        """Every form of this activity's videos that no other activity uses (safe to delete)."""
        forms = {f.sha256 for video in every_video_forms(self.db, [activity_id]).get(activity_id, []) for f in video}
        own = {sha for sha in forms if not blob_used_elsewhere(self.db, sha, activity_id)}
        choice = video_choice(self.db, activity_id)
        if choice.replaces is not None and choice.wanted is not None:
            set_video_choice(self.db, activity_id, choice.wanted)  # nothing left to switch from
        return own | videos_only_in(self.db, activity_id)


def refusal(forms: list[Choice], maximum: Quality | None) -> str:
    """Why no form of this video may be fetched: the policy's maximum and the forms there are."""
    there = ", ".join(QUALITY_LABELS[f.quality] for f in forms)
    most = QUALITY_LABELS[maximum] if maximum is not None else "none"
    return (f"Your organisation's policy allows videos up to {most}, but this video comes only as {there}. "
            "Ask your IT help desk to allow it.")
