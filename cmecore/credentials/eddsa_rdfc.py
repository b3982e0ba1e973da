"""The `eddsa-rdfc-2022` cryptosuite (W3C "Data Integrity EdDSA Cryptosuites v1.0"), with
an embedded `DataIntegrityProof`.

What the proof signs (spec, "Create Proof" / "Verify Proof" for eddsa-rdfc-2022): the
proof options (the proof without `proofValue`, given the document's `@context`) and the
document without `proof` are each canonicalised with RDFC-1.0 and hashed with SHA-256;
Ed25519 signs proofConfigHash || documentHash; `proofValue` is the signature in multibase
base58btc (`z…`). `proof` is written as an array (a proof set), as the Open Badges 3.0
schema wants; each entry is checked against the document without any proof.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pyld.jsonld import JsonLdError

from .jsonld import PINNED, Loader, canonize
from .multikey import decode_multibase_b58, multibase_b58, raw_key_from_verification_method

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_PURPOSE = "assertionMethod"


def hash_data(document: dict[str, Any], proof_options: dict[str, Any], loader: Loader = PINNED) -> bytes:
    """SHA-256(canonical proof options) || SHA-256(canonical document): the 64 bytes signed."""
    config = dict(proof_options)
    if "@context" in document:
        config["@context"] = document["@context"]
    if loader is PINNED:
        proof_hash = _options_hash(json.dumps(config, sort_keys=True, ensure_ascii=False))
    else:
        proof_hash = hashlib.sha256(canonize(config, loader).encode("utf-8")).digest()
    doc_hash = hashlib.sha256(canonize(document, loader).encode("utf-8")).digest()
    return proof_hash + doc_hash


@lru_cache(maxsize=64)
def _options_hash(config_json: str) -> bytes:
    """The proof options' hash: the same for every credential the server signs within one
    second (the key and the second of `created` are all that change), so kept."""
    return hashlib.sha256(canonize(json.loads(config_json)).encode("utf-8")).digest()


def unsecured(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "proof"}


def proofs_of(doc: dict[str, Any]) -> list[Any]:
    proof = doc.get("proof")
    if proof is None:
        return []
    return list(proof) if isinstance(proof, list) else [proof]


def add_proof(doc: dict[str, Any], private_key: Any, verification_method: str, created: str,
              loader: Loader = PINNED) -> dict[str, Any]:
    """A copy of `doc` with an eddsa-rdfc-2022 proof appended to its `proof` array
    (private_key: cryptography's Ed25519PrivateKey; created: an XML Schema dateTime)."""
    options = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": PROOF_PURPOSE,
    }
    signature = private_key.sign(hash_data(unsecured(doc), options, loader))
    signed = copy.deepcopy(doc)
    signed["proof"] = [*proofs_of(doc), {**options, "proofValue": multibase_b58(signature)}]
    return signed


@dataclass(frozen=True)
class ProofCheck:
    valid: bool
    reason: str = ""  # why not, in plain words ("" when valid)
    verification_method: str = ""
    public_key: bytes = b""  # the raw Ed25519 key the proof names (empty if none could be read)


def is_eddsa_rdfc(proof: Any) -> bool:
    return isinstance(proof, dict) and proof.get("type") == PROOF_TYPE and proof.get("cryptosuite") == CRYPTOSUITE


def verify_proof(doc: dict[str, Any], proof: dict[str, Any], loader: Loader = PINNED) -> ProofCheck:
    """Check one eddsa-rdfc-2022 `proof` of `doc` against the did:key it names. Whether that
    key is one the reader trusts is the caller's question (check.check_credential). Raises
    jsonld.UnknownContext for a context this package does not carry; never anything else
    for a malformed document."""
    vm = proof.get("verificationMethod", "")
    if not is_eddsa_rdfc(proof):
        return ProofCheck(False, "the proof is not a DataIntegrityProof with cryptosuite eddsa-rdfc-2022", vm)
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        return ProofCheck(False, "the proof's purpose is not assertionMethod", vm)
    try:
        raw = raw_key_from_verification_method(vm)
        signature = decode_multibase_b58(proof.get("proofValue"))
        created = proof.get("created")
        if created is not None:
            datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    except ValueError as exc:
        return ProofCheck(False, f"the proof cannot be read ({exc})", str(vm))
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in options and options["@context"] != doc.get("@context"):
        return ProofCheck(False, "the proof's @context differs from the credential's", vm, raw)
    options.pop("@context", None)
    try:
        data = hash_data(unsecured(doc), options, loader)
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, data)
    except InvalidSignature:
        return ProofCheck(False, "the signature does not match: the credential was changed after it was signed",
                          vm, raw)
    except (JsonLdError, TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
        return ProofCheck(False, f"the credential cannot be read as JSON-LD ({type(exc).__name__})", vm, raw)
    return ProofCheck(True, "", vm, raw)
