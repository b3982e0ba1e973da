"""The credit-server protocol (`/api/v1`), written once.

The server builds its responses from these models and the client validates everything
it receives with them, so a malformed catalog is refused whole before anything is
applied. Pure pydantic: no Qt, no SQL, no HTTP.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from cmecore import profile
from cmecore.profile import Profession  # a profile field; the protocol's users import it from here too

API_PREFIX = "/api/v1"

# Identifiers that come from the network never become file paths, but they are still
# held to a narrow alphabet so logs, URLs and SQL stay boring.
ACTIVITY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$"
ActivityId = Annotated[str, StringConstraints(pattern=ACTIVITY_ID_PATTERN)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
NUL_REFUSED = "contains a NUL character (U+0000), which text may not hold"


def refuse_nul(text: str) -> str:
    """No text of the protocol holds U+0000: PostgreSQL cannot store it (nor can much other
    software show it), so it is refused where text comes in, with the field named (a
    completion batch refuses that item alone). Patterned fields exclude it by their pattern."""
    if "\x00" in text:
        raise ValueError(NUL_REFUSED)
    return text


NoNul = AfterValidator(refuse_nul)
ShortText = Annotated[str, StringConstraints(max_length=500), NoNul]
LongText = Annotated[str, StringConstraints(max_length=20_000), NoNul]


def _profile_constraints(field: profile.ProfileField) -> StringConstraints:
    """A profile field's limits (cmecore.profile) as pydantic constraints: its pattern, or its lengths."""
    if field.pattern is not None:
        return StringConstraints(pattern=field.pattern)
    return StringConstraints(min_length=field.min_length or None, max_length=field.max_length)


LearnerId = Annotated[str, _profile_constraints(profile.LEARNER_ID)]
Username = Annotated[str, _profile_constraints(profile.USERNAME), NoNul]
ProfileText = Annotated[str, _profile_constraints(profile.DISPLAY_NAME), NoNul]  # every free-text profile field
NabpEprofileId = Annotated[str, _profile_constraints(profile.NABP_EPROFILE_ID)]
Mmdd = Annotated[str, _profile_constraints(profile.BIRTH_MMDD)]


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
    # Not defer_build (issue 15): it saves the GUI 0.4 MB while playing, but FastAPI then
    # builds each request model at its first request and pydantic warns there (Body alias).
    model_config = ConfigDict(extra="ignore", frozen=True)


class AssetKind(StrEnum):
    video = "video"
    transcript = "transcript"
    summary = "summary"


# ---------------------------------------------------------------- auth and profile


class TokenRequest(Model):
    username: Annotated[str, StringConstraints(min_length=1, max_length=200), NoNul]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1000), NoNul]
    device_name: ShortText = "CME Offline"


class RefreshRequest(Model):
    refresh_token: Annotated[str, StringConstraints(min_length=16, max_length=512), NoNul]


class SetPasswordRequest(Model):
    """`POST /auth/set-password`: a learner imported without a password chooses one with the
    one-time code their provider gave them (`cme-credit-server learner import`)."""

    username: Annotated[str, StringConstraints(min_length=1, max_length=200), NoNul]
    code: Annotated[str, StringConstraints(min_length=1, max_length=100), NoNul]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1000), NoNul]


class LearnerProfile(Model):
    """`GET /me`: who the learner is. Fields and limits: cmecore.profile.LEARNER_FIELDS."""

    id: LearnerId
    username: Username
    display_name: ProfileText
    profession: Profession
    degree: ProfileText = ""
    board_id: ProfileText | None = None
    licence_state: ProfileText | None = None
    licence_number: ProfileText | None = None
    nabp_eprofile_id: NabpEprofileId | None = None
    birth_mmdd: Mmdd | None = None


KeyId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
# A raw 32-byte Ed25519 public key, standard base64 (44 characters with padding).
Ed25519PublicKeyB64 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{43}=$")]


class TokenResponse(Model):
    access_token: Annotated[str, StringConstraints(min_length=16, max_length=512)]
    refresh_token: Annotated[str, StringConstraints(min_length=16, max_length=512)] | None = None
    token_type: Literal["bearer"] = "bearer"
    expires_in: Annotated[int, Field(gt=0)]
    learner: LearnerProfile
    # The key that signs certificate credentials (as in GET /keys), so a client can verify
    # certificates offline. Optional: older servers do not send it.
    server_public_key: Ed25519PublicKeyB64 | None = None
    key_id: KeyId | None = None


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
    # The activity's id in ACCME's PARS (the "ACCME Activity ID", 9 digits as ACCME issues
    # them): physicians' credit is reported against it (`report --pars`, docs/reporting.md).
    accme_activity_id: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}$")] | None = None
    activity_type: Literal["knowledge", "application", "practice"] | None = None
    contact_hours: Annotated[float, Field(ge=0, le=100)] | None = None


