"""The learner profile is defined once (cmecore.profile) and every copy keeps to it.

The client's cached learner row, the server's learner and completion rows, the protocol
models and the server's sign-up, CLI and report all hold the same fields with the same
limits. (Before cmecore.profile the client kept NABP e-Profile IDs in 20 characters and
the server in 12: the column test below fails on that.)
"""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import ValidationError

import creditserver.models as server_models
import desktop.cache.models as client_models
from cmecore import profile
from cmecore.profile import (
    BIRTH_MMDD,
    CLAIM_IDS,
    LEARNER_FIELDS,
    NABP_EPROFILE_ID,
    PROFESSION,
    PROFILE_FIELDS,
    Profession,
    ids_required_to_claim,
    missing_to_claim,
)
from cmecore.protocol import CreditClaim, LearnerProfile
from creditserver.auth import NewLearner
from creditserver.cli import build_parser
from creditserver.report import ReportRow

from .conftest import bearer, client_for, sign_in

# The character a field's valid values are made of ("x" for the rest); birth MMDD is special.
_FILL = {"nabp_eprofile_id": "7", "id": "a"}


def _value(field: profile.ProfileField, length: int) -> str:
    """A value of `length` characters, valid for `field` when `length` <= its max_length."""
    if field is BIRTH_MMDD:
        return "0315" + "1" * (length - 4)
    return _FILL.get(field.name, "x") * length


def _column_length(model: type, name: str) -> int:
    return model.__table__.c[name].type.length


@pytest.mark.parametrize("field", LEARNER_FIELDS, ids=lambda f: f.name)
def test_client_and_server_learner_columns_are_as_long_as_the_profile_allows(field):
    assert _column_length(client_models.Learner, field.name) == field.max_length
    assert _column_length(server_models.Learner, field.name) == field.max_length


@pytest.mark.parametrize("field", [PROFESSION, *CLAIM_IDS], ids=lambda f: f.name)
def test_the_ids_a_claim_carries_are_stored_with_the_completion_at_full_length(field):
    assert _column_length(server_models.Completion, field.name) == field.max_length
    assert field.name in CreditClaim.model_fields


def test_every_profession_fits_its_column():
    assert max(len(p.value) for p in Profession) <= PROFESSION.max_length


def test_the_protocol_profile_has_exactly_the_profile_fields_with_their_defaults():
    fields = LearnerProfile.model_fields
    assert list(fields) == [f.name for f in LEARNER_FIELDS]
    for f in LEARNER_FIELDS:
        assert fields[f.name].is_required() == f.required, f.name
        if not f.required:
            assert fields[f.name].default == f.default, f.name


@pytest.mark.parametrize("field", [f for f in LEARNER_FIELDS if f is not PROFESSION], ids=lambda f: f.name)
def test_the_protocol_accepts_the_longest_value_and_refuses_one_more_character(field):
    base = {"id": "learner-1", "username": "u", "display_name": "D", "profession": "pharmacist"}
    longest = _value(field, field.max_length)
    assert getattr(LearnerProfile(**{**base, field.name: longest}), field.name) == longest
    with pytest.raises(ValidationError) as refused:
        LearnerProfile(**{**base, field.name: _value(field, field.max_length + 1)})
    assert refused.value.errors()[0]["loc"] == (field.name,)
    if field in CLAIM_IDS:
        claim = {"profession": "pharmacist", "credit_type": "ACPE", "credits_claimed": 0.5, "reporting_consent": True}
        assert getattr(CreditClaim(**{**claim, field.name: longest}), field.name) == longest
        with pytest.raises(ValidationError):
            CreditClaim(**{**claim, field.name: _value(field, field.max_length + 1)})


def test_birth_mmdd_is_a_real_month_and_day():
    base = {"id": "l", "username": "u", "display_name": "D", "profession": "pharmacist"}
    for good in ("0101", "0315", "1231", "0229"):
        assert LearnerProfile(**base, birth_mmdd=good).birth_mmdd == good
    for bad in ("1301", "0001", "0132", "315", "03-15", "abcd"):
        with pytest.raises(ValidationError):
            LearnerProfile(**base, birth_mmdd=bad)


def test_rule6_only_a_pharmacist_must_supply_the_nabp_id_and_birth_mmdd():
    assert ids_required_to_claim(Profession.pharmacist) == (NABP_EPROFILE_ID, BIRTH_MMDD)
    assert all(ids_required_to_claim(p) == () for p in Profession if p != Profession.pharmacist)
    assert missing_to_claim("pharmacist", nabp_eprofile_id="1234567", birth_mmdd="0315") == ()
    assert missing_to_claim("pharmacist", nabp_eprofile_id="1234567", birth_mmdd="") == (BIRTH_MMDD,)
    assert missing_to_claim("pharmacist") == (NABP_EPROFILE_ID, BIRTH_MMDD)
    assert missing_to_claim("physician") == ()


def test_sign_up_the_cli_and_the_report_cover_every_profile_field():
    names = {f.name for f in PROFILE_FIELDS}
    assert {f.name for f in dataclasses.fields(NewLearner)} == {"username", "password"} | names
    add = build_parser().parse_args(
        ["learner", "add", "--data-dir", "d", "--username", "u", "--profession", "nurse", "--display-name", "N"]
    )
    assert names <= set(vars(add))
    assert (add.degree, add.nabp_eprofile_id) == ("", None)  # NewLearner's defaults
    assert {f.name for f in CLAIM_IDS} <= set(ReportRow.__dataclass_fields__)


def test_a_full_profile_round_trips_through_the_server_to_me(start_server):
    empty_server = start_server(demo=False)
    every = {f.name: _value(f, f.max_length) for f in PROFILE_FIELDS if f not in (PROFESSION,)}
    every["display_name"] = "Dr. Full Profile"
    added = empty_server.add_learner("full", "pw", profession="pharmacist", **every)
    with client_for(empty_server) as client:
        me = client.get("/me", headers=bearer(sign_in(client, "full", "pw")))
    assert LearnerProfile.model_validate(me.json()) == added
    assert {name: me.json()[name] for name in every} == every
