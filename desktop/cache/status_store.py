"""Revocation, kept for offline checks: each credit server's status lists as last fetched,
and on each certificate the result of its last check against them (schema 0012).

Plain values out (cmecore.credentials.StatusList, CertificateStatus); times are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from desktop.cache import models as m
from desktop.cache.db import Database

if TYPE_CHECKING:
    from cmecore.credentials import CredentialCheck, StatusList


def _utc(t: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; every time here is UTC."""
    return t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t


def save_status_list(db: Database, server_url: str, url: str, credential: dict, fetched_at: datetime) -> None:
    with db.write() as s:
        row = s.get(m.StatusList, url)
        if row is None:
            row = m.StatusList(url=url, server_url=server_url)
            s.add(row)
        row.server_url = server_url
        row.credential = credential
        row.fetched_at = fetched_at.astimezone(UTC).replace(tzinfo=None)


def kept_status_lists(db: Database, server_url: str) -> dict[str, StatusList]:
    """The lists kept for `server_url`, by the URL credentials name them by."""
    # memory: PyLD (~170 modules, ~18 MB) loads only when a certificate is checked
    from cmecore.credentials import StatusList

    with db.read() as s:
        rows = s.scalars(select(m.StatusList).where(m.StatusList.server_url == server_url)).all()
        return {r.url: StatusList(dict(r.credential), _utc(r.fetched_at)) for r in rows}


def credentials_on(db: Database, server_url: str) -> list[tuple[str, dict]]:
    """(certificate id, signed credential) of every certificate kept for learners of `server_url`."""
    with db.read() as s:
        rows = s.execute(select(m.Certificate.id, m.Certificate.credential)
                         .join(m.Learner, m.Learner.id == m.Certificate.learner_id)
                         .where(m.Learner.server_url == server_url, m.Certificate.credential.is_not(None)))
        return [(cid, dict(cred)) for cid, cred in rows]


def record_checks(db: Database, checks: list[tuple[str, CredentialCheck]]) -> None:
    """Keep each certificate's latest offline check."""
    with db.write() as s:
        for cert_id, check in checks:
            row = s.get(m.Certificate, cert_id)
            if row is None:
                continue
            row.verified = check.signature_valid
            row.form = check.form
            row.revoked = check.revoked
            row.status_checked_at = (check.status_checked_at.astimezone(UTC).replace(tzinfo=None)
                                     if check.status_checked_at else None)


@dataclass(frozen=True)
class CertificateStatus:
    form: str | None  # None: not checked since schema 0012
    verified: bool
    revoked: bool | None  # None: not known
    status_checked_at: datetime | None  # when the list that said so was fetched


def certificate_status(db: Database, learner_id: str) -> dict[str, CertificateStatus]:
    """The last check of each of this learner's certificates, by certificate id."""
    with db.read() as s:
        rows = s.execute(select(m.Certificate.id, m.Certificate.form, m.Certificate.verified, m.Certificate.revoked,
                                m.Certificate.status_checked_at).where(m.Certificate.learner_id == learner_id))
        return {cid: CertificateStatus(form, bool(ok), revoked, _utc(at)) for cid, form, ok, revoked, at in rows}
