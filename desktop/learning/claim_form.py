"""What the claim form asks and says for a learner's `ClaimOptions` (rules 6 and 8), and
what a claim sends — the form's rules without Qt, so they are tested on their own.

Which fields a kind of credit asks for: AMA PRA credit is chosen in 0.25 steps and needs
the attested minutes; a statement of participation records fixed contact hours and the
minutes; a pharmacist claims the activity's fixed contact hours with its UAN (and needs the
NABP e-Profile ID and birth date). Every claim carries an attestation and the learner's
answer on reporting, to the body that kind of credit is reported to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cmecore.rules.claims import STEP, ClaimOptions, minutes_to_support, reported_ids, supported_by_minutes
from cmecore.rules.wording import contact_hours_text, credits_text, minutes_text

AMA, PARTICIPATION, PHARMACY = "ama", "participation", "pharmacy"

ATTEST_AMA = "I claim only the credit commensurate with the extent of my participation in the activity."
ATTEST_OTHER = "I took part in this activity as recorded here."
# What the consent says, per kind of credit; "{ids}" is the learner's ids the claim really carries.
CONSENT = {
    AMA: "The provider may report this credit to ACCME's PARS / CME Passport for my licensing and certifying "
         "boards. Reported: my name, {ids}the activity and the credits claimed.",
    PHARMACY: "The provider may report this credit to NABP CPE Monitor. Reported: {ids}the activity's UAN, the "
              "contact hours and the date. Without it, CPE Monitor is not told and the official statement of "
              "credit does not exist.",
    PARTICIPATION: "The provider may report my participation to the accrediting bodies it reports to. Reported: my "
                   "name, {ids}the activity, the hours and the date.",
}
# How each reported profile field reads in the consent (cmecore.rules.claims.reported_ids).
ID_WORDS = {"board_id": "board ID", "birth_mmdd": "birth date (month and day)", "licence_state": "licence state",
            "licence_number": "licence number", "nabp_eprofile_id": "NABP e-Profile ID"}
CONSENT_CHOICE = {AMA: "Report this credit to PARS / CME Passport", PHARMACY: "Report this credit to NABP CPE Monitor"}
MISSING_PHARMACIST_IDS = ("Your profile has no NABP e-Profile ID or birth date (MMDD), so a pharmacist's claim would be "
                          "refused. Ask your provider to add them to your profile, sync, and claim again.")


@dataclass(frozen=True)
class ClaimForm:
    """What the form shows for one learner and activity."""

    credit_type: str  # "Your credit: …", or that nothing is offered
    asks_credits: bool  # AMA PRA: the learner chooses an amount
    choices: tuple[tuple[float, str], ...]  # (amount, how it reads) to choose from
    hours: str  # the contact hours line ("" when there is none)
    asks_minutes: bool  # the learner attests the time spent
    attestation: str
    consent_choice: str
    consent: str  # what reporting means for this kind of credit
    missing_ids: str  # why a pharmacist's claim would be refused ("" when it would not)


def consent_text(kind: str | None, reported: Sequence[str] | None = None) -> str:
    """What reporting this kind of credit sends: only the ids in `reported` (field names the
    learner's profile holds); None: every id the kind may carry (the learner is not known)."""
    if kind not in CONSENT:
        return ""
    if reported is None:
        reported = [] if kind == PARTICIPATION else \
            [f.name for f in reported_ids("pharmacist" if kind == PHARMACY else "physician")]
    words = [ID_WORDS[name] for name in reported if name in ID_WORDS]
    return CONSENT[kind].format(ids="".join(f"my {w}, " for w in words))


def claim_form(o: ClaimOptions, reported: Sequence[str] | None = None) -> ClaimForm:
    """`reported`: the profile fields a claim would report for this learner (LearningState.reported_ids)."""
    kind = o.kind
    hours_value = o.fixed_contact_hours if kind == PHARMACY else (o.choices[0] if o.choices else None)
    hours = ""
    if hours_value is not None and kind != AMA:
        hours = contact_hours_text(hours_value)
        if kind == PARTICIPATION:
            hours = f"A statement of participation for {credits_text(hours_value)} contact hours"
    return ClaimForm(
        credit_type=f"Your credit: {o.credit_type}" if o.credit_type else
        "This activity offers no credit for your profession.",
        asks_credits=kind == AMA,
        choices=tuple((value, f"{credits_text(value)} {o.credit_type}") for value in o.choices),
        hours=hours,
        asks_minutes=kind in (AMA, PARTICIPATION),
        attestation=ATTEST_AMA if kind == AMA else ATTEST_OTHER,
        consent_choice=CONSENT_CHOICE.get(kind or "", "Report my participation"),
        consent=consent_text(kind, reported),
        missing_ids=MISSING_PHARMACIST_IDS if o.missing_pharmacist_ids else "",
    )


def claim_amount(o: ClaimOptions, chosen: float | None, minutes: int) -> tuple[float, int | None]:
    """(credits, attested minutes) a claim sends: AMA PRA the amount chosen; a pharmacist the
    fixed contact hours; participation its hours. Minutes only where the form asks them (0: none)."""
    if o.kind == AMA:
        credits = float(chosen)
    elif o.kind == PHARMACY:
        credits = float(o.fixed_contact_hours)
    else:
        credits = float(o.choices[0]) if o.choices else 0.0
    return credits, (minutes if o.kind in (AMA, PARTICIPATION) and minutes else None)


def unsupported_credits(minutes: int, credits: float) -> str:
    """AMA PRA credit: why the attested time does not support the credits chosen ("" if it does).
    Below the smallest claim (STEP) there is nothing less to claim, so it says how long that
    needs instead of offering "0 credits"."""
    supported = supported_by_minutes(minutes)
    if credits <= supported + 1e-9:
        return ""
    if supported < STEP:
        return (f"⚠ {minutes_text(minutes)} support no credit yet: the smallest claim, {credits_text(STEP)} "
                f"credits, needs {minutes_text(minutes_to_support(STEP))} or more. Enter the time you actually "
                "spent on the activity, reading and the post-test included; if it is less, claim when you have "
                "spent that long.")
    return (f"⚠ {minutes_text(minutes)} support at most {supported:g} credits: enter the time you actually "
            "spent, or claim less.")


def next_steps(state) -> str:
    """What is left to earn credit, for a learner who has acknowledged the disclosures (a LearningState)."""
    steps = []
    if state.has_assessment and not state.passed:
        steps.append(f"pass the post-test ({state.passing_score}% or more)")
    if state.has_evaluation and not state.evaluation_done:
        steps.append("complete the evaluation")
    steps.append("claim your credit")
    return "To earn credit: " + ", then ".join(steps) + "."
