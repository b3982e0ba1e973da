"""Signed certificate credentials: canonical JSON, Ed25519 signing and verification.

Pure (no Qt, no FastAPI, no SQL): the credit server signs with it and the desktop client
verifies with it, offline, against the key from `GET /api/v1/keys` (or the sign-in reply).

The credential is shaped like an Open Badges 3.0 / W3C Verifiable Credentials 2.0
`OpenBadgeCredential` and carries one proof:

    "proof": {"type": "DataIntegrityProof", "cryptosuite": "cme-offline-ed25519-2026",
              "created": "…Z", "verificationMethod": "urn:cme-offline:key:<key_id>",
              "proofPurpose": "assertionMethod", "proofValue": "<base64url signature>"}

What is signed (docs/protocol.md, "Signed credentials"): the whole document with
`proof.proofValue` removed (the rest of `proof` stays, so its metadata is covered too),
serialised canonically:

- JSON objects with keys sorted by Unicode code point, no whitespace at all
  (separators `,` and `:`), strings not ASCII-escaped, encoded as UTF-8;
- numbers: integers as integers; a float with an integral value (`1.0`) as the integer
  (`1`); other floats in Python's shortest round-trip form (`0.25`); NaN and infinities
  are refused.

For the values a credential holds this equals RFC 8785 (JCS) except for keys outside the
Basic Multilingual Plane, which JCS sorts by UTF-16 code units.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import math
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "cme-offline-ed25519-2026"
KEY_URN_PREFIX = "urn:cme-offline:key:"


def _normalise(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("NaN and infinite numbers cannot be canonicalised")
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"object keys must be strings, not {type(k).__name__}")
            out[k] = _normalise(v)
        return out
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def canonical_json(doc: Any) -> bytes:
    """The canonical UTF-8 serialisation described in the module docstring."""
    return json.dumps(
        _normalise(doc), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def key_id_for(public_key_raw: bytes) -> str:
    """A short, stable id for a raw Ed25519 public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_key_raw).hexdigest()[:16]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signing_input(doc: dict[str, Any]) -> bytes:
    """The bytes the proof signs: the document with `proof.proofValue` removed, canonicalised."""
    body = dict(doc)
    proof = body.get("proof")
    if not isinstance(proof, dict):
        raise ValueError("the credential has no proof object")
    body["proof"] = {k: v for k, v in proof.items() if k != "proofValue"}
    return canonical_json(body)


def sign_credential(doc: dict[str, Any], private_key: Any, key_id: str, created: str) -> dict[str, Any]:
    """Return a copy of `doc` with an Ed25519 `proof` (private_key: cryptography's Ed25519PrivateKey)."""
    signed = copy.deepcopy(doc)
    signed["proof"] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": KEY_URN_PREFIX + key_id,
        "proofPurpose": "assertionMethod",
    }
    signature = private_key.sign(signing_input(signed))
    signed["proof"]["proofValue"] = _b64url(signature)
    return signed


def verify_credential(doc: dict[str, Any], public_key_b64: str) -> bool:
    """True when `doc` carries a valid proof made with the Ed25519 key `public_key_b64`
    (raw 32-byte key, standard base64, as `GET /keys` gives it). Any change to any field
    of the document, including the proof's own metadata, makes it False. Never raises
    for a malformed document or key: that is simply not verified.
    """
    try:
        raw = base64.b64decode(public_key_b64, validate=True)
        public_key = Ed25519PublicKey.from_public_bytes(raw)
        proof = doc["proof"]
        if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
            return False
        if proof.get("verificationMethod") != KEY_URN_PREFIX + key_id_for(raw):
            return False
        signature = _b64url_decode(proof["proofValue"])
        public_key.verify(signature, signing_input(doc))
    except (InvalidSignature, KeyError, TypeError, ValueError, AttributeError, binascii.Error):
        return False
    return True


# ---------------------------------------------------------------- signed activity metadata
# Content packs carry each activity's JSON exactly as the server published it, signed by
# the same Ed25519 key as certificates. The signature covers the canonical JSON of
# {"purpose": ACTIVITY_PURPOSE, "activity": <the activity>}, so a certificate signature
# can never pass as an activity signature or the other way round.

ACTIVITY_PURPOSE = "cme-offline-signed-activity-v1"


def activity_signing_input(activity: dict[str, Any]) -> bytes:
    return canonical_json({"purpose": ACTIVITY_PURPOSE, "activity": activity})


def sign_activity(activity: dict[str, Any], private_key: Any) -> str:
    """base64url Ed25519 signature of the activity JSON (private_key: Ed25519PrivateKey)."""
    return _b64url(private_key.sign(activity_signing_input(activity)))


def verify_activity(activity: Any, signature: Any, public_key_b64: str, key_id: Any = None) -> bool:
    """True when `signature` was made over `activity` by the key `public_key_b64` (and,
    if given, `key_id` names that key). Never raises for malformed input."""
    return _verify_document(activity_signing_input, activity, signature, public_key_b64, key_id)


def _verify_document(signing_input: Any, doc: Any, signature: Any, public_key_b64: str, key_id: Any) -> bool:
    """The check behind verify_activity and verify_pack_issue: `signing_input(doc)` (which
    names the purpose) signed by the key; False, never an exception, for anything malformed."""
    try:
        if not isinstance(doc, dict) or not isinstance(signature, str):
            return False
        raw = base64.b64decode(public_key_b64, validate=True)
        if key_id is not None and key_id != key_id_for(raw):
            return False
        Ed25519PublicKey.from_public_bytes(raw).verify(_b64url_decode(signature), signing_input(doc))
    except (InvalidSignature, TypeError, ValueError, AttributeError, binascii.Error, RecursionError):
        return False
    return True


# ---------------------------------------------------------------- a content pack's issue
# The server also signs a pack's *issue*: the catalog revision and time it was made at, and
# the digest of each activity in it (activity_digest), so a pack cannot claim a newer
# revision than it was made at, nor carry other activities under a newer issue. Same key,
# another purpose string.

PACK_ISSUE_PURPOSE = "cme-offline-pack-issue-v1"


def activity_digest(activity: dict[str, Any]) -> str:
    """SHA-256 (hex) of an activity's canonical JSON: how a pack's issue names the exact activity."""
    return hashlib.sha256(canonical_json(activity)).hexdigest()


def pack_issue_signing_input(issue: dict[str, Any]) -> bytes:
    return canonical_json({"purpose": PACK_ISSUE_PURPOSE, "issue": issue})


def sign_pack_issue(issue: dict[str, Any], private_key: Any) -> str:
    """base64url Ed25519 signature of a pack's issue (private_key: Ed25519PrivateKey)."""
    return _b64url(private_key.sign(pack_issue_signing_input(issue)))


def verify_pack_issue(issue: Any, signature: Any, public_key_b64: str, key_id: Any = None) -> bool:
    """True when `signature` was made over `issue` by `public_key_b64` (and `key_id` names
    that key, if given). Never raises for malformed input."""
    return _verify_document(pack_issue_signing_input, issue, signature, public_key_b64, key_id)
