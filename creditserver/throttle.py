"""Failed sign-ins slow down: per username and per client address, with growing delays.

A few failures are free (a typo, a forgotten caps lock). After that each failure locks
the username (or the address) for twice as long as the one before, up to `max_delay_s`;
while locked, `POST /auth/token` answers 429 with Retry-After and does not even look at
the password, so a right password during the lockout is refused too. Failures older than
`forget_after_s` are forgotten. A right password clears its username's count.

The counts live in the database (`SignInFailures`), like all of the server's state:
several server processes share them and a restart forgives nothing. No lock is held in
the process and none across the password hash. A sign-in takes one short transaction
before the hash (`reserve`, and the learner's lookup beside it) and one after (`failed`,
or `succeeded` beside the new tokens), so hundreds of sign-ins hash in parallel.

Username: every attempt is *reserved* as a failure before its password is checked (and
cleared when it turns out right), so a burst of parallel guesses on one username cannot
all slip in before the first is counted. The reservation is one atomic statement, an
`INSERT … ON CONFLICT DO UPDATE … RETURNING` on the username's row (SQLite ≥ 3.35 and
PostgreSQL alike): the database's row lock (PostgreSQL) or write lock (SQLite) orders
concurrent attempts across threads and processes, and the count each one gets back
decides alone whether it goes ahead.

Address: only a password found wrong counts, after its check; at the start an attempt is
refused if the address is locked. Reserving on the address too would count every
clinician still waiting for their hash as a failure, and a ward of 200 signing in at once
behind one hospital NAT address would lock itself out although every password is right.
The trade-off: an attacker guessing from one address across many usernames at once gets
their guesses in flight checked before the address's count catches up: the address limit
can be overshot by the attempts in flight at that moment (no more than the free tries of
each username guessed, nor than the server's request threads). Once they are counted, the
address is locked for every username as before.

Anyone can lock a username for up to `max_delay_s` by guessing; the address limit is
higher because a ward's workstations often share one address.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import SignInFailures, UTCDateTime, utcnow

_FAILURES = SignInFailures.__table__
# INSERT … ON CONFLICT is each dialect's own construct (same SQL on both).
_UPSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


@dataclass(frozen=True)
class ThrottleSettings:
    """After `free_failures_…` failures in a row, each failure locks the key for longer."""

    free_failures_per_username: int = 5
    free_failures_per_address: int = 30
    first_delay_s: float = 2.0
    max_delay_s: float = 900.0
    forget_after_s: float = 3600.0

    def delay_s(self, failures: int, free: int) -> float:
        """How long `failures` consecutive failures lock a key: 0, then 2 s, 4 s … up to the cap."""
        if failures < free:
            return 0.0
        return min(self.first_delay_s * 2.0 ** min(failures - free, 60), self.max_delay_s)

    def allowed_attempts(self, seconds: float, free: int) -> int:
        """Attempts a patient attacker gets on one key in `seconds` (for the bench and docs)."""
        attempts, t = 0, 0.0
        while t <= seconds:
            attempts += 1
            t += self.delay_s(attempts, free)
        return attempts


@dataclass(frozen=True)
class ThrottleKeys:
    username: str
    address: str


def keys_for(normalised_username: str, client_address: str | None) -> ThrottleKeys:
    def digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    return ThrottleKeys(digest("user:" + normalised_username), digest("address:" + (client_address or "unknown")))


class SignInThrottle:
    """Reserve an attempt before checking a password; settle it after.

    Each method runs in the caller's session and commits nothing itself: `reserve` in the
    transaction that looks the learner up, `failed` in its own, `succeeded` in the one that
    issues the tokens. Safe from any number of threads and processes (module docstring)."""

    def __init__(self, settings: ThrottleSettings | None = None) -> None:
        self.settings = settings or ThrottleSettings()

    def reserve(self, s: Session, keys: ThrottleKeys) -> float:
        """0 when the attempt may go ahead (it now counts as a failure of its username),
        else the seconds to wait: the username or the address is locked."""
        now = utcnow()
        # Read first, so a locked address counts nothing against the username. A plain read:
        # an address locked a moment later lets this attempt through, as it does the ones
        # already hashing (module docstring).
        address_lock = s.execute(select(_FAILURES.c.locked_until).where(_FAILURES.c.key == keys.address)).scalar()
        if address_lock is not None and address_lock > now:
            return (address_lock - now).total_seconds()
        failures, locked_until = self._count(s, keys.username, now, unless_locked=True)
        if locked_until is not None and locked_until > now:
            return (locked_until - now).total_seconds()
        self._lock_for(s, keys.username, failures, self.settings.free_failures_per_username, now)
        return 0.0

    def failed(self, s: Session, keys: ThrottleKeys) -> None:
        """The password was wrong: the username counted it when reserving; count it for the address."""
        now = utcnow()
        failures, _ = self._count(s, keys.address, now, unless_locked=False)
        self._lock_for(s, keys.address, failures, self.settings.free_failures_per_address, now)
        self._forget_old(s, now)

    def succeeded(self, s: Session, keys: ThrottleKeys) -> None:
        """The password was right: clear the username's count (its reservations too)."""
        s.execute(delete(SignInFailures).where(SignInFailures.key == keys.username))

    def _count(self, s: Session, key: str, now: datetime, *, unless_locked: bool) -> tuple[int, datetime | None]:
        """Add one failure to `key` in one atomic statement; returns (failures, locked_until).

        With `unless_locked`, a key locked now keeps its row unchanged and its lock comes back;
        otherwise the lock is cleared here and set again by `_lock_for` from the new count."""
        c = _FAILURES.c
        forgotten = c.last_failure_at < now - timedelta(seconds=self.settings.forget_after_s)
        counted = {
            "failures": case((forgotten, 1), else_=c.failures + 1),
            "last_failure_at": literal(now, UTCDateTime()),
            "locked_until": literal(None, UTCDateTime()),
        }
        if unless_locked:  # a locked row keeps every value (the old ones, on the right of SET)
            locked = c.locked_until > now
            counted = {name: case((locked, c[name]), else_=value) for name, value in counted.items()}
        first = _UPSERT[s.get_bind().dialect.name](_FAILURES).values(key=key, failures=1, last_failure_at=now)
        upsert = first.on_conflict_do_update(index_elements=[c.key], set_=counted)
        failures, locked_until = s.execute(upsert.returning(c.failures, c.locked_until)).one()
        return failures, locked_until

    def _lock_for(self, s: Session, key: str, failures: int, free: int, now: datetime) -> None:
        """Lock `key` for as long as `failures` deserve (its row is already this transaction's)."""
        delay = self.settings.delay_s(failures, free)
        if delay:
            until = now + timedelta(seconds=delay)
            s.execute(update(SignInFailures).where(SignInFailures.key == key).values(locked_until=until))

    def _forget_old(self, s: Session, now: datetime) -> None:
        """Keep the table small: rows nobody has failed on for a while count for nothing.

        Rows another transaction holds are left for next time (SKIP LOCKED on PostgreSQL;
        SQLite has one writer), so concurrent failures never wait on or deadlock over them."""
        old = select(_FAILURES.c.key).where(
            _FAILURES.c.last_failure_at < now - timedelta(seconds=self.settings.forget_after_s)
        ).with_for_update(skip_locked=True)
        s.execute(delete(SignInFailures).where(SignInFailures.key.in_(old)))


def retry_after(wait_s: float) -> int:
    """The Retry-After value for a wait: whole seconds, at least 1."""
    return max(1, math.ceil(wait_s))
