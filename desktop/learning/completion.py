"""The completion a claim sends: the learner's records of one activity as a protocol
`CompletionIn`. Pure (no cache, no clock): the caller passes the id and the times.

The payload is stored with the claim and later sent exactly as built, so it records what
the server needs to re-judge the claim on its own: the version acknowledged, when the
learner started and finished (local and server-corrected), every submitted attempt, the
evaluation, the watched share and the claim itself (rules 1-8).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Protocol

from cmecore import protocol
from cmecore.rules.claims import reported_ids
from desktop.learning.state import ActivityRules


class ClaimantIds(Protocol):
    """What a claim takes from the learner's profile (`desktop.cache.learners.LearnerIds`)."""

    profession: str
    nabp_eprofile_id: str | None
    birth_mmdd: str | None
    board_id: str | None
    licence_state: str | None
    licence_number: str | None


class AttemptRecord(Protocol):
    """One post-test attempt as kept (`desktop.cache.learning_store.AttemptRow`)."""

    id: str
    number: int
    answers: dict[str, list[str]]
    started_at: datetime
    submitted_at: datetime | None
    local_score: float | None
    local_passed: bool | None


def build_completion(
    *,
    completion_id: uuid.UUID,
    rules: ActivityRules,
    learner: ClaimantIds,
    credit_type: str,
    credits: float,
    attested_minutes: int | None,
    reporting_consent: bool,
    acknowledged_at: datetime,
    attempts: Sequence[AttemptRecord],
    watched_share: float,
    evaluation: dict | None,
    now: datetime,
    corrected_now: datetime,
) -> protocol.CompletionIn:
    """The CompletionIn for this claim.

    Times are naive UTC on the device clock (the cache's convention) except `corrected_now`
    (aware, server-corrected). Only submitted attempts are sent. The learner started at the
    acknowledgement or the first attempt, whichever came first, and finished now or at the
    last submission if the device clock went back since. A pharmacist's claim carries the
    NABP e-Profile id, anyone else's their board and licence.
    """
    submitted = [a for a in attempts if a.submitted_at is not None]
    started = min([acknowledged_at] + [a.started_at for a in submitted])
    completed = max([now, started] + [a.submitted_at for a in submitted])
    ids = {f.name: getattr(learner, f.name) for f in reported_ids(learner.profession)}
    claim = protocol.CreditClaim(
        profession=learner.profession, credit_type=credit_type, credits_claimed=float(credits),
        attested_minutes=int(attested_minutes) if attested_minutes is not None else None,
        reporting_consent=reporting_consent,
        nabp_eprofile_id=ids.get("nabp_eprofile_id"),
        birth_mmdd=ids.get("birth_mmdd"),
        board_id=ids.get("board_id"),
        licence_state=ids.get("licence_state"),
        licence_number=ids.get("licence_number"),
    )
    return protocol.CompletionIn(
        id=completion_id,
        activity_id=rules.id,
        activity_version=rules.version,
        disclosures_acknowledged_at=_aware(min(acknowledged_at, started)),
        started_at=_aware(started),
        completed_at=_aware(completed),
        completed_at_corrected=corrected_now,
        watched_share=round(min(1.0, watched_share), 4),
        attempts=[
            protocol.AttemptRecord(
                id=a.id, number=a.number, started_at=_aware(a.started_at),
                submitted_at=_aware(max(a.submitted_at, a.started_at)), answers=a.answers,
                local_score=a.local_score or 0.0, local_passed=bool(a.local_passed),
            )
            for a in submitted
        ],
        evaluation=_evaluation(evaluation),
        claim=claim,
    )


def _evaluation(responses: dict | None) -> protocol.EvaluationResponse | None:
    if responses is None:
        return None
    return protocol.EvaluationResponse(
        ratings=responses.get("ratings") or {},
        texts={qid: _sendable(text) for qid, text in (responses.get("texts") or {}).items()},
        commitments=[_sendable(text) for text in responses.get("commitments") or []],
        reminder_weeks=responses.get("reminder_weeks"),
    )


def _sendable(text: str) -> str:
    """The learner's own words as the protocol takes them: a NUL (pasted in, invisible) is
    dropped, since the server refuses text holding one (protocol.refuse_nul)."""
    return text.replace("\x00", "")


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=timezone.utc)
