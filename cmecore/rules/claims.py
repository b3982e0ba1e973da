"""Rule 6 (claiming credit) and rule 8 (reporting consent), as the server checks them.

Pure: no SQL, no Qt, no HTTP. The server judges claims with `check_claim` too
(creditserver/completions/judging.py: `check_credit_claim`), and the parity tests in
tests/learning compare the two claim by claim. Which ids each profession must supply is
cmecore.profile's (`ids_required_to_claim`).

- Physicians (and PAs/NPs whose statement is AMA PRA Category 1): steps of 0.25, more
  than 0, at most the maximum, and at most what the attested time supports:
  round-to-0.25(attested_minutes / 60).
- Nurses and others (and PAs/NPs without a statement of their own): a statement of
  participation, more than 0 and at most the contact hours (or the maximum).
- Pharmacists: exactly the contact hours, and only with the NABP e-Profile ID and birth
  date (MMDD); the provider must report to CPE Monitor within 60 days of participation,
  so the learner is warned from day 30.
- Rule 8: reporting consent is asked, and recorded, with every claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from cmecore.profile import BIRTH_MMDD, BOARD_ID, CPE_MONITOR_IDS, LICENCE_NUMBER, LICENCE_STATE, ProfileField, missing_to_claim
from cmecore.protocol import AccreditationStatement, Profession

STEP = 0.25
_EPS = 1e-9
REPORTING_WINDOW_DAYS = 60
REPORTING_WARNING_DAY = 30

_FALLBACK_PROFESSIONS = (
    Profession.physician_assistant, Profession.nurse_practitioner, Profession.nurse, Profession.other,
)


class ClaimRefused(ValueError):
    """The claim breaks rule 6 or 8; `code` is the server's RejectionCode value it would get."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


def statement_for(statements: Sequence[AccreditationStatement], profession: str | Profession) -> AccreditationStatement | None:
    """The statement a learner of `profession` claims under (PA, NP, nurses, others fall back)."""
    prof = Profession(profession)
    by_prof = {s.profession: s for s in statements}
    if prof in by_prof:
        return by_prof[prof]
    if prof in _FALLBACK_PROFESSIONS:
        for fallback in (Profession.other, Profession.nurse):
            if fallback in by_prof:
                return by_prof[fallback]
    return None


def reported_ids(profession: str | Profession) -> tuple[ProfileField, ...]:
    """The ids a claim carries for reporting (rule 8), each only when the learner has it:
    a pharmacist's for NABP CPE Monitor, anyone else's board and licence for PARS / CME Passport."""
    if Profession(profession) == Profession.pharmacist:
        return CPE_MONITOR_IDS
    return (BOARD_ID, BIRTH_MMDD, LICENCE_STATE, LICENCE_NUMBER)


def is_ama(statement: AccreditationStatement) -> bool:
    return "AMA PRA Category 1" in statement.credit_type


def on_step(x: float) -> bool:
    return abs(x * 4 - round(x * 4)) < _EPS


def supported_by_minutes(attested_minutes: int) -> float:
    """The most AMA PRA credit `attested_minutes` supports: minutes / 60 to the nearest 0.25."""
    return round(attested_minutes / 15) / 4


def minutes_to_support(credits: float) -> int:
    """The fewest whole attested minutes that support `credits` of AMA PRA credit under
    `supported_by_minutes` (its inverse, for telling a learner how long a claim needs)."""
    minutes = max(0, int(credits * 60) - 8)
    while supported_by_minutes(minutes) + _EPS < credits:
        minutes += 1
    return minutes


def claim_kind(profession: str | Profession, statement: AccreditationStatement | None) -> str | None:
    """'pharmacy', 'ama' or 'participation' (None: no credit for this profession)."""
    if statement is None:
        return None
    if Profession(profession) == Profession.pharmacist:
        return "pharmacy"
    return "ama" if is_ama(statement) else "participation"


def contact_hours(statement: AccreditationStatement) -> float:
    return statement.contact_hours if statement.contact_hours is not None else statement.max_credits


@dataclass(frozen=True)
class ClaimOptions:
    """What the claim form offers this learner for this activity."""

    profession: str
    credit_type: str | None  # None: this activity offers nothing for the profession
    kind: str | None  # "ama" | "participation" | "pharmacy" | None
    max_credits: float  # 0 when nothing is offered
    step: float | None  # 0.25 for AMA PRA credit; None otherwise
    choices: tuple[float, ...]  # AMA PRA: 0.25, 0.5, … up to the maximum; pharmacy: (contact hours,)
    fixed_contact_hours: float | None  # pharmacists claim exactly this
    needs_pharmacist_ids: bool  # pharmacy claim: the NABP e-Profile ID and birth MMDD are required
    missing_pharmacist_ids: bool  # … and the profile lacks one of them (the claim will be refused)
    suggested_minutes: int  # from the time really spent; the learner attests their own
    statement: str = ""
    uan: str | None = None


