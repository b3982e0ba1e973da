"""The xAPI statements an accepted completion becomes, cmi5-style (pure: no I/O).

A provider's learning record store wants the same facts the certificate records, in the
vocabulary every LRS understands: ADL's `completed` verb for the activity, `passed` with
the server's score where the activity has a post-test, and, if the provider turns them on,
each post-test attempt (`passed`/`failed` with its score) and the share of the video
watched (`progressed`, with cmi5's progress extension).

Every statement id is derived from the completion, never random, so sending one again can
never make a second record: `completed` carries the completion's own id, every other
statement a UUIDv5 of it (`statement_id`). The statement JSON is made once, when the
completion is accepted, and stored as sent (outbox.py), so a resend is byte for byte the
same statement and an LRS answers 204 or 409 to it, never a second copy.

The learner is an Agent with an `account` on this server (homePage = the server's public
URL, name = the learner id): no name, no email leaves the server. The activity is an IRI
under the public URL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

XAPI_VERSION = "1.0.3"
# UUIDv5 namespace for statement ids derived from a completion id (uuid5(NAMESPACE_URL, …) of our own IRI).
STATEMENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:cme-offline:xapi-statement")

VERBS = {
    "completed": "http://adlnet.gov/expapi/verbs/completed",
    "passed": "http://adlnet.gov/expapi/verbs/passed",
    "failed": "http://adlnet.gov/expapi/verbs/failed",
    "progressed": "http://adlnet.gov/expapi/verbs/progressed",
}
ACTIVITY_TYPE = "http://adlnet.gov/expapi/activities/course"
ASSESSMENT_TYPE = "http://adlnet.gov/expapi/activities/assessment"
CMI5_PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"
PLATFORM = "CME Offline"

# What a provider may add to the statements every completion sends (`--lrs-send`).
OPTIONAL_KINDS = ("attempts", "watched")


@dataclass(frozen=True)
class XapiReporting:
    """What to report and under which address: `public_url` names the learner's account
    and the activities (it must stay the same for the records to add up); `send` holds
    the optional kinds (OPTIONAL_KINDS) the provider turned on."""

    public_url: str
    send: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = set(self.send) - set(OPTIONAL_KINDS)
        if unknown:
            raise ValueError(f"--lrs-send: unknown {', '.join(sorted(unknown))} (choose from {', '.join(OPTIONAL_KINDS)})")
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))


@dataclass(frozen=True)
class ActivityFacts:
    """The few facts of the activity version taken that a statement names."""

    id: str
    version: int
    title: str
    description: str = ""
    passing_score: float | None = None  # None: no post-test


@dataclass(frozen=True)
class AttemptFacts:
    id: str
    number: int
    started_at: datetime
    submitted_at: datetime
    score: float | None  # the server's grade, percent
    passed: bool | None


@dataclass(frozen=True)
class CompletionFacts:
    """An accepted completion as the statements need it (read from its stored row)."""

    id: str
    learner_id: str
    started_at: datetime
    completed_at: datetime  # on the server-corrected clock
    score: float | None  # percent, the server's grade of the passing attempt
    watched_share: float
    attested_minutes: int | None


@dataclass(frozen=True)
class Statement:
    id: str
    kind: str  # completed, passed, failed, progressed
    body: dict[str, Any]


def statement_id(completion_id: str, kind: str) -> str:
    """`completed` → the completion id itself; any other kind → a UUIDv5 of (completion id, kind)."""
    if kind == "completed":
        return str(uuid.UUID(completion_id))
    return str(uuid.uuid5(STATEMENT_NAMESPACE, f"{uuid.UUID(completion_id)}/{kind}"))


def completion_statements(
    completion: CompletionFacts, activity: ActivityFacts, attempts: list[AttemptFacts], reporting: XapiReporting
) -> list[Statement]:
    """The statements for one accepted completion, in the order they happened."""
    builder = _Builder(completion, activity, reporting)
    out: list[Statement] = []
    if "watched" in reporting.send:
        out.append(builder.progressed())
    if "attempts" in reporting.send:
        out.extend(builder.attempt(a) for a in attempts if a.score is not None)
    out.append(builder.completed())
    if activity.passing_score is not None and completion.score is not None:
        out.append(builder.passed())
    return out


def iso_duration(seconds: float) -> str:
    """ISO 8601 duration as xAPI wants it (PT…H…M…S, whole seconds): 3725 → PT1H2M5S, 0 → PT0S."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return text + (f"{secs}S" if secs or text == "PT" else "")


