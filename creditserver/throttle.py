"""Failed sign-ins slow down: per username and per client address, with growing delays.

A few failures are free (a typo, a forgotten caps lock). After that each failure locks
the username (or the address) for twice as long as the one before, up to `max_delay_s`;
while locked, `POST /auth/token` answers 429 with Retry-After and does not even look at
the password, so a right password during the lockout is refused too. Failures older than
`forget_after_s` are forgotten. A right password clears its username's count and takes
its own attempt off the address's count.

Every attempt is *reserved* as a failure before its password is checked (and given back
when it turns out right), so a burst of parallel guesses cannot all slip in before the
first one is counted. The counts live in the database (`SignInFailures`), like all of the
server's state: several server processes share them and a restart forgives nothing. In a
process the reservation is taken under one lock, which serialises it on SQLite; on
PostgreSQL the rows are locked with SELECT … FOR UPDATE.

Trade-off: anyone can lock a username for up to `max_delay_s` by guessing; the address
limit is higher because a ward's workstations often share one address.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db import Database
from .models import SignInFailures, utcnow


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
    """Reserve an attempt before checking a password; settle it after."""

    def __init__(self, db: Database, settings: ThrottleSettings | None = None) -> None:
        self.db = db
        self.settings = settings or ThrottleSettings()
        self._lock = threading.Lock()

    def _free(self, keys: ThrottleKeys) -> Mapping[str, int]:
        return {keys.username: self.settings.free_failures_per_username, keys.address: self.settings.free_failures_per_address}

    def reserve(self, keys: ThrottleKeys) -> float:
        """0 when the attempt may go ahead (it now counts as a failure), else seconds to wait."""
        for attempt in range(3):
            try:
                with self._lock, self.db.session() as s:
                    return self._reserve(s, keys, utcnow())
            except IntegrityError:  # another process inserted the same key first: read it again
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _reserve(self, s: Session, keys: ThrottleKeys, now: datetime) -> float:
        free = self._free(keys)
        rows = {
            r.key: r
            for r in s.execute(select(SignInFailures).where(SignInFailures.key.in_(list(free))).with_for_update()).scalars()
        }
        wait = max(((r.locked_until - now).total_seconds() for r in rows.values() if r.locked_until and r.locked_until > now), default=0.0)
        if wait > 0:
            return wait
        forget = timedelta(seconds=self.settings.forget_after_s)
        for key, free_failures in free.items():
            row = rows.get(key)
            if row is None:
                row = SignInFailures(key=key, failures=0, last_failure_at=now)
                s.add(row)
            elif row.last_failure_at < now - forget:
                row.failures = 0
            row.failures += 1
            row.last_failure_at = now
            delay = self.settings.delay_s(row.failures, free_failures)
            row.locked_until = now + timedelta(seconds=delay) if delay else None
        # Keep the table small: rows nobody has failed on for a while count for nothing.
        s.execute(delete(SignInFailures).where(SignInFailures.last_failure_at < now - forget))
        return 0.0

    def succeeded(self, keys: ThrottleKeys) -> None:
        """The password was right: clear the username, give the address its attempt back."""
        with self._lock, self.db.session() as s:
            s.execute(delete(SignInFailures).where(SignInFailures.key == keys.username))
            row = s.get(SignInFailures, keys.address, with_for_update=True)
            if row is not None:
                row.failures = max(0, row.failures - 1)
                delay = self.settings.delay_s(row.failures, self.settings.free_failures_per_address)
                row.locked_until = row.last_failure_at + timedelta(seconds=delay) if delay else None


def retry_after(wait_s: float) -> int:
    """The Retry-After value for a wait: whole seconds, at least 1."""
    return max(1, math.ceil(wait_s))