def claim_options(
    profession: str,
    statements: Sequence[AccreditationStatement],
    *,
    watched_ms: int = 0,
    spent_ms: int = 0,
    nabp_eprofile_id: str | None = None,
    birth_mmdd: str | None = None,
) -> ClaimOptions:
    """`spent_ms`: the time really spent on the activity (wall time playing or answering);
    where none was measured (older records) the watched part of the video stands in."""
    statement = statement_for(statements, profession)
    kind = claim_kind(profession, statement)
    suggested = max(0, round((spent_ms if spent_ms > 0 else watched_ms) / 60_000))
    if statement is None:
        return ClaimOptions(profession, None, None, 0.0, None, (), None, False, False, suggested)
    pharmacy = kind == "pharmacy"
    hours = contact_hours(statement)
    if kind == "ama":
        n = int(round(statement.max_credits / STEP + _EPS)) if statement.max_credits > 0 else 0
        choices = tuple(round((i + 1) * STEP, 2) for i in range(n) if (i + 1) * STEP <= statement.max_credits + _EPS)
    elif pharmacy:
        choices = (hours,)
    else:
        choices = (hours,) if hours > 0 else ()
    return ClaimOptions(
        profession=profession,
        credit_type=statement.credit_type,
        kind=kind,
        max_credits=hours if kind != "ama" else statement.max_credits,
        step=STEP if kind == "ama" else None,
        choices=choices,
        fixed_contact_hours=hours if pharmacy else None,
        needs_pharmacist_ids=pharmacy,
        missing_pharmacist_ids=bool(missing_to_claim(profession, nabp_eprofile_id=nabp_eprofile_id, birth_mmdd=birth_mmdd)),
        suggested_minutes=suggested,
        statement=statement.statement,
        uan=statement.uan if pharmacy else None,
    )


def check_claim(
    profession: str,
    statements: Sequence[AccreditationStatement],
    credits: float,
    attested_minutes: int | None,
    reporting_consent: bool | None,
    *,
    nabp_eprofile_id: str | None = None,
    birth_mmdd: str | None = None,
) -> AccreditationStatement:
    """The statement the claim is made under; raises ClaimRefused (the server uses this too)."""
    if not isinstance(reporting_consent, bool):
        raise ClaimRefused(
            "claim",
            "Say whether the provider may report this credit (to PARS / CME Passport or CPE Monitor); "
            "it is asked with every claim (rule 8).",
        )
    prof = Profession(profession)
    statement = statement_for(statements, prof)
    if statement is None:
        raise ClaimRefused("claim", f"This activity offers no credit for a {prof.value.replace('_', ' ')}.")
    try:
        credits = float(credits)
    except (TypeError, ValueError):
        raise ClaimRefused("claim", "Enter the credits you claim as a number.") from None
    if not 0 <= credits <= 100:
        raise ClaimRefused("claim", "Claim between 0 and 100 credits.")
    if attested_minutes is not None and (isinstance(attested_minutes, bool) or not 0 <= int(attested_minutes) <= 100_000):
        raise ClaimRefused("claim", "The attested time must be a number of minutes (0 to 100,000).")
    if prof == Profession.pharmacist:
        if missing_to_claim(prof, nabp_eprofile_id=nabp_eprofile_id, birth_mmdd=birth_mmdd):
            raise ClaimRefused(
                "pharmacist-ids",
                "A pharmacist's claim needs the NABP e-Profile ID and birth date (MMDD), so the credit can be "
                "reported to CPE Monitor. Add them to your profile with your provider, sync, and claim again.",
            )
        hours = contact_hours(statement)
        if abs(credits - hours) > _EPS:
            raise ClaimRefused("claim", f"This activity provides {hours:g} contact hours; claim exactly {hours:g}, not {credits:g}.")
    elif is_ama(statement):
        if credits <= 0:
            raise ClaimRefused("claim", "Claim at least 0.25 credits.")
        if not on_step(credits):
            raise ClaimRefused("claim", f"AMA PRA Category 1 Credits are claimed in steps of 0.25; {credits:g} is not one.")
        if credits > statement.max_credits + _EPS:
            raise ClaimRefused("claim", f"{credits:g} credits is more than this activity's maximum of {statement.max_credits:g}.")
        if not attested_minutes:
            raise ClaimRefused("claim", "Say how many minutes you actually spent on the activity (attested time).")
        supported = supported_by_minutes(int(attested_minutes))
        if credits > supported + _EPS and supported < STEP:  # nothing smaller to claim: say what it needs
            raise ClaimRefused(
                "claim",
                f"You attested {attested_minutes} minutes, which supports no credit: the smallest claim, "
                f"{STEP:g} credits, needs {minutes_to_support(STEP)} minutes or more.",
            )
        if credits > supported + _EPS:
            raise ClaimRefused(
                "claim",
                f"You attested {attested_minutes} minutes, which supports at most {supported:g} credits; "
                "claim only the credit commensurate with your participation.",
            )
    else:
        most = contact_hours(statement)
        if credits <= 0 or credits > most + _EPS:
            raise ClaimRefused("claim", f"Claim more than 0 and at most {most:g} {statement.credit_type}.")
    return statement


def reporting_window_warning(
    profession: str, participated_on: date | None, today: date, *, credited: bool = False
) -> str | None:
    """Rule 6: pharmacy credit must reach CPE Monitor within 60 days of participation.

    From day 30 after participation, until the credit is accepted by the provider, say so
    (and say plainly when the 60 days are over). None for other professions.
    """
    if Profession(profession) != Profession.pharmacist or participated_on is None or credited:
        return None
    days = (today - participated_on).days
    deadline = participated_on + timedelta(days=REPORTING_WINDOW_DAYS)
    if days < REPORTING_WARNING_DAY:
        return None
    if days <= REPORTING_WINDOW_DAYS:
        return (
            f"You took part on {participated_on:%d %B %Y}. Your provider must report pharmacy credit to "
            f"CPE Monitor within 60 days, by {deadline:%d %B %Y}: claim your credit and sync soon "
            f"({REPORTING_WINDOW_DAYS - days} day{'s' if REPORTING_WINDOW_DAYS - days != 1 else ''} left)."
        )
    return (
        f"You took part on {participated_on:%d %B %Y}; the 60-day window for reporting to CPE Monitor "
        f"ended on {deadline:%d %B %Y}. Claim and sync now, and ask your provider whether it can still be reported."
    )