class Signatory(Model):
    """Who signs the activity's certificates, printed under a signature line (rule 7)."""

    name: ShortText
    title: ShortText = ""  # e.g. "Director of Continuing Education"


class RenditionKind(StrEnum):
    """The forms of an activity's video a server may offer (docs/protocol.md, "Renditions").

    `original` is the provider's own file (the asset itself); `small` a smaller video that
    keeps slides legible; `audio` sound only. Largest first.
    """

    original = "original"
    small = "small"
    audio = "audio"


class Rendition(Model):
    """Another form of a video asset, made by the server at publish: its own content-addressed
    file. Watch progress is in media time, so it holds whichever form is played."""

    kind: RenditionKind
    media_type: Annotated[str, StringConstraints(pattern=r"^[a-z]+/[A-Za-z0-9.+-]+$")]
    size: Annotated[int, Field(ge=0, le=50 * 1024**3)]
    sha256: Sha256
    url: AssetUrl
    duration_ms: Annotated[int, Field(ge=0, le=100 * 3600 * 1000)] | None = None
    width: Annotated[int, Field(ge=1, le=16384)] | None = None  # None: audio only
    height: Annotated[int, Field(ge=1, le=16384)] | None = None
    bitrate: Annotated[int, Field(ge=0, le=10**9)] | None = None  # bits per second, all streams


class Asset(Model):
    kind: AssetKind
    media_type: Annotated[str, StringConstraints(pattern=r"^[a-z]+/[A-Za-z0-9.+-]+$")]
    size: Annotated[int, Field(ge=0, le=50 * 1024**3)]
    sha256: Sha256
    url: AssetUrl
    title: ShortText = ""
    language: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] = "en"
    timed: bool = False  # transcripts: whether cues carry real timings
    # Transcripts with `timed`: where the timings come from. "file": the provider's own;
    # "audio": estimated by the server at publish from the video's speech (clients show
    # "timings estimated from the audio"); the provider's untimed text is `source_sha256`.
    timing: Literal["file", "audio"] = "file"
    source_sha256: Sha256 | None = None
    # Video and audio: the media's length, read by the server at publish. Clients spread an
    # untimed transcript over it, so every cue has one time whatever arrives first.
    duration_ms: Annotated[int, Field(ge=0, le=100 * 3600 * 1000)] | None = None
    # Video: the other forms the server made of this file (never `original`: the asset's own
    # fields are the original). Older servers send none; older clients ignore the field.
    renditions: Annotated[list[Rendition], Field(max_length=10)] = []
    # Video: the original's picture size and bitrate, when the server read them at publish.
    width: Annotated[int, Field(ge=1, le=16384)] | None = None
    height: Annotated[int, Field(ge=1, le=16384)] | None = None
    bitrate: Annotated[int, Field(ge=0, le=10**9)] | None = None


class AssessmentOption(Model):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    text: LongText


class AssessmentQuestion(Model):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    text: LongText
    kind: Literal["single", "multiple"] = "single"
    options: Annotated[list[AssessmentOption], Field(min_length=2, max_length=12)]
    correct: Annotated[list[Annotated[str, NoNul]], Field(min_length=1)]  # option ids; the answer check data
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
    title: Annotated[str, StringConstraints(min_length=1, max_length=500), NoNul]
    description: LongText = ""
    highlights: Annotated[list[ShortText], Field(max_length=50)] = []
    format: ShortText = "enduring material"
    audience: ShortText = ""
    release_date: date
    review_date: date | None = None
    termination_date: date
    estimated_minutes: Annotated[int, Field(ge=0, le=100_000)] = 0
    providers: Annotated[list[ShortText], Field(min_length=1, max_length=5)]
    # The providers' accreditation (or joint providership) statement, printed on every
    # certificate beside the credit designation statement for the learner's profession.
    accreditation_statement: LongText = ""
    signatory: Signatory | None = None  # None: the certificate has no signature line
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
    # When the evaluation may be filled in: "after_test" once the post-test is passed (the
    # default), "any_time" once the disclosures are acknowledged (rule 4 still needs the pass
    # to claim credit).
    evaluation_opens: Literal["after_test", "any_time"] = "after_test"
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


class SignedActivity(Model):
    """`GET /activities/{id}/signed`: an activity's JSON exactly as published, with the
    server's Ed25519 signature over it (cmecore.signatures.activity_signing_input), for
    content packs that are checked offline. `activity` is kept as raw JSON: re-serialising
    it through the model could change what was signed."""

    activity: dict[str, Any]
    key_id: KeyId
    signature: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{80,100}$")]


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
    payload_too_large = PROBLEM_TYPE_BASE + "payload-too-large"  # 413: the request body is over the limit
    too_many_sign_ins = PROBLEM_TYPE_BASE + "too-many-sign-ins"  # 429: failed sign-ins; wait Retry-After seconds
    activity_withdrawn = PROBLEM_TYPE_BASE + "activity-withdrawn"  # 403: media of a withdrawn activity, not completed
    certificate_not_ready = PROBLEM_TYPE_BASE + "certificate-not-ready"  # 503: PDF still being made; wait Retry-After s
    server_error = PROBLEM_TYPE_BASE + "server-error"  # 500


