"""The credit-server protocol (`/api/v1`), written once.

The server builds its responses from these models and the client validates everything
it receives with them, so a malformed catalog is refused whole before anything is
applied. Pure pydantic: no Qt, no SQL, no HTTP.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

API_PREFIX = "/api/v1"

# Identifiers that come from the network never become file paths, but they are still
# held to a narrow alphabet so logs, URLs and SQL stay boring.
ActivityId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
ShortText = Annotated[str, StringConstraints(max_length=500)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
Mmdd = Annotated[str, StringConstraints(pattern=r"^(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$")]


def _check_asset_url(url: str) -> str:
    """An asset URL is a server-relative path or an absolute http(s) URL, never a way out.

    Refused: other schemes (file:, data:, javascript:), backslashes, control characters
    and any `..` segment, also when percent-encoded.
    """
    if not url or len(url) > 2048:
        raise ValueError("asset url must be 1-2048 characters")
    if any(ord(c) < 0x20 or c in "\\\x7f" for c in url):
        raise ValueError("asset url contains a control character or backslash")
    parts = urlsplit(url)
    if parts.scheme not in ("", "http", "https"):
        raise ValueError(f"asset url scheme {parts.scheme!r} is not allowed")
    if parts.scheme and not parts.netloc:
        raise ValueError("absolute asset url has no host")
    if not parts.scheme and (parts.netloc or not parts.path.startswith("/")):
        raise ValueError("relative asset url must start with '/'")
    segments = unquote(unquote(parts.path)).replace("\\", "/").split("/")
    if any(seg in ("..", ".") for seg in segments):
        raise ValueError("asset url must not contain '.' or '..' segments")
    return url


AssetUrl = Annotated[str, AfterValidator(_check_asset_url)]


class Model(BaseModel):
    # Unknown fields are ignored (newer servers may add some); wrong types are refused.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Profession(StrEnum):
    physician = "physician"
    physician_assistant = "physician_assistant"
    nurse_practitioner = "nurse_practitioner"
    nurse = "nurse"
    pharmacist = "pharmacist"
    other = "other"


class AssetKind(StrEnum):
    video = "video"
    transcript = "transcript"
    summary = "summary"


# ---------------------------------------------------------------- auth and profile


class TokenRequest(Model):
    username: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    device_name: ShortText = "CME Offline"


class RefreshRequest(Model):
    refresh_token: Annotated[str, StringConstraints(min_length=16, max_length=512)]


class LearnerProfile(Model):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    username: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    display_name: ShortText
    profession: Profession
    degree: ShortText = ""
    board_id: ShortText | None = None
    licence_state: ShortText | None = None
    licence_number: ShortText | None = None
    nabp_eprofile_id: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}$")] | None = None
    birth_mmdd: Mmdd | None = None


class TokenResponse(Model):
    access_token: Annotated[str, StringConstraints(min_length=16, max_length=512)]
    refresh_token: Annotated[str, StringConstraints(min_length=16, max_length=512)] | None = None
    token_type: Literal["bearer"] = "bearer"
    expires_in: Annotated[int, Field(gt=0)]
    learner: LearnerProfile


# ---------------------------------------------------------------- catalog


class Faculty(Model):
    name: ShortText
    credentials: ShortText = ""
    title: ShortText = ""
    affiliation: ShortText = ""
    bio: LongText = ""


class Disclosure(Model):
    person: ShortText
    role: ShortText = "faculty"  # faculty, planner, reviewer
    company: ShortText  # the ineligible company by name, or "None"
    nature: ShortText  # consulting, advisory board, speaker, research funding, …
    mitigated: bool = True


class Objective(Model):
    text: LongText
    children: Annotated[list[Objective], Field(max_length=20)] = []


class AccreditationStatement(Model):
    profession: Profession
    provider: ShortText
    credit_type: ShortText  # "AMA PRA Category 1 Credit", "ACPE contact hours", "Participation"
    max_credits: Annotated[float, Field(ge=0, le=100)]
    statement: LongText
    uan: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{4}-\d{2}-\d{3}-[A-Z]\d{2}-[PT]$")] | None = None
    activity_type: Literal["knowledge", "application", "practice"] | None = None
    contact_hours: Annotated[float, Field(ge=0, le=100)] | None = None


class Asset(Model):
    kind: AssetKind
    media_type: Annotated[str, StringConstraints(pattern=r"^[a-z]+/[A-Za-z0-9.+-]+$")]
    size: Annotated[int, Field(ge=0, le=50 * 1024**3)]
    sha256: Sha256
    url: AssetUrl
    title: ShortText = ""
    language: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] = "en"
    timed: bool = False  # transcripts: whether cues carry real timings


class AssessmentOption(Model):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    text: LongText


class AssessmentQuestion(Model):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    text: LongText
    kind: Literal["single", "multiple"] = "single"
    options: Annotated[list[AssessmentOption], Field(min_length=2, max_length=12)]
    correct: Annotated[list[str], Field(min_length=1)]  # option ids; the answer check data
    rationale: LongText = ""


class Assessment(Model):
    passing_score: Annotated[int, Field(ge=0, le=100)]  # percent
    attempts_allowed: Annotated[int, Field(ge=1)] | None = None  # None: unlimited
    shuffle_options: bool = False
    questions: Annotated[list[AssessmentQuestion], Field(min_length=1, max_length=200)]


class EvaluationQuestion(Model):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    text: LongText
    kind: Literal["rating", "text", "commitment"] = "rating"
    scale: Annotated[int, Field(ge=2, le=10)] = 5
    required: bool = False


class Participation(Model):
    min_watched_share: Annotated[float, Field(ge=0, le=1)] = 0.0


class Activity(Model):
    id: ActivityId
    version: Annotated[int, Field(ge=1)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    description: LongText = ""
    highlights: Annotated[list[ShortText], Field(max_length=50)] = []
    format: ShortText = "enduring material"
    audience: ShortText = ""
    release_date: date
    review_date: date | None = None
    termination_date: date
    estimated_minutes: Annotated[int, Field(ge=0, le=100_000)] = 0
    providers: Annotated[list[ShortText], Field(min_length=1, max_length=5)]
    commercial_support: LongText = ""
    off_label_statement: LongText = ""
    transcript_machine_generated: bool = False
    faculty: Annotated[list[Faculty], Field(max_length=100)] = []
    disclosures: Annotated[list[Disclosure], Field(max_length=500)] = []
    objectives: Annotated[list[Objective], Field(max_length=50)] = []
    accreditation: Annotated[list[AccreditationStatement], Field(min_length=1, max_length=20)]
    assets: Annotated[list[Asset], Field(max_length=100)] = []
    assessment: Assessment | None = None
    evaluation: Annotated[list[EvaluationQuestion], Field(max_length=100)] = []
    participation: Participation = Participation()


class Catalog(Model):
    """`GET /catalog[?since=cursor]`.

    `full` is true when `activities` is the whole catalog (no `since`, or a cursor the
    server no longer knows); otherwise it holds only what changed after `since`, and
    `withdrawn` the ids removed since then.
    """

    cursor: Annotated[int, Field(ge=0)]
    full: bool
    activities: Annotated[list[Activity], Field(max_length=20_000)]
    withdrawn: Annotated[list[ActivityId], Field(max_length=20_000)] = []


class Problem(Model):
    """RFC 9457 problem details, as every error response carries."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""


