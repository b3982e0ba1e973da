"""Revocation by W3C Bitstring Status List v1.0.

Each credential carries a `BitstringStatusListEntry` (statusPurpose "revocation", its
`statusListIndex` and the `statusListCredential` URL); the issuer publishes that list as a
signed `BitstringStatusListCredential` whose `encodedList` is the bitstring, GZIP
compressed, base64url without padding, multibase prefix "u". Bit 0 is the left-most bit of
the first byte. A set bit means revoked. Every list holds at least 131,072 bits (16 KB),
the spec's minimum, so one credential's index says nothing about how many were issued.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
from collections.abc import Iterable
from typing import Any

from .jsonld import CREDENTIALS_V2

LIST_BITS = 131_072  # 16 KB: the spec's minimum size
ENTRY_TYPE = "BitstringStatusListEntry"
LIST_TYPE = "BitstringStatusList"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
REVOCATION = "revocation"
_MAX_LIST_BYTES = 16 * 1024 * 1024  # refuse a list that inflates past this


def encode_list(set_bits: Iterable[int], size: int = LIST_BITS) -> str:
    """`encodedList` for a bitstring of `size` bits with `set_bits` set."""
    size = max(size, LIST_BITS)
    bits = bytearray((size + 7) // 8)
    for index in set_bits:
        if not 0 <= index < size:
            raise ValueError(f"status index {index} is outside the list (0..{size - 1})")
        bits[index // 8] |= 0x80 >> (index % 8)
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def decode_list(encoded: str) -> bytes:
    """The bitstring of an `encodedList`; ValueError when it is not one."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise ValueError("encodedList is not multibase base64url (it must start with 'u')")
    try:
        body = encoded[1:]
        packed = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
        with gzip.GzipFile(fileobj=io.BytesIO(packed)) as f:
            bits = f.read(_MAX_LIST_BYTES + 1)
    except (ValueError, OSError, EOFError, binascii.Error) as exc:
        raise ValueError(f"encodedList cannot be decoded ({exc})") from None
    if len(bits) > _MAX_LIST_BYTES:
        raise ValueError("encodedList is too large")
    if len(bits) < LIST_BITS // 8:
        raise ValueError(f"the list has {len(bits) * 8} bits, fewer than the {LIST_BITS} a status list must have")
    return bits


def bit_is_set(bits: bytes, index: int) -> bool:
    if not 0 <= index < len(bits) * 8:
        raise ValueError(f"status index {index} is outside the list of {len(bits) * 8} bits")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_entry(list_url: str, index: int) -> dict[str, Any]:
    """A credential's `credentialStatus` for bit `index` of the list at `list_url`."""
    return {
        "id": f"{list_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": REVOCATION,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_list_credential(list_url: str, issuer_id: str, valid_from: str, revoked: Iterable[int],
                           ttl_ms: int | None = None) -> dict[str, Any]:
    """The (unsigned) BitstringStatusListCredential published at `list_url`."""
    subject: dict[str, Any] = {
        "id": f"{list_url}#list",
        "type": LIST_TYPE,
        "statusPurpose": REVOCATION,
        "encodedList": encode_list(revoked),
    }
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    return {
        "@context": [CREDENTIALS_V2],
        "id": list_url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer_id,
        "validFrom": valid_from,
        "credentialSubject": subject,
    }


def revocation_entry(credential: dict[str, Any]) -> dict[str, Any] | None:
    """The credential's revocation status entry, if it has one."""
    status = credential.get("credentialStatus")
    for entry in status if isinstance(status, list) else [status]:
        if isinstance(entry, dict) and entry.get("type") == ENTRY_TYPE and entry.get("statusPurpose") == REVOCATION:
            return entry
    return None

