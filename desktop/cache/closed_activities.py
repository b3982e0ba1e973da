"""Activities whose media can never be opened on this computer: over (rule 3, judged on
the server-corrected clock) and acknowledged by no learner here — after the termination
date no one may start them, and only a learner who started before may still open them.
The downloads service does not fetch their media."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from cmecore.rules.availability import availability
from desktop.cache import models as m
from desktop.cache.db import Database


def closed_activities(db: Database, now_corrected: datetime,
                      activity_ids: Iterable[str] | None = None) -> dict[str, str]:
    """{activity id: why it is over} for those of `activity_ids` (None: all) no one here can open."""
    query = select(m.Activity.id, m.Activity.release_date, m.Activity.review_date, m.Activity.termination_date)
    if activity_ids is not None:
        query = query.where(m.Activity.id.in_(list(activity_ids)))
    with db.read() as s:
        over = {}
        for id_, release, review, termination in s.execute(query):
            avail = availability(release, review, termination, now_corrected)
            if avail.over:
                over[id_] = avail.reason
        if over:
            opened = set(s.scalars(select(m.DisclosureAck.activity_id)
                                   .where(m.DisclosureAck.activity_id.in_(list(over)))))
            over = {k: v for k, v in over.items() if k not in opened}
    return over


def all_activity_ids(db: Database) -> list[str]:
    with db.read() as s:
        return list(s.scalars(select(m.Activity.id).order_by(m.Activity.id)))