# ---------------------------------------------------------------- earning credit
#
# The client records a completion offline and sends it later in a batch; its `id` (a UUID
# the client makes when the learner finishes) is the idempotency key. The server re-grades
# the answers against its own answer key, checks the accreditation rules (DOMAIN.md 1-8)
# and answers per item. See docs/protocol.md, "Completions".

MAX_COMPLETION_BATCH = 500
QuestionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
OptionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
CertificateId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]


class AttemptRecord(Model):
    """One post-test attempt, as the learner submitted it. Every attempt is sent, never overwritten (rule 4)."""

    id: UUID
    number: Annotated[int, Field(ge=1, le=1000)]  # 1, 2, 3 … in order
    started_at: AwareDatetime
    submitted_at: AwareDatetime
    answers: Annotated[dict[QuestionId, Annotated[list[OptionId], Field(max_length=12)]], Field(max_length=200)]
    local_score: Annotated[float, Field(ge=0, le=100)]  # percent, as the client graded it (not trusted)
    local_passed: bool


class EvaluationResponse(Model):
    """The learner's evaluation (rule 5): ratings and free text keyed by evaluation question id."""

    ratings: Annotated[dict[QuestionId, Annotated[int, Field(ge=0, le=10)]], Field(max_length=100)] = {}
    texts: Annotated[dict[QuestionId, LongText], Field(max_length=100)] = {}
    commitments: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=2000), NoNul]], Field(max_length=3)] = []
    reminder_weeks: Annotated[int, Field(ge=1, le=52)] | None = None  # "remind me about my commitments"


class CreditClaim(Model):
    """What the learner claims (rule 6) and whether the provider may report it (rule 8)."""

    profession: Profession
    credit_type: ShortText  # must equal the credit_type of the activity's statement for this profession
    credits_claimed: Annotated[float, Field(ge=0, le=100)]
    attested_minutes: Annotated[int, Field(ge=0, le=100_000)] | None = None  # required for AMA PRA claims
    reporting_consent: bool  # permission to report to PARS / CME Passport or CPE Monitor, per claim
    nabp_eprofile_id: NabpEprofileId | None = None  # pharmacists: required
    birth_mmdd: Mmdd | None = None  # pharmacists: required; physicians: for PARS, optional
    board_id: ProfileText | None = None  # PARS, optional
    licence_state: ProfileText | None = None  # PARS, optional
    licence_number: ProfileText | None = None  # PARS, optional


class CompletionIn(Model):
    """One finished activity, sent from the client's outbox.

    Times are UTC ISO 8601 with an offset. `completed_at` is the client's own clock;
    `completed_at_corrected` is the same moment on the server-corrected clock (own clock +
    the offset learnt from the server's `Date` header), which the server judges dates by.
    """

    id: UUID  # made by the client when the learner finishes; the idempotency key
    activity_id: ActivityId
    activity_version: Annotated[int, Field(ge=1)]
    disclosures_acknowledged_at: AwareDatetime | None = None  # must be at or before started_at (rule 1)
    started_at: AwareDatetime
    completed_at: AwareDatetime
    completed_at_corrected: AwareDatetime
    watched_share: Annotated[float, Field(ge=0, le=1)]
    attempts: Annotated[list[AttemptRecord], Field(max_length=1000)] = []
    evaluation: EvaluationResponse | None = None
    claim: CreditClaim


class CompletionBatch(Model):
    """`POST /completions`. The server validates each item on its own, so one malformed item
    is rejected alone (its `reason` names the field) and the others still count."""

    completions: Annotated[list[CompletionIn], Field(min_length=1, max_length=MAX_COMPLETION_BATCH)]


class CompletionStatus(StrEnum):
    accepted = "accepted"  # stored now; passed, a certificate was issued
    duplicate = "duplicate"  # this id was stored before with the same content: the stored result again
    rejected = "rejected"  # not stored, nothing credited; `reason` says why in plain words