class ServerInfo(Model):
    name: str
    api_version: Literal[1] = 1
    time: datetime


PROBLEM_TYPE_BASE = "https://cme-offline.example/problems/"


class ProblemType(StrEnum):
    """The stable `type` URIs of the credit server's problem documents (docs/protocol.md).

    Switch on these, not on titles. Other statuses use "about:blank".
    """

    invalid_credentials = PROBLEM_TYPE_BASE + "invalid-credentials"  # 401: wrong username or password
    unauthorized = PROBLEM_TYPE_BASE + "unauthorized"  # 401: no, unknown or revoked access token
    token_expired = PROBLEM_TYPE_BASE + "token-expired"  # 401: refresh the access token (or sign in)
    token_revoked = PROBLEM_TYPE_BASE + "token-revoked"  # 401: the refresh token is dead: sign in again
    not_found = PROBLEM_TYPE_BASE + "not-found"  # 404
    method_not_allowed = PROBLEM_TYPE_BASE + "method-not-allowed"  # 405
    invalid_request = PROBLEM_TYPE_BASE + "invalid-request"  # 422, with an `errors` list
    range_not_satisfiable = PROBLEM_TYPE_BASE + "range-not-satisfiable"  # 416
    server_error = PROBLEM_TYPE_BASE + "server-error"  # 500
