"""The plain, frozen records the learning services hand to the GUI and the CLI.

No ORM object, no Qt: views can import these without SQLAlchemy. Times are naive UTC
(the cache's convention) unless a field says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from cmecore.rules.claims import ClaimOptions

__all__ = [
    "AttemptSummary", "CompletionInfo", "ClaimOptions", "LearningState", "QuestionView", "AttemptView",
    "QuestionResult", "AttemptResult", "EvaluationDraft", "OutboxReport", "CreditRow", "MyCredits", "VerifyResult",
]


@dataclass(frozen=True)
class AttemptSummary:
    id: str  # UUID, also sent to the server
    number: int  # 1, 2, … per learner and activity
    submitted_at: datetime | None  # None: still open (can be resumed)
    local_score: float | None  # percent as graded on this computer (provisional)
    local_passed: bool | None
    started_at: datetime | None = None


@dataclass(frozen=True)
class CompletionInfo:
    """A claim of credit and what the server said of it."""

    id: str  # the client-made UUID (idempotency key)
    state: str  # "pending" (waiting to sync) | "accepted" | "rejected"
    reason: str | None  # the server's words when rejected (show them to the learner)
    server_score: float | None  # the server's re-grade (percent); None until answered
    passed: bool | None  # the server's verdict; None until answered
    certificate_id: str | None
    credits_claimed: float
    credit_type: str
    reason_code: str | None = None  # protocol.RejectionCode value when rejected
    completed_at: datetime | None = None  # server-corrected completion time (naive UTC)
    attempts_sent: int = 0  # how many post-test attempts the claim carried
    last_error: str | None = None  # pending: why the last delivery try failed (network, server error)
    tries: int = 0  # pending: delivery tries so far
    certificate_here: bool = False  # its certificate's PDF is kept on this computer (known without reading it)


@dataclass(frozen=True)
class LearningState:
    """Everything the activity page needs to show where a learner stands (offline)."""

    activity_id: str
    acknowledged_at: datetime | None  # rule 1; None: content locked
    available: bool  # rule 3 on the server-corrected clock
    availability_reason: str  # "" when available
    watched_share: float  # 0.0-1.0 of the video really watched
    min_watched_share: float  # the activity's participation requirement
    assessment_unlocked: bool  # may start or resume the post-test now
    assessment_reason: str  # why not, in plain words ("" when unlocked)
    attempts: list[AttemptSummary]  # every attempt, oldest first (never overwritten: rule 4)
    open_attempt_id: str | None  # an attempt started and not submitted (resume it)
    attempts_left: int | None  # None: unlimited
    passed: bool  # a submitted attempt passed (and the server has not graded it otherwise)
    evaluation_done: bool  # the evaluation was submitted (rule 5)
    completion: CompletionInfo | None  # the latest claim, if any
    can_claim: bool
    claim_reason: str  # why not ("" when the learner can claim)
    claim_options: ClaimOptions
    reporting_window_warning: str | None  # pharmacists: day 30-60 of CPE Monitor's window, and after
    has_assessment: bool = True
    passing_score: int | None = None  # shown before the learner starts (rule 4)
    attempts_allowed: int | None = None  # None: unlimited
    has_evaluation: bool = True
    server_grade_differs: bool = False  # the server's grade of the claim differs from this computer's
    can_acknowledge: bool = True  # False once the activity is over (it can still be read)
    claim_code: str = ""  # why not, as a RuleError code: "claim" | "pharmacist-ids" ("" when the learner can claim)
    evaluation_open: bool = True  # the evaluation may be filled in now (after the post-test is passed)
    evaluation_reason: str = ""  # why not, in plain words ("" when open)
    over: bool = False  # terminated or past the 3-year limit (rule 3), not just not released yet
    spent_ms: int = 0  # the time really spent on the activity, as measured on this computer
    reported_ids: tuple[str, ...] = ()  # profile fields a claim would report for this learner (rule 8)


@dataclass(frozen=True)
class QuestionView:
    id: str
    text: str
    kind: str  # "single" | "multiple"
    options: list[tuple[str, str]]  # (option id, text) in this attempt's order


@dataclass(frozen=True)
class AttemptView:
    id: str
    number: int
    passing_score: int
    questions: list[QuestionView]
    answers: dict[str, list[str]]  # question id -> chosen option ids (saved as chosen)
    current_question: int  # index into `questions` where the learner was


@dataclass(frozen=True)
class QuestionResult:
    question_id: str
    text: str
    chosen: list[str]
    correct: list[str]
    right: bool
    rationale: str  # feedback after submission (rule 4)


@dataclass(frozen=True)
class AttemptResult:
    """The local (provisional) grade of a submitted attempt; the server re-grades."""

    attempt_id: str
    number: int
    score: float
    passed: bool
    passing_score: int
    questions: list[QuestionResult]
    attempts_left: int | None = None


@dataclass(frozen=True)
class EvaluationDraft:
    ratings: dict[str, int]
    texts: dict[str, str]
    commitments: list[str]
    reminder_weeks: int | None
    submitted_at: datetime | None
    missing: list[str] = field(default_factory=list)  # required question ids not answered yet


@dataclass(frozen=True)
class OutboxReport:
    """What one delivery run did."""

    delivered: int  # items the server answered for (accepted + duplicate + rejected); they left the outbox
    accepted: int  # accepted now, including duplicates (already stored: a retry after a lost reply)
    duplicate: int  # of which the server already had
    rejected: int  # refused; the reason is on the completion and shown to the learner
    remaining: int  # still waiting on this machine (all learners)
    errors: list[str] = field(default_factory=list)  # delivery or certificate failures (kept and retried)
    notes: list[str] = field(default_factory=list)  # e.g. items waiting for a learner to sign in again
    requests: int = 0  # POST /completions requests made
    unreachable: bool = False  # the server could not be reached (ServerUnreachable) during the run
    certificates: int = 0  # certificates that arrived in this run (fetched, kept on this computer)
    certificates_preparing: int = 0  # certificates whose PDF the server is still preparing (not an error)
    retry_after_s: float | None = None  # when those may be asked for again (the server's Retry-After)

    @property
    def failed(self) -> bool:
        return bool(self.errors)


@dataclass(frozen=True)
class CreditRow:
    completion_id: str
    activity_id: str
    title: str
    date: date  # completion date (server-corrected, UTC)
    credit_type: str
    credits: float  # claimed
    state: str  # pending | accepted | rejected | revoked (accepted, then revoked by the provider)
    reason: str | None
    certificate_id: str | None
    provider: str = ""  # the accredited provider ("" when not known on this computer)
    certificate_here: bool = True  # its certificate's PDF is on this computer (False: not here yet, whatever the reason)


@dataclass(frozen=True)
class MyCredits:
    rows: list[CreditRow]  # newest first
    totals: dict[tuple[str, int], float]  # (credit type, year) -> accepted credits
    totals_all_time: dict[str, float]  # credit type -> accepted credits
    # When the oldest revocation list these certificates were checked against was fetched
    # (None: none checked yet); a certificate revoked since then still shows as valid.
    status_checked_at: datetime | None = None


@dataclass(frozen=True)
class VerifyResult:
    valid: bool
    message: str
    form: str = ""  # cmecore.credentials FORM_OB3 / FORM_LEGACY / FORM_UNKNOWN
    revoked: bool | None = None  # None: not known (no status entry, or no list kept here)
    status_checked_at: datetime | None = None  # when the revocation list used was fetched
