"""`POST /completions`, one batch: each item read, checked for a resubmission, judged and
recorded on its own, all in one transaction.

Each item is validated alone, so one malformed item is rejected alone. The client's UUID
is the idempotency key: the same id with the same content answers `duplicate` with the
stored result (same certificate); the same id with other content is refused as a
conflicting resubmission and logged. One credited completion per learner and activity.
Identical batches racing (a retry after a lost reply) get the answers they would get one
after the other, on SQLite and PostgreSQL alike (`_Batch._take_turn`, `_Batch._load_stored`).
Every refusal is also written to `completion_rejections` for the provider: the item's id,
the reason code and the reason (bounded), never the body, so a flood of bad batches
cannot grow the database by what it sends.

An item the database could not hold (a lone surrogate in a string, a date that has no
UTC equivalent, a number too large for a column, NaN) is refused on its own as
`invalid` before anything is judged, so one such item never fails its batch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, insert, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from cmecore.protocol import Activity, CompletionIn, CompletionResult, CompletionStatus, LearnerProfile, RejectionCode
from cmecore.signatures import canonical_json

from ..db import Database
from ..lrs import enqueue_statements
from ..models import (ActivityRecord, ActivityVersion, Base, Certificate, Completion, CompletionAttempt, CompletionEvaluation,
                      CompletionRejection, Learner, utcnow)
from ..status_lists import CredentialIssuer, allocate
from .issuing import Accepted, accept
from .judging import CompletionSettings, Rejected, judge

log = logging.getLogger(__name__)

_REASON_LIMIT = 500  # CompletionResult.reason is ShortText
_LARGEST_INT = 2**63 - 1  # BIGINT, and SQLite's INTEGER
_EARLIEST, _LATEST = 1970, 9998  # years a completion's times may fall in (UTC), with room for date arithmetic
_IN_CHUNK = 500  # ids per SQL IN (…), well under every backend's parameter limit


@dataclass(frozen=True)
class _VersionKey:
    """Where one published version's JSON is, and what tells it from any other text stored
    under the same id and version (in another database, or before a re-publish): the
    activity's content hash for its current row, the time it was kept for older ones."""

    activity_id: str
    version: int
    table: str  # "current" (activities) or "kept" (activity_versions)
    stamp: str


class _ActivityCache:
    """Parsed activity versions. A version's JSON is read and parsed the first time a batch
    meets it; published versions never change, and `_VersionKey` says when one is another."""

    def __init__(self, maxsize: int = 4096) -> None:
        self._items: dict[_VersionKey, Activity | None] = {}
        self._maxsize = maxsize
        self._lock = threading.Lock()

    def get(self, s: Session, key: _VersionKey) -> Activity | None:
        """The activity (None: its stored JSON is not a valid activity)."""
        with self._lock:
            if key in self._items:
                return self._items[key]
        table = ActivityRecord if key.table == "current" else ActivityVersion
        ident = table.id if table is ActivityRecord else table.activity_id
        json_text = s.execute(select(table.json_text).where(ident == key.activity_id,
                                                            table.version == key.version)).scalar_one_or_none()
        try:
            act = Activity.model_validate_json(json_text) if json_text is not None else None
        except ValidationError:
            act = None
        with self._lock:
            if len(self._items) >= self._maxsize:
                self._items.clear()
            self._items[key] = act
        return act


_cache = _ActivityCache()


def process_batch(
    db: Database, raws: list[Any], learner_of: Callable[[Session], LearnerProfile], issuer: CredentialIssuer,
    settings: CompletionSettings, issuing: Callable[[], AbstractContextManager[Any]] = nullcontext,
) -> list[CompletionResult]:
    """One result per raw item, in order; the accepted ones and every refusal are stored.
    `learner_of` names the learner in the batch's own transaction (auth.learner_for_token:
    one transaction, not two), first: a request without a valid token is refused before
    any item is read, and before `issuing` (the finisher's "a batch is in flight") begins."""
    parsed: list[_Parsed] | None = None
    for attempt in range(3):
        try:
            with db.session() as s:
                learner = learner_of(s)
                if parsed is None:
                    parsed = [_parse(i, raw) for i, raw in enumerate(raws)]
                with issuing():
                    return _Batch(s, learner, issuer, settings).run(parsed)
        except (IntegrityError, OperationalError) as exc:
            # Another request stored the same id or activity meanwhile (or SQLite was busy):
            # judge the whole batch again; the other request's rows are then visible.
            if isinstance(exc, OperationalError) and "locked" not in str(exc).lower() and "busy" not in str(exc).lower():
                raise
            if attempt == 2:
                raise
            log.info("completion batch retried after %s", type(exc).__name__)
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- reading items


