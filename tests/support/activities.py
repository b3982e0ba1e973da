"""Activities for tests, built in one place.

`activity_doc` is the one builder: an activity.json document (the form the server
publishes) starting from the demo activity, under another id, with dates relative to today
so that a test never expires. The two other starting points are thin presets on it:
`minimal_activity` (only the required fields, for the publishing checks) and
`make_activity` (a varied catalog entry numbered `n`, as a client caches it).

Plain functions and constants, no pytest: the crash-loop bench imports them too.
"""

from __future__ import annotations

import copy
import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cmecore import protocol
from creditserver.demo import DEMO_FOLDER, demo_dates

DEMO_ID = "demo-home-bp-older-adults"

# The demo post-test's answer key (creditserver/demo/activity.json).
CORRECT = {"q1": ["b"], "q2": ["a", "b", "d"], "q3": ["c"], "q4": ["b"], "q5": ["a"]}
WRONG = {"q1": ["a"], "q2": ["c"], "q3": ["a"], "q4": ["a"], "q5": ["b"]}

# Only what the publish format requires (a nurse statement, a video and its transcript);
# `activity_doc` adds the dates.
MINIMAL = {
    "title": "A test activity",
    "providers": ["Test Provider"],
    "accreditation": [
        {
            "profession": "nurse",
            "provider": "Test Provider",
            "credit_type": "Participation",
            "max_credits": 0.25,
            "contact_hours": 0.25,
            "statement": "A statement of participation for 0.25 contact hours.",
        }
    ],
    "assets": [
        {"path": "talk.mp4", "title": "Talk"},
        {"path": "talk.vtt", "kind": "transcript"},
    ],
}


def today() -> date:
    return datetime.now(UTC).date()


def demo_doc() -> dict[str, Any]:
    """The demo's activity.json as a demo server publishes it today (with the dates it sets),
    without its media."""
    doc = json.loads((DEMO_FOLDER / "activity.json").read_text(encoding="utf-8"))
    doc.update(demo_dates(today()).fields())
    doc["assets"] = []
    return doc


def copy_demo_folder(folder: Path, **fields: Any) -> Path:
    """A copy of the demo's folder, media included, to publish: its activity.json with the
    dates a demo server sets today and `fields` over them."""
    shutil.copytree(DEMO_FOLDER, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    doc = json.loads((folder / "activity.json").read_text(encoding="utf-8"))
    doc.update(demo_dates(today()).fields())
    doc.update(fields)
    (folder / "activity.json").write_text(json.dumps(doc), encoding="utf-8")
    return folder


def activity_doc(activity_id: str = DEMO_ID, *, base: dict[str, Any] | None = None, release: date | None = None,
                 review: date | None = None, termination: date | None = None, **overrides: Any) -> dict[str, Any]:
    """An activity document: `base` (the demo activity without media unless given) under
    `activity_id`, released 100 days ago and ending in a year unless dates are given, no
    review date unless given; `overrides` replace top-level fields."""
    doc = {"id": activity_id, **copy.deepcopy(base if base is not None else demo_doc())}
    doc["id"] = activity_id
    doc["release_date"] = (release or today() - timedelta(days=100)).isoformat()
    if review or "review_date" in doc:
        doc["review_date"] = review.isoformat() if review else None
    doc["termination_date"] = (termination or today() + timedelta(days=365)).isoformat()
    doc.update(overrides)
    return doc


def minimal_activity(activity_id: str = "test-activity", **overrides: Any) -> dict[str, Any]:
    """A document with only the required fields (its files: `write_folder`'s defaults),
    released 100 days ago and ending in a year (publish refuses an ended activity)."""
    return activity_doc(activity_id, base=MINIMAL, **overrides)


def make_activity(n: int = 1, **overrides: Any) -> protocol.Activity:
    """A valid catalog activity `act-00n` whose texts, dates and credits differ with `n`
    (no post-test, no evaluation); fields can be overridden."""
    start = today() - timedelta(days=700)  # released about two years ago, running for more than a year yet
    doc = activity_doc(
        f"act-{n:03d}",
        base=_numbered(n),
        release=start + timedelta(days=n),
        review=start + timedelta(days=150),
        termination=today() + timedelta(days=400 + n),
        **overrides,
    )
    return protocol.Activity.model_validate(doc)


def _numbered(n: int) -> dict[str, Any]:
    return dict(
        version=1,
        title=f"Activity {n}",
        description=f"What activity {n} covers.",
        highlights=[f"Highlight {n}a", f"Highlight {n}b"],
        audience="Physicians, nurses and pharmacists",
        estimated_minutes=45,
        providers=["Example Academy"],
        commercial_support="No commercial support was received.",
        off_label_statement="This activity discusses off-label use of warfarin.",
        faculty=[dict(name=f"Faculty {n}", credentials="MD", title="Professor", affiliation="General Hospital")],
        disclosures=[
            dict(person=f"Faculty {n}", role="faculty", company="Pharma Inc", nature="consulting", mitigated=True),
            dict(person="Pat Planner", role="planner", company="None", nature="none", mitigated=False),
        ],
        objectives=[
            dict(text="Describe the evidence", children=[dict(text="Name two trials")]),
            dict(text="Apply it in practice"),
        ],
        accreditation=[
            dict(profession="nurse", provider="Example Academy", credit_type="Nursing contact hours",
                 max_credits=1.0, statement="Nurses: this activity is approved for 1.0 contact hour."),
            dict(profession="physician", provider="Example Academy", credit_type="AMA PRA Category 1 Credit",
                 max_credits=0.25 * (1 + (n - 1) % 8),
                 statement="Physicians: designated for AMA PRA Category 1 Credit."),
        ],
        assets=[
            dict(kind="video", media_type="video/mp4", size=1_000_000, sha256=f"{n:064x}",
                 url=f"/api/v1/media/{n:064x}", title="Lecture video"),
        ],
    )
