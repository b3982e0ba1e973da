"""Learner profiles on this machine (never tokens: those live in the OS keyring).

Several learners may be signed in on one workstation; the current one is the learner who
proved who they are most recently (signed in, or gave their password to switch or to
unlock) and has not signed out or been locked since: the one *unlocked* learner. Making a
learner current locks every other learner on that server, so the next person at the
keyboard never inherits someone's session (after a sign-out, a switch or the idle lock,
nobody is current until someone proves who they are).
"""

from __future__ import annotations

from collections.abc import Sequence
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
        _lock_all(session, server_url)
        row.signed_in = True
        row.unlocked = True
        row.last_signed_in_at = now
        row.failed_proofs, row.proofs_held_until = 0, None
        session.add(row)
        session.flush()
        return _info(row)


def mark_signed_out(db: Database, learner_id: str) -> None:
    with db.write() as session:
        session.execute(update(m.Learner).where(m.Learner.id == learner_id).values(signed_in=False, unlocked=False))


def current_learner(db: Database, server_url: str) -> LearnerInfo | None:
    """The signed-in learner who proved who they are in this session (None while locked)."""
    with db.read() as session:
        row = session.scalars(
            select(m.Learner)
            .where(m.Learner.server_url == server_url, m.Learner.signed_in.is_(True), m.Learner.unlocked.is_(True))
            .order_by(m.Learner.last_signed_in_at.desc())
            .limit(1)
        ).first()
        return _info(row) if row else None


def make_current(db: Database, learner_id: str, now: datetime) -> LearnerInfo:
    """Make a learner signed in on this machine the current one, locking every other (the
    caller has checked their password: switching learners, unlocking)."""
    with db.write() as s:
        row = s.get(m.Learner, learner_id)
        if row is None:
            raise LookupError(learner_id)
        _lock_all(s, row.server_url)
        row.signed_in = True
        row.unlocked = True
        row.last_signed_in_at = now
        row.failed_proofs, row.proofs_held_until = 0, None
        s.flush()
        return _info(row)


def proofs_held_until(db: Database, learner_id: str) -> datetime | None:
    """Until when this learner's offline password check is held back after wrong passwords."""
    with db.read() as s:
        row = s.get(m.Learner, learner_id)
        return row.proofs_held_until if row is not None else None


def record_failed_proof(db: Database, learner_id: str, now: datetime, hold_for) -> None:
    """Count a wrong password at the offline check; `hold_for(failures)` says how long
    (a timedelta, or None) the check is then held back."""
    with db.write() as s:
        row = s.get(m.Learner, learner_id)
        if row is None:
            return
        row.failed_proofs = (row.failed_proofs or 0) + 1
        hold = hold_for(row.failed_proofs)
        row.proofs_held_until = now + hold if hold else None


def lock_all(db: Database, server_url: str) -> None:
    """Nobody is current on this server until someone proves who they are (idle lock)."""
    with db.write() as s:
        _lock_all(s, server_url)


def _lock_all(session, server_url: str) -> None:
    session.execute(update(m.Learner).where(m.Learner.server_url == server_url).values(unlocked=False))


def signed_in_learners(db: Database, server_url: str) -> list[LearnerInfo]:
    """Every learner signed in (not signed out) on this server, the current one first."""
    with db.read() as s:
        rows = s.scalars(
            select(m.Learner)
            .where(m.Learner.server_url == server_url, m.Learner.signed_in.is_(True))
            .order_by(m.Learner.last_signed_in_at.desc())
        )
        return [_info(r) for r in rows]


@dataclass(frozen=True)
class LearnerIds:
    """What a claim takes from the learner's profile (rules 6 and 8)."""

    id: str
    username: str
    server_url: str
    profession: str
    nabp_eprofile_id: str | None
    birth_mmdd: str | None
    board_id: str | None
    licence_state: str | None
    licence_number: str | None
    signed_in: bool


def learner_ids(db: Database, learner_id: str) -> LearnerIds | None:
    with db.read() as s:
        r = s.get(m.Learner, learner_id)
        if r is None:
            return None
        return LearnerIds(r.id, r.username, r.server_url, r.profession, r.nabp_eprofile_id, r.birth_mmdd,
                          r.board_id, r.licence_state, r.licence_number, bool(r.signed_in))


def learners_on(db: Database, server_url: str, learner_ids_: Sequence[str] | None = None) -> list[LearnerIds]:
    with db.read() as s:
        q = select(m.Learner).where(m.Learner.server_url == server_url)
        if learner_ids_ is not None:
            q = q.where(m.Learner.id.in_(list(learner_ids_)))
        return [
            LearnerIds(r.id, r.username, r.server_url, r.profession, r.nabp_eprofile_id, r.birth_mmdd,
                       r.board_id, r.licence_state, r.licence_number, bool(r.signed_in))
            for r in s.scalars(q.order_by(m.Learner.last_signed_in_at.desc()))
        ]
