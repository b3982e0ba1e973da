"""The demonstration activity and learners (`--demo`).

The activity in this folder is original and fictional: the PATINA trial and its data do
not exist. Loading is idempotent: publishing the same content again changes nothing, and
learners are only added when absent.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from cmecore.protocol import Profession

from ..auth import NewLearner, add_learner
from ..models import Learner
from ..publish import publish_folder

DEMO_FOLDER = Path(__file__).resolve().parent
DEMO_ACTIVITY_ID = "demo-home-bp-older-adults"
DEMO_PASSWORD = "demo"


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


def load_demo(db, store) -> None:
    """Publish the demo activity and add the demo learners if they are missing."""
    # allow_expired: past the demo's termination date the server must still start (the
    # activity then shows as ended), rather than refuse to load the demo.
    publish_folder(db, store, DEMO_FOLDER, allow_expired=True)
    with db.session() as s:
        for new in demo_learners():
            if s.execute(select(Learner.id).where(Learner.username == new.username)).first() is None:
                add_learner(s, new)
