"""How amounts of credit are written, the same on the client's screens and the server's
certificates (so a learner reads the same figure in both places).

Pure: no I/O, no Qt. ACPE contact hours convert to CEU at 10 hours per CEU.
"""

from __future__ import annotations

import re

HOURS_PER_CEU = 10


def credits_text(value: float) -> str:
    """0.5 -> '0.5', 1.0 -> '1', 0.25 -> '0.25' (no trailing zeros)."""
    return f"{value:g}"


def ceu(contact_hours: float) -> float:
    """Continuing education units for these contact hours (ACPE: 1 CEU = 10 contact hours)."""
    return contact_hours / HOURS_PER_CEU


def contact_hours_text(hours: float) -> str:
    """'0.5 contact hours (0.05 CEU)', as on a pharmacist's certificate."""
    return f"{credits_text(hours)} contact hours ({ceu(hours):g} CEU)"


def minutes_text(minutes: int) -> str:
    """'1 minute', '30 minutes'."""
    return f"{minutes} minute{'s' * (minutes != 1)}"


# The AMA requires its mark on "AMA PRA Category 1 Credit(s)™" wherever the credit is named;
# activities carry the credit type without it ("AMA PRA Category 1 Credit").
_AMA_CREDIT = re.compile(r"AMA PRA Category 1 Credits?\u2122?")


def credit_type_text(credit_type: str) -> str:
    """'AMA PRA Category 1 Credit' -> 'AMA PRA Category 1 Credit™'; other credit types as they are."""
    return _AMA_CREDIT.sub("AMA PRA Category 1 Credit\u2122", credit_type)


def credit_amount_text(amount: float, credit_type: str) -> str:
    """'0.25 AMA PRA Category 1 Credits™', '1 AMA PRA Category 1 Credit™', '0.5 ACPE contact hours'."""
    unit = "Credit" if amount == 1 else "Credits"
    return f"{credits_text(amount)} " + _AMA_CREDIT.sub(f"AMA PRA Category 1 {unit}\u2122", credit_type)


def learner_name_text(name: str, degree: str | None) -> str:
    """'Dr. Dana Demo, MD': the degree after the name, unless the name already ends with it."""
    degree = (degree or "").strip()
    if not degree or name.rstrip().endswith(degree):
        return name
    return f"{name}, {degree}"
