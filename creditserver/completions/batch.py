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
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from cmecore.protocol import Activity, CompletionIn, CompletionResult, CompletionStatus, LearnerProfile, RejectionCode
from cmecore.signatures import canonical_json

from ..db import Database
from ..lrs import enqueue_statements
from ..models import ActivityRecord, ActivityVersion, Completion, CompletionRejection, Learner, utcnow
from ..status_lists import CredentialIssuer
from .issuing import accepted_rows
from .judging import CompletionSettings, Rejected, judge

log = logging.getLogger(__name__)

_REASON_LIMIT = 500  # CompletionResult.reason is ShortText
_LARGEST_INT = 2**63 - 1  # BIGINT, and SQLite's INTEGER
_EARLIEST, _LATEST = 1970, 9998  # years a completion's times may fall in (UTC), with room for date arithmetic
_IN_CHUNK = 500  # ids per SQL IN (…), well under every backend's parameter limit


class _ActivityCache:
    """Parsed activity versions by (id, version). Published versions never change."""

    def __init__(self, maxsize: int = 4096) -> None:
        self._items: dict[tuple[str, int, str], Activity] = {}
        self._maxsize = maxsize

    def get(self, activity_id: str, version: int, json_text: str) -> Activity | None:
        key = (activity_id, version, hashlib.sha256(json_text.encode()).hexdigest())
        act = self._items.get(key)
        if act is None:
            try:
                act = Activity.model_validate_json(json_text)
            except ValidationError:
                return None
            if len(self._items) >= self._maxsize:
                self._items.clear()
            self._items[key] = act
        return act


_cache = _ActivityCache()


def process_batch(
    db: Database, raws: list[Any], learner: LearnerProfile, issuer: CredentialIssuer, settings: CompletionSettings
) -> list[CompletionResult]:
    """One result per raw item, in order; the accepted ones and every refusal are stored."""
    parsed = [_parse(i, raw) for i, raw in enumerate(raws)]
    for attempt in range(3):
        try:
            with db.session() as s:
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
        self.records: dict[str, ActivityRecord] = {}
        self.versions: dict[tuple[str, int], str] = {}  # (activity id, version) → its JSON
        self.rejections: list[CompletionRejection] = []
        self.parents: list[Completion] = []
        self.children: list[Any] = []

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
        # Completions first (one flush), then the rows that point at them.
        self.s.add_all(self.parents)
        self.s.flush()
        self.s.add_all(self.children)
        self.s.add_all(self.rejections)
        enqueue_statements(self.s, self.parents, self.settings.xapi)  # for the LRS, in this transaction
        return self.results

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
        for part in _chunks(activity_ids):
            for rec in self.s.execute(select(ActivityRecord).where(ActivityRecord.id.in_(part))).scalars():
                self.records[rec.id] = rec
                self.versions[(rec.id, rec.version)] = rec.json_text
            for row in self.s.execute(
                select(ActivityVersion.activity_id, ActivityVersion.version, ActivityVersion.json_text).where(
                    ActivityVersion.activity_id.in_(part)
                )
            ):
                self.versions[(row.activity_id, row.version)] = row.json_text

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
        result, parent, kids = accepted_rows(self.s, item, p.body or {}, p.content_hash, act, graded, self.learner,
                                            self.issuer, self.now)
        self.parents.append(parent)
        self.children.extend(kids)
        self.results.append(result.model_copy(update={"index": p.index}))
        self.existing[cid] = (self.learner.id, p.content_hash, result.model_dump_json(exclude={"index"}))
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
        rec = self.records.get(item.activity_id)
        if rec is None:
            self._reject(p, RejectionCode.unknown_activity, f"There is no activity {item.activity_id!r} on this server.")
            return None
        if rec.withdrawn:
            self._reject(p, RejectionCode.withdrawn, "This activity has been withdrawn by its provider; credit can no longer be claimed.")
            return None
        json_text = self.versions.get((item.activity_id, item.activity_version))
        act = _cache.get(item.activity_id, item.activity_version, json_text) if json_text else None
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
            CompletionRejection(
                learner_id=self.learner.id,
                completion_id=str(cid) if cid else None,
                reason_code=code.value,
                reason=reason,
                body_json="",  # the body is not kept: see the module docstring
                received_at=self.now,
            )
        )
