"""Passwords and usernames: how they are hashed, compared and written down.

Passwords are hashed with Argon2id at the OWASP Password Storage Cheat Sheet's parameters
(19 MiB of memory, 2 passes, 1 lane): memory-hard, so a stolen `server.sqlite3` costs an
attacker memory as well as time per guess. Hashes written by earlier versions (scrypt,
N=2^14) still verify, and `needs_rehash` tells sign-in to replace them with Argon2id once
the right password is known. Text is hashed as UTF-8 with `surrogatepass`, so any string a
JSON body can carry hashes without an error (and a lone surrogate matches nothing stored).

Hashing runs on the request threads (the routes are plain functions, which FastAPI runs on
AnyIO's thread pool), never on the event loop, and argon2-cffi lets go of the GIL while it
works. At most one hash per CPU runs at a time (`_HASHING`): more would not finish sooner,
and each holds 19 MiB, so a crowd signing in at once costs a server process CPUs × 19 MiB,
not threads × 19 MiB.

A username has one written form (`normalise_username`: NFKC, casefold, trim), used when a
learner is added and when they sign in: "Demo", "demo " and the full-width "ｄｅｍｏ" are one
account.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import unicodedata

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP Password Storage Cheat Sheet: Argon2id, m = 19 MiB, t = 2, p = 1.
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1
_HASHER = PasswordHasher(
    time_cost=ARGON2_TIME_COST,
    memory_cost=ARGON2_MEMORY_KIB,
    parallelism=ARGON2_PARALLELISM,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)

_HASHING = threading.BoundedSemaphore(os.cpu_count() or 1)

# The password hash of a learner imported without a password (`learner import`): no password
# matches it, and sign-in compares against DUMMY_HASH instead, so it takes as long as any.
NO_PASSWORD = "!"

MIN_PASSWORD_LENGTH = 12  # for `learner add` (NIST SP 800-63B asks at least 8; OWASP 12 without MFA)


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def hash_password(password: str) -> str:
    """An Argon2id hash in the PHC string format (`$argon2id$v=19$m=…`)."""
    with _HASHING:
        return _HASHER.hash(_bytes(password))


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored` (an Argon2id hash, or an older scrypt one)."""
    if stored == NO_PASSWORD:
        return False
    if stored.startswith("scrypt$"):
        return _verify_scrypt(password, stored)
    try:
        with _HASHING:
            return _HASHER.verify(stored, _bytes(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True for a hash this server no longer writes: scrypt, or Argon2 at other parameters."""
    if not stored.startswith("$argon2id$"):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return True


def _verify_scrypt(password: str, stored: str) -> bool:
    """The hashes written before Argon2id: `scrypt$N$r$p$salt$digest`."""
    try:
        _scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        with _HASHING:
            digest = hashlib.scrypt(
                _bytes(password), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p), dklen=len(digest_hex) // 2
            )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


# Compared against when the username is unknown, so an unknown name costs the same time.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def password_problem(password: str) -> str | None:
    """Why a new password is refused (`learner add`, setting one with a code), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password: must be at least {MIN_PASSWORD_LENGTH} characters (it has {len(password)})"
    return None


def normalise_username(username: str) -> str:
    """The one written form of a username: NFKC, casefolded, without surrounding spaces."""
    return unicodedata.normalize("NFKC", username).casefold().strip()
