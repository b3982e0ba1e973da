"""Housekeeping: `cme-credit-server prune`, also run at every start.

Every sign-in adds a refresh and an access token, every refresh an access token, and every
refused completion a rejection record; nothing removed them, so at provider scale the
tables grew without end. Pruning deletes what can no longer be used or is no longer useful:
access and refresh tokens past their expiry (a device holding one gets a 401 either way and
signs in again, or refreshes: the desktop refreshes on any 401), set-password codes past
theirs, rejection records older than `rejection_days` (90 by default; the provider's
window for looking into a learner's refused claims), and xAPI statements the learning record
store took more than `sent_statement_days` ago (30 by default: the LRS keeps its own copy,
and `lrs retry --all` can send again only what is still here; queued and refused ones stay
until they are sent). Nothing else is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select

from .db import Database
from .lrs.outbox import SENT
from .models import AccessToken, CompletionRejection, RefreshToken, SetPasswordCode, XapiOutboxItem, utcnow

DEFAULT_REJECTION_DAYS = 90
DEFAULT_SENT_STATEMENT_DAYS = 30
MAX_RETENTION_DAYS = 36_500


@dataclass(frozen=True)
class Pruned:
    access_tokens: int
    refresh_tokens: int
    set_password_codes: int
    rejections: int
    sent_statements: int

    def summary(self) -> str:
        return (f"pruned {self.access_tokens} expired access tokens, {self.refresh_tokens} expired refresh tokens, "
                f"{self.set_password_codes} expired set-password codes, {self.rejections} old rejection records "
                f"and {self.sent_statements} xAPI statements sent long ago")


def check_rejection_days(days: int) -> None:
    _check_days("--rejection-days", days)


def check_sent_statement_days(days: int) -> None:
    _check_days("--sent-statement-days", days)


def _check_days(option: str, days: int) -> None:
    if not 0 <= days <= MAX_RETENTION_DAYS:
        raise ValueError(f"{option}: must be between 0 and {MAX_RETENTION_DAYS} days (got {days})")


def prune(db: Database, *, rejection_days: int = DEFAULT_REJECTION_DAYS,
          sent_statement_days: int = DEFAULT_SENT_STATEMENT_DAYS, now: datetime | None = None) -> Pruned:
    """Delete expired tokens and codes, rejection records older than `rejection_days` and
    statements sent more than `sent_statement_days` ago, in one transaction."""
    check_rejection_days(rejection_days)
    check_sent_statement_days(sent_statement_days)
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
        sent = s.execute(delete(XapiOutboxItem).where(
            XapiOutboxItem.state == SENT, XapiOutboxItem.sent_at < now - timedelta(days=sent_statement_days))).rowcount
    return Pruned(access or 0, refresh or 0, codes or 0, rejections or 0, sent or 0)
