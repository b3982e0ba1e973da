"""The W3C test vectors for eddsa-rdfc-2022 (vc-di-eddsa, tests/fixtures/vc-di-eddsa):
both our cryptosuite (cmecore.credentials) and the independent one written in the tests
(tests/support/ob3.py) reproduce every intermediate value the spec publishes."""

from __future__ import annotations

import copy
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cmecore.credentials import eddsa_rdfc, multikey
from cmecore.credentials.jsonld import Loader, UnknownContext
from tests.support import ob3

VECTORS = ob3.FIXTURES / "vc-di-eddsa"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


def vector(name: str):
    text = (VECTORS / name).read_text("utf-8")
    return json.loads(text) if name.endswith(".json") else text


@pytest.fixture(scope="module")
def loader() -> Loader:
    """The pinned contexts plus the examples context the vectors use."""
    return Loader({EXAMPLES: json.loads((VECTORS / "examples-v2.jsonld").read_text("utf-8"))})


def private_key() -> Ed25519PrivateKey:
    decoded = multikey.decode_multibase_b58(vector("keyPair.json")["privateKeyMultibase"])
    assert decoded[:2] == b"\x80\x26"  # multicodec ed25519-priv
    return Ed25519PrivateKey.from_private_bytes(decoded[2:])


def test_the_independent_implementation_reproduces_every_published_intermediate_value():
    signed = vector("signedDataInt.json")
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    assert ob3.rdfc(unsecured) == vector("canonDocDataInt.txt")
    assert ob3.rdfc(vector("proofConfigDataInt.json")) == vector("proofCanonDataInt.txt")
    doc_hash = hashlib.sha256(vector("canonDocDataInt.txt").encode()).hexdigest()
    proof_hash = hashlib.sha256(vector("proofCanonDataInt.txt").encode()).hexdigest()
    assert doc_hash == vector("docHashDataInt.txt").strip()
    assert proof_hash == vector("proofHashDataInt.txt").strip()
    assert proof_hash + doc_hash == vector("combinedHashDataInt.txt").strip()
    assert ob3.b58decode(vector("sigBTC58DataInt.txt").strip()[1:]).hex() == vector("sigHexDataInt.txt").strip()
    ob3.independent_proof_check(signed)


def test_our_cryptosuite_verifies_the_published_credential_and_signs_it_identically(loader):
    signed = vector("signedDataInt.json")
    [proof] = eddsa_rdfc.proofs_of(signed)
    check = eddsa_rdfc.verify_proof(signed, proof, loader)
    assert check.valid, check.reason
    assert multikey.public_key_multibase(check.public_key) == vector("keyPair.json")["publicKeyMultibase"]

    config = vector("proofConfigDataInt.json")
    assert eddsa_rdfc.hash_data(vector("unsigned.json"), {k: v for k, v in config.items() if k != "@context"},
                                loader).hex() == vector("combinedHashDataInt.txt").strip()
    ours = eddsa_rdfc.add_proof(vector("unsigned.json"), private_key(), config["verificationMethod"],
                                config["created"], loader)
    assert ours["proof"] == [signed["proof"]]  # Ed25519 is deterministic: the very same proofValue


@pytest.mark.parametrize("mutate", [
    lambda d: d["credentialSubject"].__setitem__("alumniOf", "Another School"),
    lambda d: d.__setitem__("validFrom", "2024-01-01T00:00:00Z"),
    lambda d: d["proof"].__setitem__("created", "2023-02-24T23:36:39Z"),
    lambda d: d["proof"].__setitem__("proofValue", "z" + "1" * 86),
])
def test_a_changed_vector_fails_both_checks(loader, mutate):
    signed = copy.deepcopy(vector("signedDataInt.json"))
    mutate(signed)
    [proof] = eddsa_rdfc.proofs_of(signed)
    assert not eddsa_rdfc.verify_proof(signed, proof, loader).valid
    with pytest.raises(Exception):
        ob3.independent_proof_check(signed)


def test_a_context_this_program_does_not_carry_is_never_fetched():
    """Without the examples context pinned, the vector cannot be checked: no network, a reason."""
    signed = vector("signedDataInt.json")
    with pytest.raises(UnknownContext) as exc:
        eddsa_rdfc.verify_proof(signed, signed["proof"])
    assert exc.value.url == EXAMPLES
