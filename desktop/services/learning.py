"""Earning credit, offline (rules 1-8): acknowledging the disclosures, the post-test, the
evaluation, and the claim.

Everything here is scoped to the current learner and raises NotSignedIn when no one is
signed in. A step the rules refuse raises RuleError with the reason in plain words and a
`code` naming the rule. The rules themselves are pure (`cmecore.rules`, `desktop.learning`);
this service reads the learner's records, asks the rules, and writes the outcome. A claim
goes to the server at the next sync (`services.syncing`).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from cmecore.profile import CLAIM_IDS
from cmecore.protocol import EvaluationQuestion
from cmecore.rules import claims
from cmecore.rules import evaluation as ev
from cmecore.rules.assessment import AnswerInvalid, attempts_left, check_answer, grade, option_order
from cmecore.rules.availability import availability, corrected_now
from desktop.cache import learner_time
from desktop.cache import learning_store as store
from desktop.cache.db import Database
from desktop.cache.learners import learner_ids
from desktop.cache.progress_store import load_watch_progress
from desktop.cache.server_state import clock_offset_ms
from desktop.errors import ContentLocked, RuleError
from desktop.learning import reminders as rem
from desktop.learning.completion import build_completion
from desktop.learning.records import (
    AttemptResult,
    AttemptView,
    CompletionInfo,
    EvaluationDraft,
    LearningState,
    QuestionResult,
    QuestionView,
)
from desktop.learning.state import ActivityRules, LearnerRecords, learning_state
from desktop.services.account import AccountService
from desktop.services.connection import Connection


class LearningService:
    def __init__(self, db: Database, connection: Connection, account: AccountService):
        self.db = db
        self.connection = connection  # whose clock corrects ours (the server's Date at the last sync)
        self.account = account

    def learning_state(self, activity_id: str) -> LearningState:
        """Where the current learner stands in this activity (see LearningState)."""
        learner = self.account.require_learner()
        return self._state(learner.id, activity_id, self._rules(activity_id))

    # ------------------------------------------------------------ rule 1: disclosures

    def acknowledge_disclosures(self, activity_id: str) -> datetime:
        """Record that the learner read the disclosures; unlocks the content.

        Returns when it was acknowledged (naive UTC, device clock; the server-corrected
        time is stored too). Idempotent: a second call returns the first time. Refused
        (RuleError "availability") for an activity that is over or not yet released (rule 3).
        """
        learner = self.account.require_learner()
        rules = self._rules(activity_id)
        ack = store.current_ack(self.db, learner.id, activity_id)
        if ack is not None:
            return ack.acknowledged_at
        corrected = self._corrected_now()
        avail = availability(rules.release_date, rules.review_date, rules.termination_date, corrected)
        if not avail.available:
            raise RuleError(avail.reason, "availability")
        return store.acknowledge(self.db, learner.id, activity_id, rules.version, _utcnow(),
                                 _naive(corrected)).acknowledged_at

    # ------------------------------------------------------------ rule 4: the post-test

    def start_attempt(self, activity_id: str) -> AttemptView:
        """Resume the open post-test attempt, or start the next one if the rules allow."""
        learner = self.account.require_learner()
        rules = self._rules(activity_id)
        state = self._state(learner.id, activity_id, rules)
        if not state.assessment_unlocked:
            raise RuleError(state.assessment_reason, "assessment")
        assessment = rules.assessment
        attempt_id = str(uuid.uuid4())

        def may_create(submitted: int) -> str:
            if state.passed:
                return "You have passed the post-test."
            if attempts_left(assessment.attempts_allowed, submitted) == 0:
                return "You have used all the attempts this activity allows."
            return ""

        row = store.open_or_create_attempt(
            self.db, learner.id, activity_id, rules.version, attempt_id, option_order(assessment, attempt_id),
            _utcnow(), may_create=may_create,
        )
        return _attempt_view(row, assessment)

    def save_answer(self, attempt_id: str, question_id: str, option_ids, current_question: int | None = None) -> None:
        """Store one answer of an open attempt at once (fsynced), and where the learner is."""
        learner = self.account.require_learner()
        row = self._attempt(learner.id, attempt_id)
        rules = self._rules(row.activity_id)
        try:
            chosen = check_answer(rules.assessment, question_id, list(option_ids))
        except AnswerInvalid as exc:
            raise RuleError(str(exc), "attempt") from None
        store.save_answer(self.db, learner.id, attempt_id, question_id, chosen, current_question)

    def submit_attempt(self, attempt_id: str) -> AttemptResult:
        """Submit and grade an attempt here (provisional: the server re-grades). Kept forever.

        Submitting again returns the same result.
        """
        learner = self.account.require_learner()
        row = self._attempt(learner.id, attempt_id)
        rules = self._rules(row.activity_id)
        g = grade(rules.assessment, row.answers)
        row = store.submit_attempt(self.db, learner.id, attempt_id, g.score, g.passed, _utcnow())
        texts = {q.id: q.text for q in rules.assessment.questions}
        submitted = sum(1 for a in store.attempts(self.db, learner.id, row.activity_id) if a.submitted_at)
        return AttemptResult(
            attempt_id=row.id, number=row.number, score=row.local_score, passed=bool(row.local_passed),
            passing_score=rules.assessment.passing_score,
            questions=[QuestionResult(q.question_id, texts.get(q.question_id, ""), list(q.chosen), list(q.correct),
                                      q.right, q.rationale) for q in g.questions],
            attempts_left=attempts_left(rules.assessment.attempts_allowed, submitted),
        )

    # ------------------------------------------------------------ rule 5: the evaluation

    def evaluation_questions(self, activity_id: str) -> list[EvaluationQuestion]:
        """The activity's evaluation form; [] when it has none. RuleError if the activity is not here."""
        return list(self._rules(activity_id).evaluation)

    def evaluation(self, activity_id: str) -> EvaluationDraft | None:
        """The current learner's evaluation as saved (a draft or submitted), or None."""
        learner = self.account.require_learner()
        rules = self._rules(activity_id)
        row = store.get_evaluation(self.db, learner.id, activity_id)
        if row is None:
            return None
        r = row.responses
        clean = ev.CleanEvaluation(dict(r.get("ratings") or {}), dict(r.get("texts") or {}),
                                   list(r.get("commitments") or []), r.get("reminder_weeks"))
        return _draft(rules, clean, row.submitted_at)

    def save_evaluation(self, activity_id: str, ratings: dict, texts: dict, commitments: list,
                        reminder_weeks: int | None = None, submit: bool = False) -> EvaluationDraft:
        """Save the evaluation as a draft, or submit it (then every required question must be answered).

        Up to 3 commitments to change; a reminder 1-52 weeks ahead. Refused once a claim
        carrying it is waiting or accepted.
        """
        learner = self.account.require_learner()
        rules = self._rules(activity_id)
        if not rules.evaluation:
            raise RuleError("This activity has no evaluation.", "evaluation")
        if store.current_ack(self.db, learner.id, activity_id) is None:
            raise ContentLocked()
        claim = store.latest_completion(self.db, learner.id, activity_id)
        if claim is not None and claim.state in ("pending", "accepted"):
            raise RuleError("Your evaluation was sent with your claim; it can no longer change.", "evaluation")
        try:
            clean = ev.clean(rules.evaluation, ratings or {}, texts or {}, commitments or [], reminder_weeks)
            if submit:
                ev.check_complete(rules.evaluation, clean)
        except ev.EvaluationInvalid as exc:
            raise RuleError(str(exc), "evaluation") from None
        responses = {"ratings": clean.ratings, "texts": clean.texts, "commitments": clean.commitments,
                     "reminder_weeks": clean.reminder_weeks}
        now = _utcnow()
        due = rem.due_at(now, clean.reminder_weeks) if clean.commitments else None
        row = store.save_evaluation(self.db, learner.id, activity_id, responses, now, submit, due)
        return _draft(rules, clean, row.submitted_at)

    # ------------------------------------------------------------ rule 5: commitment reminders

    def commitment_reminder(self, activity_id: str) -> rem.Reminder | None:
        """The reminder the learner set with this activity's evaluation (None: none)."""
        learner = self.account.require_learner()
        found = learner_time.reminders(self.db, learner.id, activity_id=activity_id)
        return found[0] if found else None

    def due_reminders(self, now: datetime | None = None) -> list[rem.Reminder]:
        """The current learner's reminders due at `now` (naive UTC) and not yet announced; [] when no one is signed in."""
        learner = self.account.current_learner()
        if learner is None:
            return []
        now = now or _utcnow()
        return rem.to_notify(learner_time.reminders(self.db, learner.id, due_by=now), now)

    def reminders_announced(self, activity_ids: list[str], now: datetime | None = None) -> None:
        learner = self.account.require_learner()
        learner_time.mark_notified(self.db, learner.id, list(activity_ids), now or _utcnow())

    def reminder_done(self, activity_id: str, now: datetime | None = None) -> None:
        """The learner reviewed their commitments: the reminder is done (RuleError if there is none)."""
        learner = self.account.require_learner()
        if not learner_time.mark_done(self.db, learner.id, activity_id, now or _utcnow()):
            raise RuleError("There is no reminder for this activity.", "evaluation")

    # ------------------------------------------------------------ rule 6: the time spent

    def add_time_spent(self, activity_id: str, ms: int, learner_id: str | None = None) -> int:
        """Add measured time to the learner's record; returns the total (ms).

        `learner_id`: whose time it is (measured before a switch); nothing is stored for a
        learner who is no longer the current one (returns 0).
        """
        learner = self.account.require_learner()
        if learner_id is not None and learner_id != learner.id:
            return 0
        return learner_time.add_time_spent(self.db, learner.id, activity_id, ms, _utcnow())

    # ------------------------------------------------------------ rules 6 and 8: the claim

    def claim(self, activity_id: str, credits: float, attested_minutes: int | None,
              reporting_consent: bool) -> CompletionInfo:
        """Claim credit; the completion and its outbox item are written in one transaction.

        Checks every rule the server checks (RuleError with the reason; code "claim",
        "pharmacist-ids" or "claim-exists"), builds the protocol CompletionIn and returns
        the claim as pending. It goes to the server at the next sync.
        """
        learner = self.account.require_learner()
        rules = self._rules(activity_id)
        state = self._state(learner.id, activity_id, rules)
        if not state.can_claim:
            raise RuleError(state.claim_reason, state.claim_code)
        ids = learner_ids(self.db, learner.id)
        try:
            statement = claims.check_claim(
                ids.profession, rules.statements, credits, attested_minutes, reporting_consent,
                nabp_eprofile_id=ids.nabp_eprofile_id, birth_mmdd=ids.birth_mmdd,
            )
        except claims.ClaimRefused as exc:
            raise RuleError(exc.reason, exc.code) from None
        corrected = self._corrected_now()
        progress = load_watch_progress(self.db, learner.id, activity_id)
        evaluation = store.get_evaluation(self.db, learner.id, activity_id)
        item = build_completion(
            completion_id=uuid.uuid4(), rules=rules, learner=ids, credit_type=statement.credit_type,
            credits=credits, attested_minutes=attested_minutes, reporting_consent=reporting_consent,
            acknowledged_at=store.get_ack(self.db, learner.id, activity_id).acknowledged_at,
            attempts=store.attempts(self.db, learner.id, activity_id),
            watched_share=progress.watched_share if progress else 0.0,
            evaluation=evaluation.responses if evaluation else None,
            now=_utcnow(), corrected_now=corrected,
        )
        return store.add_completion(
            self.db, learner_id=learner.id, payload=item.model_dump(mode="json"), title=rules.title,
            created_at=_utcnow(), completed_at_corrected=_naive(corrected), credit_type=statement.credit_type,
            credits=float(credits),
        )

    # ------------------------------------------------------------ reading the records

    def _rules(self, activity_id: str) -> ActivityRules:
        rules = store.activity_rules(self.db, activity_id)
        if rules is None:
            raise RuleError("This activity is not in the library on this computer; sync the catalog.", "activity")
        return rules

    def _state(self, learner_id: str, activity_id: str, rules: ActivityRules) -> LearningState:
        return learning_state(rules, self._records(learner_id, activity_id), self._corrected_now())

    def _attempt(self, learner_id: str, attempt_id: str) -> store.AttemptRow:
        row = store.get_attempt(self.db, learner_id, attempt_id)
        if row is None:
            raise RuleError("There is no such attempt for the signed-in learner.", "attempt")
        return row

    def _corrected_now(self) -> datetime:
        return corrected_now(clock_offset_ms(self.db, self.connection.server_url))

    def _records(self, learner_id: str, activity_id: str) -> LearnerRecords:
        ids = learner_ids(self.db, learner_id)
        ack = store.current_ack(self.db, learner_id, activity_id)
        wp = load_watch_progress(self.db, learner_id, activity_id)
        evaluation = store.get_evaluation(self.db, learner_id, activity_id)
        return LearnerRecords(
            profession=ids.profession, nabp_eprofile_id=ids.nabp_eprofile_id, birth_mmdd=ids.birth_mmdd,
            acknowledged_at=ack.acknowledged_at if ack else None,
            attempts=store.summaries(store.attempts(self.db, learner_id, activity_id)),
            watched_share=wp.watched_share if wp else 0.0,
            watched_ms=wp.watched.watched_ms(wp.duration_ms or None) if wp else 0,
            evaluation_submitted=bool(evaluation and evaluation.submitted_at),
            completion=store.latest_completion(self.db, learner_id, activity_id),
            spent_ms=learner_time.time_spent(self.db, learner_id, activity_id),
            profile_ids={f.name: getattr(ids, f.name) for f in CLAIM_IDS},
        )


def _draft(rules: ActivityRules, clean: ev.CleanEvaluation, submitted_at: datetime | None) -> EvaluationDraft:
    return EvaluationDraft(clean.ratings, clean.texts, clean.commitments, clean.reminder_weeks, submitted_at,
                           ev.missing(rules.evaluation, clean))


def _attempt_view(row: store.AttemptRow, assessment) -> AttemptView:
    questions = []
    for q in assessment.questions:
        texts = {o.id: o.text for o in q.options}
        order = [o for o in row.option_order.get(q.id, []) if o in texts]
        order += [o for o in texts if o not in order]  # a question the stored order does not know
        questions.append(QuestionView(q.id, q.text, q.kind, [(o, texts[o]) for o in order]))
    return AttemptView(row.id, row.number, assessment.passing_score, questions,
                       {k: list(v) for k, v in row.answers.items()}, row.current_question)


def _utcnow() -> datetime:
    """Naive UTC on the device clock, as the cache stores times."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _naive(t: datetime) -> datetime:
    return t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo else t