@dataclass
class _Parsed:
    index: int
    raw: Any
    item: CompletionIn | None = None
    body: dict[str, Any] | None = None
    content_hash: str = ""
    error: str = ""


def _parse(index: int, raw: Any) -> _Parsed:
    p = _Parsed(index, raw)
    try:
        p.item = CompletionIn.model_validate(raw)
    except ValidationError as exc:
        p.error = _first_error(exc)
        return p
    if problem := _unstorable(p.item.model_dump(), ""):
        p.item, p.error = None, problem
        return p
    p.body = p.item.model_dump(mode="json")
    p.content_hash = hashlib.sha256(canonical_json(p.body)).hexdigest()
    return p


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"{where}: {err.get('msg', 'invalid')}{more}" if where else f"{err.get('msg', 'invalid')}{more}"


def _unstorable(value: Any, where: str) -> str | None:
    """Why `value` (a dumped CompletionIn, walked) cannot be stored and answered, or None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"{where}: contains a lone surrogate (not valid Unicode text)"
    elif isinstance(value, bool):
        return None
    elif isinstance(value, int) and abs(value) > _LARGEST_INT:
        return f"{where}: the number is too large"
    elif isinstance(value, float) and not math.isfinite(value):
        return f"{where}: must be a finite number"
    elif isinstance(value, datetime):
        try:
            year = value.astimezone(UTC).year
        except (OverflowError, ValueError):
            year = 0
        if not _EARLIEST <= year <= _LATEST:
            return f"{where}: {value.isoformat()} is out of range (years {_EARLIEST}-{_LATEST} in UTC)"
    elif isinstance(value, date) and not _EARLIEST <= value.year <= _LATEST:
        return f"{where}: {value.isoformat()} is out of range (years {_EARLIEST}-{_LATEST})"
    elif isinstance(value, dict):
        for key, inner in value.items():
            if problem := _unstorable(key, where) or _unstorable(inner, f"{where}.{key}" if where else str(key)):
                return problem
    elif isinstance(value, list | tuple):
        for i, inner in enumerate(value):
            if problem := _unstorable(inner, f"{where}.{i}" if where else str(i)):
                return problem
    return None


def _bounded(reason: str) -> str:
    """A reason fit to answer and store: valid UTF-8 without NUL, at most _REASON_LIMIT characters."""
    text = reason.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
    return text if len(text) <= _REASON_LIMIT else text[: _REASON_LIMIT - 1] + "…"


def _raw_id(raw: Any) -> uuid.UUID | None:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        try:
            return uuid.UUID(raw["id"])
        except ValueError:
            return None
    return None


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i : i + _IN_CHUNK] for i in range(0, len(ids), _IN_CHUNK)]


# ---------------------------------------------------------------- judging the batch


class _Batch:
    """One pass over a batch inside one session: what is stored already, then each item in order.

    Items judged earlier in the batch count for later ones (an id or an activity credited
    by item 1 makes item 2 a duplicate or `already-credited`).
    """

    def __init__(self, session: Session, learner: LearnerProfile, issuer: CredentialIssuer,
                 settings: CompletionSettings) -> None:
        self.s = session
        self.learner = learner
        self.issuer = issuer
        self.settings = settings
        self.now = utcnow()
        self.results: list[CompletionResult] = []
        self.existing: dict[str, tuple[str, str, str]] = {}  # completion id → (learner, hash, result json)
        self.credited: dict[str, datetime] = {}  # activity id → when this learner completed it
        self.withdrawn: dict[str, bool] = {}  # activity id → withdrawn (for each activity on this server)
        self.versions: dict[tuple[str, int], _VersionKey] = {}  # (activity id, version) → where its JSON is
        self.rejections: list[dict[str, Any]] = []
        self.accepted: list[Accepted] = []

    def run(self, parsed: list[_Parsed]) -> list[CompletionResult]:
        good = [p.item for p in parsed if p.item is not None]
        if good:
            self._take_turn()
        self._load_stored(sorted({str(i.id) for i in good}), sorted({i.activity_id for i in good}))
        self._load_activities(sorted({i.activity_id for i in good}))
        for p in parsed:
            try:
                self._take(p)
            except (ValueError, ArithmeticError) as exc:  # a rule met a value it cannot handle: this item only
                log.warning("completion item %s could not be judged: %s", p.index, type(exc).__name__)
                self._reject(p, RejectionCode.invalid, "The completion could not be judged: a value is out of range.")
        self._store()
        return self.results

    def _store(self) -> None:
        """One INSERT per table (each many rows): the completions first, then the rows that
        point at them. Core inserts of plain values: no unit of work, no objects to track."""
        done = self.accepted
        if done:
            status = allocate(self.s, [a.record.id for a in done], self.issuer)
            self._insert(Completion, [a.completion for a in done])
            self._insert(CompletionAttempt, [row for a in done for row in a.attempts])
            self._insert(CompletionEvaluation, [row for a in done for row in a.evaluations])
            self._insert(Certificate, [a.certificate_row(self.learner, self.issuer, status[a.record.id], self.now)
                                       for a in done])
        self._insert(CompletionRejection, self.rejections)
        if done and self.settings.xapi is not None:  # for the LRS, in this transaction
            enqueue_statements(self.s, [Completion(**a.completion) for a in done], self.settings.xapi)

    def _insert(self, model: type[Base], rows: list[dict[str, Any]]) -> None:
        if rows:
            self.s.execute(insert(model.__table__), rows)

    def _take_turn(self) -> None:
        """Wait for this learner's other batches to commit (a retry racing the first send).

        On PostgreSQL a row lock on the learner, held to the end of this transaction: each
        batch then decides duplicate / already-credited on what the one before it stored,
        so no two of them insert the same completion and fall back on the retry. SQLite
        renders no lock (it has one writer at a time anyway); there the unique keys on the
        completion id and on (learner, activity) refuse the second insert and the batch
        is judged again (process_batch), seeing the first one's rows."""
        self.s.execute(select(Learner.id).where(Learner.id == self.learner.id).with_for_update(key_share=True))

    def _load_stored(self, ids: list[str], activity_ids: list[str]) -> None:
        """The completions this batch's items meet, by id (anyone's) or by activity (this
        learner's), read in ONE statement: on PostgreSQL each statement sees what was
        committed before it, so two queries could find a racing batch's completion by
        activity but not by id, and answer `already-credited` for a credited item.
        A batch has at most MAX_COMPLETION_BATCH items: one IN (…) each, well under every
        backend's parameter limit."""
        if not ids:
            return
        wanted, activities = set(ids), set(activity_ids)
        for row in self.s.execute(
            select(
                Completion.id, Completion.learner_id, Completion.activity_id, Completion.completed_at_corrected,
                Completion.content_hash, Completion.result_json,
            ).where(
                or_(
                    Completion.id.in_(ids),
                    and_(Completion.learner_id == self.learner.id, Completion.activity_id.in_(activity_ids)),
                )
            )
        ):
            if row.id in wanted:
                self.existing[row.id] = (row.learner_id, row.content_hash, row.result_json)
            if row.learner_id == self.learner.id and row.activity_id in activities:
                self.credited[row.activity_id] = row.completed_at_corrected

    def _load_activities(self, activity_ids: list[str]) -> None:
        """Which versions of these activities the server has, and where each one's JSON is
        (the activity's current row, or the versions kept since): keys of `_cache`, which
        reads a JSON text only the first time it meets it."""
        for part in _chunks(activity_ids):
            for row in self.s.execute(
                select(ActivityRecord.id, ActivityRecord.version, ActivityRecord.withdrawn, ActivityRecord.content_hash)
                .where(ActivityRecord.id.in_(part))
            ):
                self.withdrawn[row.id] = row.withdrawn
                self.versions[(row.id, row.version)] = _VersionKey(row.id, row.version, "current", row.content_hash)
            for row in self.s.execute(
                select(ActivityVersion.activity_id, ActivityVersion.version, ActivityVersion.published_at)
                .where(ActivityVersion.activity_id.in_(part))
            ):
                self.versions[(row.activity_id, row.version)] = _VersionKey(
                    row.activity_id, row.version, "kept", row.published_at.isoformat())

    def _take(self, p: _Parsed) -> None:
        """Answer one item: a duplicate, a rejection, or an accepted completion with its rows."""
        item = p.item
        if item is None:
            self._reject(p, RejectionCode.invalid, f"The completion could not be read: {p.error}")
            return
        cid = str(item.id)
        if cid in self.existing:
            self._resubmitted(p, cid)
            return
        act = self._activity_for(p, item)
        if act is None:
            return
        if item.activity_id in self.credited:
            self._reject(
                p, RejectionCode.already_credited,
                f"You already received credit for this activity (completed {self.credited[item.activity_id].date()}); "
                "credit is given once per activity.",
            )
            return
        try:
            graded = judge(item, act, self.learner, self.now, self.settings)
        except Rejected as r:
            self._reject(p, r.code, r.reason, r.score, r.passed)
            return
        done = accept(item, p.body or {}, p.content_hash, act, graded, self.learner, self.issuer, self.now)
        self.accepted.append(done)
        self.results.append(done.result.model_copy(update={"index": p.index}))
        self.existing[cid] = (self.learner.id, p.content_hash, done.result_json)
        self.credited[item.activity_id] = item.completed_at_corrected

    def _resubmitted(self, p: _Parsed, cid: str) -> None:
        """An id seen before: the stored result again, or a refusal when the content differs."""
        owner, content_hash, stored = self.existing[cid]
        if owner == self.learner.id and content_hash == p.content_hash:
            self.results.append(
                CompletionResult.model_validate(
                    {
                        **json.loads(stored),
                        "index": p.index,
                        "status": CompletionStatus.duplicate,
                        "reason": "Already received; this is the result given then.",
                    }
                )
            )
            return
        log.warning("conflicting resubmission of completion %s by learner %s", cid, self.learner.id)
        self._reject(
            p,
            RejectionCode.conflicting_resubmission,
            "conflicting resubmission: this completion id was already received with different content. "
            "The first record stands.",
        )

    def _activity_for(self, p: _Parsed, item: CompletionIn) -> Activity | None:
        """The version of the activity the learner took, or None after rejecting the item."""
        withdrawn = self.withdrawn.get(item.activity_id)
        if withdrawn is None:
            self._reject(p, RejectionCode.unknown_activity, f"There is no activity {item.activity_id!r} on this server.")
            return None
        if withdrawn:
            self._reject(p, RejectionCode.withdrawn, "This activity has been withdrawn by its provider; credit can no longer be claimed.")
            return None
        where = self.versions.get((item.activity_id, item.activity_version))
        act = _cache.get(self.s, where) if where else None
        if act is None:
            self._reject(
                p, RejectionCode.unknown_version,
                f"Version {item.activity_version} of this activity is not known to the server; sync the catalog and take the current version.",
            )
        return act

    def _reject(self, p: _Parsed, code: RejectionCode, reason: str, score: float | None = None, passed: bool | None = None) -> None:
        cid = p.item.id if p.item else _raw_id(p.raw)
        reason = _bounded(reason)
        self.results.append(
            CompletionResult(
                index=p.index,
                id=cid,
                status=CompletionStatus.rejected,
                reason=reason,
                reason_code=code,
                server_score=score,
                passed=passed,
            )
        )
        self.rejections.append(
            dict(
                learner_id=self.learner.id,
                completion_id=str(cid) if cid else None,
                reason_code=code.value,
                reason=reason,
                body_json="",  # the body is not kept: see the module docstring
                received_at=self.now,
            )
        )
