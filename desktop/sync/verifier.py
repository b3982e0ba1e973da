"""The offline password check: proof of who a learner is when the server is out of reach.

Switching learner or unlocking on a shared workstation needs that learner's password. Online
the server checks it (a fresh token request); offline this computer checks it against a
verifier written at the learner's last successful online sign-in here. The verifier is a
memory-hard hash, never the password: scrypt at the OWASP Password Storage Cheat Sheet's
parameters (N = 2^17, r = 8, p = 1: 128 MiB and about half a second a guess), over the
password with a random 16-byte salt per learner and per sign-in, kept in the OS keyring
beside the refresh token as `scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>`. A copy of the
keyring therefore costs an attacker 128 MiB and half a second for each password tried.
Compared in constant time. Wrong passwords in a row hold the check back (`hold_after`),
counted in the cache so a restart does not reset them; online the server throttles.
Plain Python (hashlib, hmac, keyring).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

import keyring
import keyring.errors

from desktop.errors import KeyringUnavailable
from desktop.sync.keyring_choice import use_os_keyring

SCHEME = "scrypt"
LOG2_N = 17
R = 8
P = 1
SALT_BYTES = 16
HASH_BYTES = 32
# hashlib's default cap (32 MiB) is below what N=2^17, r=8 needs (128 * N * r = 128 MiB).
MAX_MEMORY = 160 * 1024 * 1024


# Offline guessing: 5 free tries, then the check waits 1 minute, doubling with each further
# wrong password up to an hour; the right password (checked after the wait) clears it.
FREE_TRIES = 5
FIRST_HOLD = timedelta(minutes=1)
LONGEST_HOLD = timedelta(hours=1)


def hold_after(failures: int) -> timedelta | None:
    """How long the offline check is held back after `failures` wrong passwords in a row."""
    if failures < FREE_TRIES:
        return None
    return min(FIRST_HOLD * (2 ** min(failures - FREE_TRIES, 10)), LONGEST_HOLD)


def make_verifier(password: str) -> str:
    """A new verifier for `password` (fresh salt): the text kept in the keyring."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, LOG2_N, R, P)
    return "$".join([SCHEME, str(LOG2_N), str(R), str(P), _b64(salt), _b64(digest)])


def matches(verifier: str, password: str) -> bool:
    """Whether `password` is the one `verifier` was made from (False for a damaged verifier)."""
    try:
        scheme, log2_n, r, p, salt, digest = verifier.split("$")
        if scheme != SCHEME or not (10 <= int(log2_n) <= 22 and 1 <= int(r) <= 32 and 1 <= int(p) <= 16):
            return False
        expected = base64.b64decode(digest, validate=True)
        found = _scrypt(password, base64.b64decode(salt, validate=True), int(log2_n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, expected)


def _scrypt(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, n=1 << log2_n, r=r, p=p,
                          maxmem=MAX_MEMORY, dklen=HASH_BYTES)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class VerifierVault:
    """Each learner's verifier in the OS keyring: one entry per server and username."""

    def __init__(self, server_url: str):
        self.service = f"CME Offline offline password check @ {server_url}"
        use_os_keyring()

    def store(self, username: str, password: str) -> None:
        try:
            keyring.set_password(self.service, username, make_verifier(password))
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable() from exc

    def check(self, username: str, password: str) -> bool | None:
        """True if `password` is this learner's, False if not, None if no verifier is kept here."""
        try:
            kept = keyring.get_password(self.service, username)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable() from exc
        if not kept:
            return None
        return matches(kept, password)

    def delete(self, username: str) -> None:
        try:
            keyring.delete_password(self.service, username)
        except keyring.errors.PasswordDeleteError:
            pass  # none was kept
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable() from exc
