"""Housekeeping: `cme-credit-server prune`, also run at every start.

Every sign-in adds a refresh and an access token, every refresh an access token, and every
refused completion a rejection record; nothing removed them, so at provider scale the
tables grew without end. Pruning deletes what can no longer be used or is no longer useful:
access and refresh tokens past their expiry (a device holding one gets a 401 either way and
signs in again, or refreshes: the desktop refreshes on any 401), set-password codes past
theirs, and rejection records older than `rejection_days` (90 by default; the provider's
window for looking into a learner's refused claims). Nothing else is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select

from .db import Database
from .models import AccessToken, CompletionRejection, RefreshToken, SetPasswordCode, utcnow

DEFAULT_REJECTION_DAYS = 90
MAX_REJECTION_DAYS = 36_500


@dataclass(frozen=True)
class Pruned:
    access_tokens: int
    refresh_tokens: int
    set_password_codes: int
    rejections: int

    def summary(self) -> str:
        return (f"pruned {self.access_tokens} expired access tokens, {self.refresh_tokens} expired refresh tokens, "
                f"{self.set_password_codes} expired set-password codes and {self.rejections} old rejection records")


def check_rejection_days(days: int) -> None:
    if not 0 <= days <= MAX_REJECTION_DAYS:
        raise ValueError(f"--rejection-days: must be between 0 and {MAX_REJECTION_DAYS} days (got {days})")


def prune(db: Database, *, rejection_days: int = DEFAULT_REJECTION_DAYS, now: datetime | None = None) -> Pruned:
    """Delete expired tokens and codes and rejection records older than `rejection_days`, in one transaction."""
    check_rejection_days(rejection_days)
    now = now or utcnow()
    with db.session() as s:
        expired_refresh = select(RefreshToken.id).where(RefreshToken.expires_at <= now)
        access = s.execute(
            delete(AccessToken).where(or_(AccessToken.expires_at <= now, AccessToken.refresh_id.in_(expired_refresh)))
        ).rowcount
        refresh = s.execute(delete(RefreshToken).where(RefreshToken.expires_at <= now)).rowcount
        codes = s.execute(delete(SetPasswordCode).where(SetPasswordCode.expires_at <= now)).rowcount
        rejections = s.execute(
            delete(CompletionRejection).where(CompletionRejection.received_at < now - timedelta(days=rejection_days))
        ).rowcount
    return Pruned(access or 0, refresh or 0, codes or 0, rejections or 0)