def iso_time(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Builder:
    def __init__(self, completion: CompletionFacts, activity: ActivityFacts, reporting: XapiReporting) -> None:
        self.c = completion
        self.a = activity
        self.base = reporting.public_url
        self.activity_iri = f"{self.base}/activities/{quote(activity.id, safe='')}"

    def completed(self) -> Statement:
        result = {"completion": True, "duration": self._duration()}
        return self._statement("completed", self._activity(), result, self.c.completed_at)

    def passed(self) -> Statement:
        result = {"success": True, "score": _score(self.c.score), "duration": self._duration()}
        return self._statement("passed", self._activity(), result, self.c.completed_at)

    def progressed(self) -> Statement:
        share = self.c.watched_share
        result = {"extensions": {CMI5_PROGRESS: max(0, min(100, round(share * 100)))}}
        return self._statement("progressed", self._activity(), result, self.c.completed_at)

    def attempt(self, a: AttemptFacts) -> Statement:
        verb = "passed" if a.passed else "failed"
        result = {
            "success": bool(a.passed),
            "score": _score(a.score),
            "duration": iso_duration((a.submitted_at - a.started_at).total_seconds()),
        }
        obj = {
            "objectType": "Activity",
            "id": f"{self.activity_iri}/post-test",
            "definition": {"name": {"en-US": f"Post-test: {self.a.title}"}, "type": ASSESSMENT_TYPE},
        }
        extra = {"contextActivities": {"parent": [{"objectType": "Activity", "id": self.activity_iri}]},
                 "extensions": {f"{self.base}/xapi/attempt-number": a.number}}
        sid = str(uuid.uuid5(STATEMENT_NAMESPACE, f"{uuid.UUID(self.c.id)}/attempt/{uuid.UUID(a.id)}"))
        return Statement(sid, verb, self._body(sid, verb, obj, result, a.submitted_at, extra))

    # ------------------------------------------------------------ parts

    def _statement(self, kind: str, obj: dict[str, Any], result: dict[str, Any], when: datetime) -> Statement:
        sid = statement_id(self.c.id, kind)
        return Statement(sid, kind, self._body(sid, kind, obj, result, when, {}))

    def _body(self, sid: str, verb: str, obj: dict[str, Any], result: dict[str, Any], when: datetime,
              extra_context: dict[str, Any]) -> dict[str, Any]:
        context: dict[str, Any] = {
            "platform": PLATFORM,
            "extensions": {f"{self.base}/xapi/activity-version": self.a.version,
                           f"{self.base}/xapi/completion": self.c.id},
        }
        for key, value in extra_context.items():
            context[key] = {**context[key], **value} if key in context else value
        return {
            "id": sid,
            "actor": {"objectType": "Agent", "account": {"homePage": self.base, "name": self.c.learner_id}},
            "verb": {"id": VERBS[verb], "display": {"en-US": verb}},
            "object": obj,
            "result": result,
            "context": context,
            "timestamp": iso_time(when),
            "version": XAPI_VERSION,
        }

    def _activity(self) -> dict[str, Any]:
        definition: dict[str, Any] = {"name": {"en-US": self.a.title}, "type": ACTIVITY_TYPE}
        if self.a.description:
            definition["description"] = {"en-US": self.a.description[:1000]}
        return {"objectType": "Activity", "id": self.activity_iri, "definition": definition}

    def _duration(self) -> str:
        """The learner's attested time where the claim states it, else the time measured
        from start to completion."""
        if self.c.attested_minutes is not None:
            return iso_duration(self.c.attested_minutes * 60)
        return iso_duration((self.c.completed_at - self.c.started_at).total_seconds())


def _score(percent: float | None) -> dict[str, float]:
    value = float(percent or 0.0)
    return {"scaled": round(value / 100, 4), "raw": value, "min": 0.0, "max": 100.0}
