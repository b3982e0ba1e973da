"""A learner's credit record in the cache: certificates (rule 7) and the rows of My Credits.

Every function takes the learner id and touches only that learner's rows; plain
dataclasses out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from cmecore import protocol
from desktop.cache import models as m
from desktop.cache.db import Database


def missing_certificates(db: Database, learner_id: str) -> list[tuple[str, str]]:
    """(completion id, certificate id) of accepted claims whose certificate is not fully cached."""
    with db.read() as s:
        rows = s.execute(
            select(m.Completion.id, m.Completion.certificate_id)
            .outerjoin(m.Certificate, m.Certificate.id == m.Completion.certificate_id)
            .where(m.Completion.learner_id == learner_id, m.Completion.state == "accepted",
                   m.Completion.certificate_id.is_not(None),
                   or_(m.Certificate.id.is_(None), m.Certificate.pdf.is_(None), m.Certificate.credential.is_(None)))
            .order_by(m.Completion.created_at)
        )
        return [(a, b) for a, b in rows]


def store_certificate(db: Database, learner_id: str, record: protocol.CertificateRecord, pdf: bytes | None,
                      credential: dict | None, verified: bool, now: datetime) -> None:
    with db.write() as s:
        row = s.get(m.Certificate, record.id)
        if row is None:
            row = m.Certificate(id=record.id, learner_id=learner_id, completion_id=str(record.completion_id))
            s.add(row)
        elif row.learner_id != learner_id:
            return
        row.record = record.model_dump(mode="json")
        if pdf is not None:
            row.pdf = pdf
        if credential is not None:
            row.credential = credential
        row.verified = verified
        row.fetched_at = now


@dataclass(frozen=True)
class CertificateRow:
    id: str
    completion_id: str
    record: dict
    pdf: bytes | None
    credential: dict | None
    verified: bool


def get_certificate(db: Database, learner_id: str, certificate_id: str) -> CertificateRow | None:
    with db.read() as s:
        r = s.get(m.Certificate, certificate_id)
        if r is None or r.learner_id != learner_id:
            return None
        return CertificateRow(r.id, r.completion_id, dict(r.record or {}), r.pdf, r.credential, bool(r.verified))


# ---------------------------------------------------------------- my credits


@dataclass(frozen=True)
class CompletionRow:
    id: str
    activity_id: str
    title: str
    completed_at_corrected: datetime
    credit_type: str
    credits: float
    state: str
    reason: str | None
    certificate_id: str | None
    provider: str = ""  # the accredited provider of the credit ("" when this computer does not know it)
    certificate_here: bool = False  # its certificate's PDF is kept on this computer


def completion_rows(db: Database, learner_id: str) -> list[CompletionRow]:
    with db.read() as s:
        rows = s.scalars(select(m.Completion).where(m.Completion.learner_id == learner_id)
                         .order_by(m.Completion.completed_at_corrected.desc(), m.Completion.created_at.desc())).all()
        records = dict(s.execute(select(m.Certificate.id, m.Certificate.record)
                                 .where(m.Certificate.learner_id == learner_id)).all())
        with_pdf = set(s.scalars(select(m.Certificate.id).where(m.Certificate.learner_id == learner_id,
                                                                 m.Certificate.pdf.is_not(None))))
        statements = {(a, t): p for a, t, p in s.execute(
            select(m.AccreditationStatement.activity_id, m.AccreditationStatement.credit_type,
                   m.AccreditationStatement.provider).order_by(m.AccreditationStatement.position.desc()))}
        return [CompletionRow(c.id, c.activity_id, c.activity_title, c.completed_at_corrected, c.credit_type,
                              c.credits_claimed, c.state, c.reason, c.certificate_id,
                              _provider(records.get(c.certificate_id), statements.get((c.activity_id, c.credit_type))),
                              c.certificate_id in with_pdf)
                for c in rows]


def _provider(record: dict | None, statement_provider: str | None) -> str:
    """The credit's provider: as on the certificate, else as the cached activity names it for
    this credit type, else the certificate's providers (certificates issued before it was recorded)."""
    record = record or {}
    return (record.get("accredited_provider") or statement_provider
            or " and ".join(record.get("providers") or []))
