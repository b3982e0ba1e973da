"""Learner profiles on this machine (never tokens: those live in the OS keyring)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from cmecore import protocol
from desktop.cache import models as m
from desktop.cache.db import Database


@dataclass(frozen=True)
class LearnerInfo:
    id: str
    server_url: str
    username: str
    display_name: str
    profession: str
    degree: str
    nabp_eprofile_id: str | None
    birth_mmdd: str | None


def _info(row: m.Learner) -> LearnerInfo:
    return LearnerInfo(
        row.id, row.server_url, row.username, row.display_name, row.profession, row.degree,
        row.nabp_eprofile_id, row.birth_mmdd,
    )


def save_signed_in(db: Database, profile: protocol.LearnerProfile, server_url: str, now: datetime) -> LearnerInfo:
    """Record `profile` as the learner now signed in on `server_url`."""
    with db.write() as session:
        row = session.get(m.Learner, profile.id) or m.Learner(id=profile.id)
        for name, value in profile.model_dump(mode="json").items():
            if name != "id":
                setattr(row, name, value)
        row.server_url = server_url
        row.signed_in = True
        row.last_signed_in_at = now
        session.add(row)
        session.flush()
        return _info(row)


def mark_signed_out(db: Database, learner_id: str) -> None:
    with db.write() as session:
        session.execute(update(m.Learner).where(m.Learner.id == learner_id).values(signed_in=False))


def current_learner(db: Database, server_url: str) -> LearnerInfo | None:
    """The learner who signed in most recently on this server and has not signed out."""
    with db.read() as session:
        row = session.scalars(
            select(m.Learner)
            .where(m.Learner.server_url == server_url, m.Learner.signed_in.is_(True))
            .order_by(m.Learner.last_signed_in_at.desc())
            .limit(1)
        ).first()
        return _info(row) if row else None
