"""How a credit is named on certificates and transcripts: the AMA's mark belongs on
"AMA PRA Category 1 Credit(s)™" (singular only for exactly 1); other credit types as the
activity names them."""

from __future__ import annotations

import pytest

from cmecore.rules.wording import credit_amount_text, credit_type_text


@pytest.mark.parametrize("credit_type, shown", [
    ("AMA PRA Category 1 Credit", "AMA PRA Category 1 Credit\u2122"),
    ("AMA PRA Category 1 Credit\u2122", "AMA PRA Category 1 Credit\u2122"),
    ("ACPE contact hours", "ACPE contact hours"),
    ("Participation", "Participation"),
])
def test_the_ama_mark_is_added_once_and_only_to_ama_credit(credit_type, shown):
    assert credit_type_text(credit_type) == shown


@pytest.mark.parametrize("amount, credit_type, shown", [
    (0.25, "AMA PRA Category 1 Credit", "0.25 AMA PRA Category 1 Credits\u2122"),
    (1.0, "AMA PRA Category 1 Credits", "1 AMA PRA Category 1 Credit\u2122"),
    (2.5, "AMA PRA Category 1 Credit\u2122", "2.5 AMA PRA Category 1 Credits\u2122"),
    (0.5, "ACPE contact hours", "0.5 ACPE contact hours"),
])
def test_amounts_of_ama_credit_are_plural_except_for_one(amount, credit_type, shown):
    assert credit_amount_text(amount, credit_type) == shown
