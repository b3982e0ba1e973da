"""The learner profile, defined once: its fields, how long each may be, and which ids a
profession needs before it can claim credit.

A learner's profile is kept in four places: the protocol model (`cmecore.protocol.
LearnerProfile`, what `/me` returns), the server's `learners` table, the client's cached
`learners` row, and the ids a claim carries to the server's `completions` table. They
used to declare their limits each on its own and drifted (the client kept NABP e-Profile
IDs in 20 characters, the server and the protocol in 12). Now each takes its names and
limits from here, and tests/server/test_profile.py holds them to it.

Standard library only: the client's cache imports this at start-up, before pydantic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Profession(StrEnum):
    """The learner's profession; it decides the accreditation statement and the claim rule."""

    physician = "physician"
    physician_assistant = "physician_assistant"
    nurse_practitioner = "nurse_practitioner"
    nurse = "nurse"
    pharmacist = "pharmacist"
    other = "other"


@dataclass(frozen=True)
class ProfileField:
    """One profile field. A value is valid when it matches `pattern` whole where there is
    one (the pattern then bounds the length too), else when it has `min_length` to
    `max_length` characters. The protocol's constrained types are built from this."""

    name: str
    max_length: int
    label: str  # plain words, for help texts and messages
    pattern: str | None = None
    min_length: int = 0
    required: bool = False  # every learner has one; otherwise `default` when not given
    default: str | None = None


# Short protocol texts are 500 characters; the profile's free-text fields are the same.
TEXT_MAX_LENGTH = 500

LEARNER_ID = ProfileField("id", 64, "learner id", pattern=r"^[A-Za-z0-9_.-]{1,64}$", required=True)
USERNAME = ProfileField("username", 200, "username", min_length=1, required=True)
DISPLAY_NAME = ProfileField("display_name", TEXT_MAX_LENGTH, "name as printed on certificates", required=True)
PROFESSION = ProfileField("profession", 40, "profession", required=True)
DEGREE = ProfileField("degree", TEXT_MAX_LENGTH, "degree (MD, PharmD, RN …)", default="")
BOARD_ID = ProfileField("board_id", TEXT_MAX_LENGTH, "certifying board id (for PARS / CME Passport)")
LICENCE_STATE = ProfileField("licence_state", TEXT_MAX_LENGTH, "licence state (for PARS / CME Passport)")
LICENCE_NUMBER = ProfileField("licence_number", TEXT_MAX_LENGTH, "licence number (for PARS / CME Passport)")
# NABP e-Profile IDs are issued as 6 or 7 digits; the protocol allows up to 12.
NABP_EPROFILE_ID = ProfileField(
    "nabp_eprofile_id", 12, "NABP e-Profile ID (pharmacists)", pattern=r"^[0-9]{1,12}$"
)
# Month and day only: CPE Monitor and PARS match a learner on the birth date's MMDD.
BIRTH_MMDD = ProfileField(
    "birth_mmdd", 4, "birth month and day, MMDD (pharmacists)",
    pattern=r"^(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$",
)

# What sign-up takes and `/me` returns besides the learner's id and username, in order.
PROFILE_FIELDS: tuple[ProfileField, ...] = (
    DISPLAY_NAME, PROFESSION, DEGREE, BOARD_ID, LICENCE_STATE, LICENCE_NUMBER, NABP_EPROFILE_ID, BIRTH_MMDD,
)
# Every field of a learner's profile, as the protocol model and both learner tables hold it.
LEARNER_FIELDS: tuple[ProfileField, ...] = (LEARNER_ID, USERNAME, *PROFILE_FIELDS)
# The ids a claim carries with the reporting consent (rule 8), stored with the completion:
# the board and licence (and birth MMDD) for ACCME PARS / CME Passport, optional; the NABP
# e-Profile ID and birth MMDD for NABP CPE Monitor, required of pharmacists.
CLAIM_IDS: tuple[ProfileField, ...] = (NABP_EPROFILE_ID, BIRTH_MMDD, BOARD_ID, LICENCE_STATE, LICENCE_NUMBER)
# NABP CPE Monitor matches a pharmacist on both; without them a pharmacist may not claim (rule 6).
CPE_MONITOR_IDS: tuple[ProfileField, ...] = (NABP_EPROFILE_ID, BIRTH_MMDD)


def ids_required_to_claim(profession: str | Profession) -> tuple[ProfileField, ...]:
    """The ids a learner of `profession` must supply with every claim (DOMAIN.md rule 6)."""
    return CPE_MONITOR_IDS if Profession(profession) == Profession.pharmacist else ()


def missing_to_claim(profession: str | Profession, /, **ids: str | None) -> tuple[ProfileField, ...]:
    """The required ids (`ids_required_to_claim`) left empty in `ids` (by field name); () when none is."""
    return tuple(f for f in ids_required_to_claim(profession) if not ids.get(f.name))


def profile_values(source: Any) -> dict[str, Any]:
    """The PROFILE_FIELDS of `source` (any object with those attributes), by name."""
    return {f.name: getattr(source, f.name) for f in PROFILE_FIELDS}
