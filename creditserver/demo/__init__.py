"""The demonstration activity and learners (`--demo`).

The activity in this folder is original and fictional: the PATINA trial and its data do
not exist. Loading is idempotent: publishing the same content again changes nothing, and
learners are only added when absent.

Its dates are not in its activity.json: a server sets them when it loads the demo, from
that day (`demo_dates`), so the demo a learner tries is always running, however old the
copy of the app. A server keeps the dates it published while the demo has at least a year
left to run, so a restart on another day publishes nothing new (a new version would ask the
learner to acknowledge the disclosures again); after that it publishes the demo with new dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cmecore.protocol import Activity, Profession
from cmecore.rules.availability import last_day

from ..auth import NewLearner, add_learner
from ..models import ActivityRecord, Learner, utcnow
from ..publish import publish_folder

DEMO_FOLDER = Path(__file__).resolve().parent
DEMO_ACTIVITY_ID = "demo-home-bp-older-adults"
DEMO_PASSWORD = "demo"

RELEASED_MONTHS_AGO = 4  # released on the first of the month this many months back
REVIEWED_MONTHS_AFTER_RELEASE = 2  # and reviewed on the first of the month this many after
ENDS_MONTHS_AHEAD = 24  # ending on the last day of the month this many months ahead
KEPT_WHILE_DAYS_LEFT = 365  # published dates kept while the demo has this many days to run


@dataclass(frozen=True)
class DemoDates:
    release: date
    review: date | None
    termination: date

    def fields(self) -> dict[str, Any]:
        """As activity.json's fields."""
        return {"release_date": self.release.isoformat(),
                "review_date": self.review.isoformat() if self.review else None,
                "termination_date": self.termination.isoformat()}


def _first_of_month(day: date, months: int) -> date:
    """The first day of the month `months` after `day`'s (before, when negative)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def demo_dates(today: date) -> DemoDates:
    """The demo's dates for a server loading it on `today` (UTC): released some months ago,
    reviewed since, ending two years ahead (within the 3-year enduring limit)."""
    release = _first_of_month(today, -RELEASED_MONTHS_AGO)
    return DemoDates(release=release, review=_first_of_month(release, REVIEWED_MONTHS_AFTER_RELEASE),
                     termination=_first_of_month(today, ENDS_MONTHS_AHEAD + 1) - timedelta(days=1))


def dates_to_publish(db, today: date) -> DemoDates:
    """The dates of the demo already published here while it has KEPT_WHILE_DAYS_LEFT to
    run, else `demo_dates(today)`."""
    with db.session() as s:
        published = s.get(ActivityRecord, DEMO_ACTIVITY_ID)
        text = published.json_text if published is not None and not published.withdrawn else None
    if text is not None:
        act = Activity.model_validate_json(text)
        ends = last_day(act.release_date, act.review_date, act.termination_date)
        if act.release_date <= today and (ends - today).days >= KEPT_WHILE_DAYS_LEFT:
            return DemoDates(act.release_date, act.review_date, act.termination_date)
    return demo_dates(today)


def demo_learners() -> list[NewLearner]:
    return [
        NewLearner(
            username="demo",
            password=DEMO_PASSWORD,
            profession=Profession.physician,
            display_name="Dr. Dana Demo",
            degree="MD",
            board_id="ABIM-000000",
            licence_state="MA",
            licence_number="DEMO-0001",
        ),
        NewLearner(
            username="pharm",
            password=DEMO_PASSWORD,
            profession=Profession.pharmacist,
            display_name="Pat Pharm",
            degree="PharmD",
            nabp_eprofile_id="1234567",
            birth_mmdd="0315",
        ),
    ]


def load_demo(db, store, today: date | None = None) -> None:
    """Publish the demo activity with its dates (`dates_to_publish` on `today`, by default
    the UTC date now) and add the demo learners if they are missing."""
    dates = dates_to_publish(db, today or utcnow().date())
    publish_folder(db, store, DEMO_FOLDER, fields=dates.fields())
    with db.session() as s:
        for new in demo_learners():
            if s.execute(select(Learner.id).where(Learner.username == new.username)).first() is None:
                add_learner(s, new)
