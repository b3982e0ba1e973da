"""Ed25519 public keys as Multikey and `did:key`, and multibase base58btc.

A `did:key` is the key itself (`did:key:z6Mk…`: multibase base58btc of the multicodec
ed25519-pub prefix 0xed 0x01 and the 32 raw bytes), so it resolves offline with no
registry and no request: the verification method `did:key:z6Mk…#z6Mk…` names both the
issuer (its controller) and the key that checks the proof.
"""

from __future__ import annotations

import base58

ED25519_PUB_PREFIX = b"\xed\x01"  # multicodec ed25519-pub, as an unsigned varint
BASE58BTC = "z"  # multibase prefix


def multibase_b58(data: bytes) -> str:
    return BASE58BTC + base58.b58encode(data).decode("ascii")


def decode_multibase_b58(text: str) -> bytes:
    """The bytes of a base58btc multibase string; ValueError for any other form."""
    if not isinstance(text, str) or not text.startswith(BASE58BTC) or len(text) < 2:
        raise ValueError("not a base58btc multibase value (it must start with 'z')")
    return base58.b58decode(text[1:])


def public_key_multibase(raw: bytes) -> str:
    """`z6Mk…`: the Multikey form of a raw 32-byte Ed25519 public key."""
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    return multibase_b58(ED25519_PUB_PREFIX + raw)


def did_key(raw: bytes) -> str:
    return "did:key:" + public_key_multibase(raw)


def verification_method(raw: bytes) -> str:
    """`did:key:z6Mk…#z6Mk…`, the key's one verification method."""
    mb = public_key_multibase(raw)
    return f"did:key:{mb}#{mb}"


def raw_key_from_verification_method(vm: str) -> bytes:
    """The raw Ed25519 key a `did:key:z6Mk…#z6Mk…` names; ValueError for anything else
    (another DID method, another key type, a fragment that is not the key)."""
    if not isinstance(vm, str) or not vm.startswith("did:key:"):
        raise ValueError("the verification method is not a did:key")
    did, _, fragment = vm.partition("#")
    mb = did[len("did:key:"):]
    if fragment and fragment != mb:
        raise ValueError("the did:key's fragment is not its key")
    data = decode_multibase_b58(mb)
    if not data.startswith(ED25519_PUB_PREFIX) or len(data) != 34:
        raise ValueError("the did:key is not an Ed25519 key")
    return data[2:]


def controller_of(vm: str) -> str:
    """The DID that controls a did:key verification method (the part before '#')."""
    return vm.partition("#")[0]
