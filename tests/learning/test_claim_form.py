"""The claim form's rules (DOMAIN rules 6 and 8) without Qt: what each kind of credit asks,
the contact hours and CEU wording shared with the server, what a claim sends, the check of
attested time against AMA PRA credit, and the next steps to earn credit."""

from __future__ import annotations

from dataclasses import dataclass

from cmecore.rules.claims import ClaimOptions, minutes_to_support, supported_by_minutes
from cmecore.rules.wording import ceu, contact_hours_text, credits_text, minutes_text
from desktop.learning.claim_form import (
    ATTEST_AMA,
    ATTEST_OTHER,
    claim_amount,
    claim_form,
    next_steps,
    unsupported_credits,
)


def options(kind, **fields) -> ClaimOptions:
    base = dict(profession="physician", credit_type="AMA PRA Category 1 Credit", kind=kind, max_credits=0.5,
                step=0.25, choices=(0.25, 0.5), fixed_contact_hours=None, needs_pharmacist_ids=False,
                missing_pharmacist_ids=False, suggested_minutes=12, statement="Designated for 0.5 credits.")
    base.update(fields)
    return ClaimOptions(**base)


PHARMACIST = dict(profession="pharmacist", credit_type="ACPE contact hours", step=None, choices=(0.5,),
                  fixed_contact_hours=0.5, needs_pharmacist_ids=True, uan="0000-9999-26-001-H01-P")
NURSE = dict(profession="nurse", credit_type="Nursing contact hours", step=None, choices=(1.0,))


def test_amounts_read_without_trailing_zeros_and_contact_hours_carry_their_ceu():
    assert [credits_text(v) for v in (0.25, 0.5, 1.0, 12.0)] == ["0.25", "0.5", "1", "12"]
    assert ceu(0.5) == 0.05 and ceu(10) == 1
    assert contact_hours_text(0.5) == "0.5 contact hours (0.05 CEU)"  # as on the server's certificate
    assert minutes_text(1) == "1 minute" and minutes_text(30) == "30 minutes"


def test_rule6_a_physician_chooses_ama_pra_credit_and_attests_the_time():
    form = claim_form(options("ama"))
    assert form.credit_type == "Your credit: AMA PRA Category 1 Credit"
    assert form.asks_credits and form.asks_minutes and form.hours == ""
    assert form.choices == ((0.25, "0.25 AMA PRA Category 1 Credit"), (0.5, "0.5 AMA PRA Category 1 Credit"))
    assert form.attestation == ATTEST_AMA
    assert "PARS" in form.consent_choice and "board ID" in form.consent
    assert claim_amount(options("ama"), 0.5, 30) == (0.5, 30)
    assert claim_amount(options("ama"), 0.25, 0) == (0.25, None)  # no time entered: none sent


def test_rule6_a_pharmacist_claims_the_fixed_contact_hours_with_no_minutes():
    o = options("pharmacy", **PHARMACIST)
    form = claim_form(o)
    assert not form.asks_credits and not form.asks_minutes
    assert form.hours == "0.5 contact hours (0.05 CEU)"
    assert form.attestation == ATTEST_OTHER
    assert "CPE Monitor" in form.consent_choice and "NABP e-Profile ID" in form.consent
    assert form.missing_ids == ""
    assert claim_amount(o, None, 45) == (0.5, None)


def test_rule6_a_pharmacist_without_the_nabp_id_is_told_what_to_do():
    form = claim_form(options("pharmacy", **PHARMACIST, missing_pharmacist_ids=True))
    assert "NABP e-Profile ID" in form.missing_ids and "provider" in form.missing_ids


def test_rule6_other_professions_get_a_statement_of_participation_with_their_time():
    o = options("participation", **NURSE)
    form = claim_form(o)
    assert form.hours == "A statement of participation for 1 contact hours"
    assert form.asks_minutes and not form.asks_credits
    assert form.consent_choice == "Report my participation"
    assert claim_amount(o, None, 50) == (1.0, 50)


def test_no_credit_for_the_profession_says_so():
    form = claim_form(options(None, credit_type=None, choices=(), max_credits=0.0, step=None))
    assert form.credit_type == "This activity offers no credit for your profession."
    assert form.choices == () and form.consent == ""


def test_rule6_attested_minutes_must_support_the_ama_pra_credits_chosen():
    assert unsupported_credits(30, 0.5) == ""
    assert unsupported_credits(20, 0.5) == ("⚠ 20 minutes support at most 0.25 credits: enter the time you actually "
                                            "spent, or claim less.")


def test_time_below_the_smallest_claim_says_how_long_it_needs_not_claim_less():
    """The demo's 1-minute video: 2 minutes support no credit, and there is nothing smaller
    than 0.25 to claim, so the form says how long 0.25 needs (the rule's own inverse)."""
    text = unsupported_credits(2, 0.25)
    assert text == ("⚠ 2 minutes support no credit yet: the smallest claim, 0.25 credits, needs 8 minutes or more. "
                    "Enter the time you actually spent on the activity, reading and the post-test included; if it is "
                    "less, claim when you have spent that long.")
    assert "0 credits" not in text and "claim less" not in text
    assert unsupported_credits(1, 0.5).startswith("⚠ 1 minute support no credit yet")
    assert unsupported_credits(minutes_to_support(0.25), 0.25) == ""
    assert unsupported_credits(minutes_to_support(0.25) - 1, 0.25) != ""


def test_minutes_to_support_is_the_fewest_minutes_the_rule_accepts():
    for credits in (0.25, 0.5, 0.75, 1.0, 2.5):
        need = minutes_to_support(credits)
        assert supported_by_minutes(need) >= credits > supported_by_minutes(need - 1)


@dataclass
class State:
    has_assessment: bool = True
    passed: bool = False
    passing_score: int = 75
    has_evaluation: bool = True
    evaluation_done: bool = False


def test_next_steps_name_only_what_is_left():
    assert next_steps(State()) == ("To earn credit: pass the post-test (75% or more), then complete the evaluation, "
                                   "then claim your credit.")
    assert next_steps(State(passed=True)) == "To earn credit: complete the evaluation, then claim your credit."
    assert next_steps(State(passed=True, evaluation_done=True)) == "To earn credit: claim your credit."
    assert next_steps(State(has_assessment=False, has_evaluation=False)) == "To earn credit: claim your credit."


def test_rule8_the_consent_names_only_the_ids_this_learner_has():
    no_board = claim_form(options("ama"), ("birth_mmdd",))
    assert no_board.consent == ("The provider may report this credit to ACCME's PARS / CME Passport for my "
                                "licensing and certifying boards. Reported: my name, my birth date (month and day), "
                                "the activity and the credits claimed.")
    everything = claim_form(options("ama"), ("board_id", "licence_state", "licence_number"))
    assert "my board ID, my licence state, my licence number, the activity" in everything.consent
    assert "board ID" not in claim_form(options("ama"), ()).consent
    pharmacist = claim_form(options("pharmacy", **PHARMACIST), ("nabp_eprofile_id", "birth_mmdd"))
    assert "Reported: my NABP e-Profile ID, my birth date (month and day), the activity's UAN" in pharmacist.consent
    nurse = claim_form(options("participation", **NURSE), ("licence_number",))
    assert "Reported: my name, my licence number, the activity, the hours and the date." in nurse.consent
