"""cmecore.credentials on its own: the status list's bit order and size, did:key, and the
answers `check_credential` gives for what a verifier meets in the wild (another key, a
context it does not carry, a field no context defines, a forged or missing list)."""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cmecore.credentials import FORM_OB3, FORM_UNKNOWN, StatusList, check_credential, eddsa_rdfc, multikey
from cmecore.credentials.jsonld import CREDENTIALS_V2, OB_V3P0, undefined_terms
from cmecore.credentials.status_list import (LIST_BITS, bit_is_set, decode_list, encode_list, status_entry,
                                             status_list_credential)
from tests.support import ob3

LIST_URL = "https://cme.example.org/api/v1/status/0"
WHEN = "2026-12-01T00:00:00Z"


class Issuer:
    def __init__(self):
        self.key = Ed25519PrivateKey.generate()
        self.raw = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.b64 = base64.b64encode(self.raw).decode()
        self.did = multikey.did_key(self.raw)

    def sign(self, doc: dict) -> dict:
        return eddsa_rdfc.add_proof(doc, self.key, multikey.verification_method(self.raw), WHEN)

    def status_list(self, revoked: list[int]) -> StatusList:
        doc = self.sign(status_list_credential(LIST_URL, self.did, WHEN, revoked))
        return StatusList(doc, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


def credential(issuer: Issuer, index: int = 5) -> dict:
    return issuer.sign({
        "@context": [CREDENTIALS_V2, OB_V3P0], "id": "urn:uuid:7a1c3e3c-7b3e-4f7e-9a57-1d6f0d5e2c11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"], "issuer": {"id": issuer.did, "type": ["Profile"],
                                                                            "name": "Northwind Institute"},
        "validFrom": WHEN, "credentialStatus": status_entry(LIST_URL, index),
        "credentialSubject": {"type": ["AchievementSubject"], "creditsEarned": 1.0,
                              "achievement": {"id": "urn:cme-offline:activity:a:v1", "type": ["Achievement"],
                                              "name": "A", "description": "D", "criteria": {"narrative": "N"}}}})


def test_the_bitstring_is_at_least_16_kb_and_bit_0_is_the_first_bytes_high_bit():
    bits = decode_list(encode_list([0, 9, LIST_BITS - 1]))
    assert len(bits) == LIST_BITS // 8 == 16 * 1024
    assert bits[0] == 0x80 and bits[1] == 0x40 and bits[-1] == 0x01
    assert [i for i in (0, 1, 8, 9, LIST_BITS - 1) if bit_is_set(bits, i)] == [0, 9, LIST_BITS - 1]
    assert encode_list([]).startswith("u") and "=" not in encode_list([])
    for bad in ("zabc", "u!!!", "uAAAA"):
        with pytest.raises(ValueError):
            decode_list(bad)


def test_did_key_round_trips_and_refuses_other_methods():
    issuer = Issuer()
    vm = multikey.verification_method(issuer.raw)
    assert vm.startswith("did:key:z6Mk") and multikey.raw_key_from_verification_method(vm) == issuer.raw
    assert ob3.did_key_raw(vm) == issuer.raw  # the independent decoder agrees
    for bad in ("urn:cme-offline:key:abc", "did:web:example.org#key-1", vm.split("#")[0] + "#other"):
        with pytest.raises(ValueError):
            multikey.raw_key_from_verification_method(bad)


def test_a_credential_checks_with_its_issuers_key_and_its_status_from_the_list():
    issuer = Issuer()
    doc = credential(issuer)
    ob3.independent_proof_check(doc, issuer.raw)
    fresh = check_credential(doc, [issuer.b64])
    assert (fresh.form, fresh.signature_valid, fresh.revoked) == (FORM_OB3, True, None)
    assert "not been fetched" in fresh.reason and fresh.status_list_url == LIST_URL
    clear = check_credential(doc, [issuer.b64], {LIST_URL: issuer.status_list([4, 6])})
    assert clear.valid and clear.revoked is False and clear.status_checked_at.hour == 9
    revoked = check_credential(doc, [issuer.b64], {LIST_URL: issuer.status_list([5])})
    assert revoked.signature_valid and revoked.revoked is True and not revoked.valid


def test_what_a_verifier_meets_in_the_wild_is_not_verified_with_the_reason():
    issuer, mallory = Issuer(), Issuer()
    doc = credential(issuer)
    other_key = check_credential(doc, [mallory.b64])
    assert not other_key.signature_valid and "key this credit server does not use" in other_key.reason

    foreign = copy.deepcopy(doc)
    foreign["@context"].append("https://evil.example/context.json")
    result = check_credential(foreign, [issuer.b64])
    assert not result.signature_valid and "https://evil.example/context.json" in result.reason

    undefined = credential(issuer)
    undefined["credentialSubject"]["creditType"] = "AMA PRA Category 1 Credit"  # the old form's own term
    assert undefined_terms(undefined) == ["creditType"]
    resigned = issuer.sign({k: v for k, v in undefined.items() if k != "proof"})
    result = check_credential(resigned, [issuer.b64])
    assert not result.signature_valid and "creditType" in result.reason  # unsigned, so not vouched for

    forged_list = mallory.status_list([])  # a list saying "not revoked", signed by someone else
    result = check_credential(doc, [issuer.b64], {LIST_URL: forged_list})
    assert result.signature_valid and result.revoked is None and "not signed by this credit server" in result.reason

    for junk in (None, [], "text", {"proof": "x"}, {"proof": [{"cryptosuite": "eddsa-rdfc-2022",
                                                              "type": "DataIntegrityProof"}]}):
        assert not check_credential(junk, [issuer.b64]).signature_valid
    assert check_credential({"proof": {}}, [issuer.b64]).form == FORM_UNKNOWN
