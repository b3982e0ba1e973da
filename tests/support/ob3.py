"""Independent checks of an issued credential, written here from the specs' own text and
sharing no code with cmecore.credentials, so a mistake there cannot hide itself here:

- `schema_errors(doc)`: the Open Badges 3.0 AchievementCredential JSON schema, 1EdTech's
  published file (tests/fixtures/ob3-schema, with its licence), checked by `jsonschema`.
- `independent_proof_check(doc, public_key_raw)`: the eddsa-rdfc-2022 "Verify Proof"
  algorithm of W3C Data Integrity EdDSA Cryptosuites v1.0, step by step: take the proof
  off, give its options the document's @context, canonicalise both with RDFC-1.0 (pyld,
  the one shared library, over the context files read straight from disk), SHA-256 each,
  verify the Ed25519 signature over proofConfigHash || documentHash; the key comes from
  the did:key in `verificationMethod` (multicodec 0xed01), decoded by the base58 written
  below.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

import jsonschema
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pyld import jsonld
from pyld.context_resolver import ContextResolver

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
SCHEMA = FIXTURES / "ob3-schema" / "ob_v3p0_achievementcredential_schema.json"
CONTEXT_FILES = {
    "https://www.w3.org/ns/credentials/v2": ROOT / "cmecore/credentials/contexts/credentials-v2.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": ROOT / "cmecore/credentials/contexts/ob-context-3.0.3.json",
    "https://www.w3.org/ns/credentials/examples/v2": FIXTURES / "vc-di-eddsa" / "examples-v2.jsonld",
}
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58decode(text: str) -> bytes:
    """Bitcoin base58 (the multibase 'z' alphabet): big-endian base 58, leading '1's are zero bytes."""
    n = 0
    for ch in text:
        n = n * 58 + B58.index(ch)
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def loader(url, options=None):
    if url not in CONTEXT_FILES:
        raise ValueError(f"the test has no copy of context {url}")
    return {"contextUrl": None, "documentUrl": url, "document": json.loads(CONTEXT_FILES[url].read_text("utf-8"))}


def rdfc(doc: dict) -> str:
    # A context cache of its own: pyld's process-wide one holds what cmecore's loader gave it
    # (the pinned contexts are cached there), and this check must read the files itself.
    resolver = ContextResolver({}, loader)
    return jsonld.normalize(doc, {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader,
                                  "contextResolver": resolver})


def did_key_raw(verification_method: str) -> bytes:
    did, _, fragment = verification_method.partition("#")
    assert did.startswith("did:key:z") and fragment == did[len("did:key:"):], verification_method
    decoded = b58decode(did[len("did:key:z"):])
    assert decoded[:2] == b"\xed\x01" and len(decoded) == 34, "not an Ed25519 did:key"
    return decoded[2:]


def independent_proof_check(doc: dict, public_key_raw: bytes | None = None) -> None:
    """Raise (AssertionError, InvalidSignature) unless `doc` carries a valid eddsa-rdfc-2022
    proof by `public_key_raw` (None: by the key its did:key names)."""
    proofs = doc["proof"] if isinstance(doc["proof"], list) else [doc["proof"]]
    [proof] = [p for p in proofs if p.get("cryptosuite") == "eddsa-rdfc-2022"]
    assert proof["type"] == "DataIntegrityProof" and proof["proofPurpose"] == "assertionMethod"
    unsecured = {k: v for k, v in doc.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    options["@context"] = doc["@context"]
    hash_data = hashlib.sha256(rdfc(options).encode()).digest() + hashlib.sha256(rdfc(unsecured).encode()).digest()
    assert proof["proofValue"].startswith("z")
    key = did_key_raw(proof["verificationMethod"])
    if public_key_raw is not None:
        assert key == public_key_raw, "the proof names another key"
    Ed25519PublicKey.from_public_bytes(key).verify(b58decode(proof["proofValue"][1:]), hash_data)


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def schema_errors(doc: dict) -> list[str]:
    """Every way `doc` departs from the OB 3.0 AchievementCredential schema (empty: none)."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator().iter_errors(doc)]


def assert_conformant(doc: dict, public_key_raw: bytes) -> None:
    """The two independent checks every issued credential must pass."""
    assert schema_errors(doc) == []
    independent_proof_check(doc, public_key_raw)