class RejectionCode(StrEnum):
    """Why an item was rejected; stable, for clients to switch on (`reason` is for people)."""

    invalid = "invalid"  # malformed item; reason names the field
    conflicting_resubmission = "conflicting-resubmission"  # this id is already stored with other content
    unknown_activity = "unknown-activity"
    withdrawn = "withdrawn"
    unknown_version = "unknown-version"
    not_released = "not-released"
    terminated = "terminated"  # completed after the termination date, or past the 3-year limit
    grace_expired = "grace-expired"  # completed in time but synced after termination + the server's grace
    clock = "clock"  # times out of order or in the future
    disclosures = "disclosures"  # not acknowledged before starting (rule 1)
    participation = "participation"  # watched share below the activity's minimum
    attempts = "attempts"  # more attempts than the activity allows, or attempts not numbered 1..n
    not_passed = "not-passed"  # the server's re-grade is below the passing score
    evaluation = "evaluation"  # missing or incomplete evaluation (rule 5)
    claim = "claim"  # claim breaks rule 6 (steps, maximum, attestation, credit type, profession)
    pharmacist_ids = "pharmacist-ids"  # NABP e-Profile ID and birth MMDD missing (rule 6)
    already_credited = "already-credited"  # another completion of this activity already earned credit


class CompletionResult(Model):
    """The server's answer for one item of a batch, in the order sent (`index`)."""

    index: Annotated[int, Field(ge=0)]
    id: UUID | None  # None only when the item carried no readable id
    status: CompletionStatus
    reason: ShortText = ""  # plain words for the learner; empty when accepted
    reason_code: RejectionCode | None = None  # set when rejected
    server_score: Annotated[float, Field(ge=0, le=100)] | None = None  # None: not graded (or no post-test)
    passed: bool | None = None  # the server's verdict; None when not graded
    certificate_id: CertificateId | None = None
    credits_awarded: Annotated[float, Field(ge=0, le=100)] | None = None
    credit_type: ShortText | None = None


class CompletionBatchResult(Model):
    results: Annotated[list[CompletionResult], Field(max_length=MAX_COMPLETION_BATCH)]
    accepted: Annotated[int, Field(ge=0)] = 0
    duplicate: Annotated[int, Field(ge=0)] = 0
    rejected: Annotated[int, Field(ge=0)] = 0


CPE_MONITOR_NOTE = (
    "This certificate is a receipt. The official record of pharmacy continuing education credit "
    "is the learner's NABP CPE Monitor transcript."
)


class CertificateRecord(Model):
    """What a certificate shows (rule 7), as issued; it never changes afterwards."""

    id: CertificateId
    completion_id: UUID
    issued_at: AwareDatetime
    learner_name: ShortText
    profession: Profession
    providers: Annotated[list[ShortText], Field(min_length=1, max_length=5)]
    activity_id: ActivityId
    activity_version: Annotated[int, Field(ge=1)]
    activity_title: Annotated[str, StringConstraints(min_length=1, max_length=500), NoNul]
    format: ShortText = "enduring material"
    completion_date: date  # the UTC date of completed_at_corrected
    credits_claimed: Annotated[float, Field(ge=0, le=100)]
    credit_type: ShortText
    contact_hours: Annotated[float, Field(ge=0, le=100)] | None = None
    uan: ShortText | None = None  # pharmacists
    cpe_monitor_note: ShortText | None = None  # pharmacists: CPE_MONITOR_NOTE
    # Recorded since certificates show what an accreditor asks for; None on certificates
    # issued before (the server then reads them from the activity version they were issued for).
    learner_degree: ShortText | None = None
    accredited_provider: ShortText | None = None  # the provider of the statement that applies
    accreditation_statement: LongText | None = None  # the activity's ("" when it has none)
    designation_statement: LongText | None = None  # the credit designation statement for this profession
    nabp_eprofile_id: NabpEprofileId | None = None  # pharmacists: as claimed, what CPE Monitor is sent
    signatory: Signatory | None = None
    pdf_url: ShortText  # relative to the server: /api/v1/certificates/<id>
    credential_url: ShortText  # /api/v1/certificates/<id>.json (signed; cmecore.credentials.check_credential)


class MyCompletion(Model):
    """`GET /me/completions`: one credited completion of the signed-in learner."""

    id: UUID
    activity_id: ActivityId
    activity_version: Annotated[int, Field(ge=1)]
    completed_at_corrected: AwareDatetime
    received_at: AwareDatetime
    status: Literal["accepted"] = "accepted"
    server_score: Annotated[float, Field(ge=0, le=100)] | None = None
    passed: bool
    credits_awarded: Annotated[float, Field(ge=0, le=100)]
    credit_type: ShortText
    reporting_consent: bool
    certificate: CertificateRecord | None = None


class MyCompletions(Model):
    completions: list[MyCompletion]


class SigningKey(Model):
    """A key that signs certificate credentials: raw Ed25519 public key, standard base64."""

    key_id: KeyId
    algorithm: Literal["Ed25519"] = "Ed25519"
    public_key: Ed25519PublicKeyB64


class SigningKeys(Model):
    """`GET /keys` (no sign-in): the server's credential-signing keys, current first."""

    keys: Annotated[list[SigningKey], Field(min_length=1, max_length=20)]
