"""One answer to "is this certificate genuine, and still valid?", for every reader.

`check_credential(doc, keys, status_lists)` is what the desktop (a file the learner opens,
each certificate after sync), the server and its public verification page call. It says
which form the credential is in and checks it the way that form is checked:

- "OB 3.0 eddsa-rdfc-2022" (issued since issue 13): the Data Integrity proof against the
  did:key it names, which must be one of `keys`; every field defined by the pinned contexts
  (an undefined one would not be signed); revocation from the Bitstring Status List the
  credential points at, if the caller has that list (`status_lists`, each with the time it
  was fetched: a list is only as current as its fetch, and readers say how old it is).
- "legacy cme-offline-ed25519-2026" (issued before): the old proof, checked by
  cmecore.signatures; such a credential has no status entry, so `revoked` is None.

Pure and offline: no network, no clock unless the caller passes one. Never raises for a
malformed document, key or list; that is a check that failed, with the reason.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pyld.jsonld import JsonLdError

from cmecore import signatures

from .eddsa_rdfc import is_eddsa_rdfc, proofs_of, verify_proof
from .jsonld import UnknownContext, undefined_terms
from .status_list import LIST_CREDENTIAL_TYPE, REVOCATION, bit_is_set, decode_list, revocation_entry

FORM_OB3 = "OB 3.0 eddsa-rdfc-2022"
FORM_LEGACY = "legacy cme-offline-ed25519-2026"
FORM_UNKNOWN = "unrecognised"


@dataclass(frozen=True)
class StatusList:
    """A BitstringStatusListCredential as fetched, and when."""

    credential: dict[str, Any]
    fetched_at: datetime


@dataclass(frozen=True)
class CredentialCheck:
    form: str  # FORM_OB3, FORM_LEGACY or FORM_UNKNOWN
    signature_valid: bool  # the proof verifies with one of the trusted keys
    revoked: bool | None = None  # None: not known (no status entry, or no list to check against)
    status_checked_at: datetime | None = None  # when the list that answered `revoked` was fetched
    reason: str = ""  # plain words: why not valid, or what could not be checked
    status_list_url: str | None = None  # the list this credential's status is in (OB 3.0 form)

    @property
    def valid(self) -> bool:
        """Genuine and not known to be revoked."""
        return self.signature_valid and self.revoked is not True


def _raw_keys(keys: Iterable[str]) -> set[bytes]:
    out = set()
    for key in keys:
        try:
            raw = base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError, TypeError):
            continue
        if len(raw) == 32:
            out.add(raw)
    return out


def check_credential(doc: Any, keys: Iterable[str], status_lists: Mapping[str, StatusList] | None = None
                     ) -> CredentialCheck:
    """Check `doc` against the issuer's public `keys` (raw Ed25519, standard base64, as
    GET /keys gives them) and, for revocation, `status_lists` by statusListCredential URL."""
    keys = list(keys)
    if not isinstance(doc, dict):
        return CredentialCheck(FORM_UNKNOWN, False, reason="This is not a signed credential.")
    proofs = proofs_of(doc)
    if any(is_eddsa_rdfc(p) for p in proofs):
        return _check_ob3(doc, [p for p in proofs if is_eddsa_rdfc(p)], _raw_keys(keys), status_lists or {})
    if isinstance(doc.get("proof"), dict) and doc["proof"].get("cryptosuite") == signatures.CRYPTOSUITE:
        ok = any(signatures.verify_credential(doc, key) for key in keys)
        return CredentialCheck(FORM_LEGACY, ok, None, None, "" if ok else _NO_MATCH)
    return CredentialCheck(FORM_UNKNOWN, False, reason="The credential has no proof this program can check.")


_NO_MATCH = ("The signature does not match: this certificate was changed, or was not issued by this credit server.")


_MEMO_SIZE = 4096
_memo: dict[bytes, str] = {}  # digest of (document, trusted keys) -> _verify's answer


def _verified(doc: dict[str, Any], proofs: list[dict[str, Any]], trusted: set[bytes]) -> str:
    """_verify, remembered: a client checks every certificate again after each sync, and a
    credential and its status list rarely change, so each exact (document, keys) pair is
    canonicalised and verified once per process."""
    try:
        text = json.dumps(doc, sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return "The credential cannot be read as JSON."
    digest = hashlib.sha256(text.encode("utf-8") + b"".join(sorted(trusted))).digest()
    answer = _memo.get(digest)
    if answer is None:
        answer = _verify(doc, proofs, trusted)
        if len(_memo) >= _MEMO_SIZE:
            _memo.clear()
        _memo[digest] = answer
    return answer


def _verify(doc: dict[str, Any], proofs: list[dict[str, Any]], trusted: set[bytes]) -> str:
    """"" when one of `proofs` verifies with a trusted key and every field is signed; else why not."""
    reason = _NO_MATCH
    try:
        for proof in proofs:
            result = verify_proof(doc, proof)
            if result.valid and result.public_key in trusted:
                dropped = undefined_terms(doc)
                if dropped:
                    return ("The credential has fields no context defines, so they are not signed: "
                            + ", ".join(dropped[:5]) + ".")
                return ""
            if result.valid:
                reason = "The signature is valid but was made with a key this credit server does not use."
    except UnknownContext as exc:
        return f"Not verified: the credential uses a JSON-LD context this program does not carry ({exc.url})."
    except (JsonLdError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        return f"The credential cannot be read as JSON-LD ({type(exc).__name__})."
    return reason


def _check_ob3(doc: dict[str, Any], proofs: list[dict[str, Any]], trusted: set[bytes],
               status_lists: Mapping[str, StatusList]) -> CredentialCheck:
    reason = _verified(doc, proofs, trusted)
    if reason:
        return CredentialCheck(FORM_OB3, False, reason=reason)
    entry = revocation_entry(doc)
    if entry is None:
        return CredentialCheck(FORM_OB3, True, reason="The credential has no revocation status to check.")
    url = entry.get("statusListCredential")
    listed = status_lists.get(url) if isinstance(url, str) else None
    if listed is None:
        return CredentialCheck(FORM_OB3, True, reason="Its revocation status has not been fetched yet.",
                               status_list_url=url if isinstance(url, str) else None)
    revoked, why = _revoked(entry, url, listed, trusted)
    return CredentialCheck(FORM_OB3, True, revoked, listed.fetched_at if revoked is not None else None,
                           why, status_list_url=url)


def _revoked(entry: dict[str, Any], url: str, listed: StatusList, trusted: set[bytes]) -> tuple[bool | None, str]:
    """(revoked, reason) from the status list; (None, why) when the list cannot be trusted."""
    status = listed.credential
    if not isinstance(status, dict) or status.get("id") != url or LIST_CREDENTIAL_TYPE not in (status.get("type") or []):
        return None, "The revocation list kept here is not the one this credential names."
    if _verified(status, [p for p in proofs_of(status) if is_eddsa_rdfc(p)], trusted):
        return None, "The revocation list kept here is not signed by this credit server."
    subject = status.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("statusPurpose") != REVOCATION:
        return None, "The revocation list kept here is not a revocation list."
    try:
        revoked = bit_is_set(decode_list(subject.get("encodedList")), int(entry.get("statusListIndex")))
    except (TypeError, ValueError) as exc:
        return None, f"The revocation list could not be read ({exc})."
    return revoked, "This certificate has been revoked by its issuer." if revoked else ""
