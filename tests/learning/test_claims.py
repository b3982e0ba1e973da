"""DOMAIN rules 6 (claiming credit) and 8 (reporting consent), checked as the server checks them."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from cmecore import protocol
from cmecore.rules.claims import (
    ClaimRefused,
    check_claim,
    claim_options,
    reporting_window_warning,
    statement_for,
    supported_by_minutes,
)


def test_rule6_physician_claims_in_quarter_steps_up_to_max_and_attested_time(demo):
    s = demo.accreditation
    assert check_claim("physician", s, 0.5, 30, True).credit_type == "AMA PRA Category 1 Credit"
    assert check_claim("physician", s, 0.25, 8, False)  # 8 min → 0.25 (nearest quarter hour)
    for credits, minutes, words in [
        (0.3, 30, "steps of 0.25"), (0.75, 60, "maximum of 0.5"), (0.5, 20, "supports at most 0.25"),
        (0.25, 2, "supports no credit: the smallest claim, 0.25 credits, needs 8 minutes or more"),
        (0.5, None, "attested time"), (0, 30, "at least 0.25"),
    ]:
        with pytest.raises(ClaimRefused, match=words) as err:
            check_claim("physician", s, credits, minutes, True)
        assert err.value.code == "claim"
    assert supported_by_minutes(22) == 0.25 and supported_by_minutes(23) == 0.5
    opts = claim_options("physician", s, watched_ms=29 * 60_000 + 40_000)
    assert (opts.step, opts.choices, opts.max_credits, opts.suggested_minutes) == (0.25, (0.25, 0.5), 0.5, 30)


def test_rule6_pharmacist_exact_contact_hours_and_nabp_ids(demo):
    s = demo.accreditation
    with pytest.raises(ClaimRefused) as err:
        check_claim("pharmacist", s, 0.5, None, True)
    assert err.value.code == "pharmacist-ids" and "NABP e-Profile ID" in err.value.reason
    with pytest.raises(ClaimRefused, match="claim exactly 0.5"):
        check_claim("pharmacist", s, 0.25, None, True, nabp_eprofile_id="1234567", birth_mmdd="0315")
    assert check_claim("pharmacist", s, 0.5, None, False, nabp_eprofile_id="1234567", birth_mmdd="0315")
    opts = claim_options("pharmacist", s, nabp_eprofile_id=None, birth_mmdd="0315")
    assert opts.needs_pharmacist_ids and opts.missing_pharmacist_ids
    assert opts.fixed_contact_hours == 0.5 and opts.uan == "0000-9999-26-001-H01-P" and opts.step is None


def test_rule6_nurses_others_and_pas_fall_back_to_participation(demo):
    s = demo.accreditation
    assert check_claim("nurse", s, 0.5, None, False).credit_type == "Participation"
    assert statement_for(s, "other").profession == protocol.Profession.nurse  # statement of participation
    with pytest.raises(ClaimRefused, match="at most 0.5"):
        check_claim("other", s, 0.75, None, True)
    assert check_claim("physician_assistant", s, 0.25, 15, True).credit_type == "AMA PRA Category 1 Credit"
    only_physician = [x for x in s if x.profession == "physician"]
    assert statement_for(only_physician, "nurse_practitioner") is None
    assert claim_options("nurse_practitioner", only_physician).credit_type is None
    with pytest.raises(ClaimRefused, match="no credit for a nurse practitioner"):
        check_claim("nurse_practitioner", only_physician, 0.25, 15, True)


def test_rule8_reporting_consent_is_asked_with_every_claim(demo):
    with pytest.raises(ClaimRefused, match="rule 8"):
        check_claim("physician", demo.accreditation, 0.5, 30, None)


def test_rule6_pharmacy_reporting_window_warns_from_day_30():
    took_part = date(2026, 3, 1)
    assert reporting_window_warning("pharmacist", took_part, took_part + timedelta(days=29)) is None
    day30 = reporting_window_warning("pharmacist", took_part, took_part + timedelta(days=30))
    assert "within 60 days" in day30 and "30 April 2026" in day30 and "30 days left" in day30
    late = reporting_window_warning("pharmacist", took_part, took_part + timedelta(days=61))
    assert "ended on 30 April 2026" in late
    assert reporting_window_warning("pharmacist", took_part, took_part + timedelta(days=45), credited=True) is None
    assert reporting_window_warning("physician", took_part, took_part + timedelta(days=45)) is None


@pytest.mark.parametrize("profession", ["physician", "physician_assistant", "nurse", "other", "pharmacist"])
def test_rule6_client_and_server_agree_claim_by_claim(demo, profession):
    """The server's judge is final; our check refuses exactly what it refuses (codes claim/pharmacist-ids)."""
    from creditserver.completions import CompletionSettings, Rejected, judge
    from tests.server.credit_support import claim_for, completion

    activity = protocol.Activity.model_validate(
        demo.model_dump(mode="json") | {"release_date": "2026-01-01", "termination_date": "2099-01-01"}
    )
    now = datetime.now(UTC)
    for credits, minutes, ids in itertools.product(
        [0.0, 0.1, 0.25, 0.3, 0.5, 0.75], [None, 0, 7, 8, 22, 23, 30, 45], [True, False]
    ):
        nabp, mmdd = ("1234567", "0315") if ids else (None, None)
        learner = protocol.LearnerProfile(id="l1", username="u", display_name="U", profession=profession,
                                          nabp_eprofile_id=nabp, birth_mmdd=mmdd)
        claim = claim_for(profession, credits_claimed=credits, attested_minutes=minutes,
                          nabp_eprofile_id=nabp, birth_mmdd=mmdd, reporting_consent=True)
        claim["credit_type"] = statement_for(activity.accreditation, profession).credit_type
        item = protocol.CompletionIn.model_validate(completion(activity.id, claim=claim,
                                                               completed=now - timedelta(hours=1)))
        try:
            judge(item, activity, learner, now, CompletionSettings())
            server = None
        except Rejected as r:
            server = r.code.value
        try:
            check_claim(profession, activity.accreditation, credits, minutes, True,
                        nabp_eprofile_id=nabp, birth_mmdd=mmdd)
            client = None
        except ClaimRefused as r:
            client = r.code
        assert client == server, (profession, credits, minutes, ids, server)
