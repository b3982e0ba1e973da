"""Who may fetch a media file: the file's activities, and whether they are withdrawn.

A file belongs to every activity (any published version) whose assets name it, by
`sha256`, as a transcript's `source_sha256`, or as one of a video's `renditions`. Once all
of those activities are withdrawn, the file is served only to a learner with a completion for one of them (their
record stays whole); everyone else gets 403 with the `activity-withdrawn` problem. A file
shared with a live activity, or that no activity names, is served as before.

The file-to-activities map is built from the stored activity JSON and rebuilt when the
catalog revision moves (every publish and withdrawal bumps it), so each request costs one
small query for the revision, and processes sharing one database each keep their own map.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from .db import current_revision
from .models import ActivityRecord, ActivityVersion, Completion
from .problems import ACTIVITY_WITHDRAWN, ProblemError


@dataclass(frozen=True)
class _Owners:
    revision: int
    activities: dict[str, frozenset[str]]  # sha256 -> activity ids
    withdrawn: frozenset[str]


class MediaAccess:
    """Thread-safe: routes run on a thread pool."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owners: _Owners | None = None

    def check(self, session: Session | Connection, sha256: str, learner_id: str) -> None:
        """Return if this learner may fetch the file; raise the 403 problem if not."""
        owners = self._current(session)
        activities = owners.activities.get(sha256)
        if not activities or not activities <= owners.withdrawn:
            return
        completed = session.scalar(
            select(Completion.id).where(Completion.learner_id == learner_id,
                                        Completion.activity_id.in_(sorted(activities))).limit(1)
        )
        if completed is None:
            raise ProblemError(
                403, "Activity withdrawn", type=ACTIVITY_WITHDRAWN,
                detail="This file belongs to an activity its provider has withdrawn; it is no longer available "
                       "to learners who have not completed that activity.",
            )

    def _current(self, session: Session | Connection) -> _Owners:
        revision = current_revision(session)
        owners = self._owners
        if owners is not None and owners.revision == revision:
            return owners
        with self._lock:
            if self._owners is None or self._owners.revision != revision:
                self._owners = _build(session, revision)
            return self._owners


def _build(session: Session | Connection, revision: int) -> _Owners:
    found: dict[str, set[str]] = defaultdict(set)
    withdrawn = set()
    for activity_id, gone, text in session.execute(
        select(ActivityRecord.id, ActivityRecord.withdrawn, ActivityRecord.json_text)
    ):
        if gone:
            withdrawn.add(activity_id)
        _add_assets(found, activity_id, text)
    for activity_id, text in session.execute(select(ActivityVersion.activity_id, ActivityVersion.json_text)):
        _add_assets(found, activity_id, text)
    return _Owners(revision, {sha: frozenset(ids) for sha, ids in found.items()}, frozenset(withdrawn))


def _add_assets(found: dict[str, set[str]], activity_id: str, text: str) -> None:
    try:
        assets = json.loads(text).get("assets") or []
    except (ValueError, AttributeError, RecursionError):
        return  # a malformed row (tests inject them): it names no file
    for asset in assets if isinstance(assets, list) else []:
        if not isinstance(asset, dict):
            continue
        renditions = asset.get("renditions")
        named = [asset] + [r for r in renditions if isinstance(r, dict)] if isinstance(renditions, list) else [asset]
        for entry in named:
            for key in ("sha256", "source_sha256"):
                if isinstance(entry.get(key), str):
                    found[entry[key]].add(activity_id)
