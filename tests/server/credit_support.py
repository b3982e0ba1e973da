"""Helpers for the completion and certificate tests: publishing activities (built with
tests.support.activities) and well-formed completions for them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from creditserver.runner import RunningServer
from tests.support.activities import CORRECT, activity_doc

from .conftest import bearer, sign_in, write_folder


def publish(server: RunningServer, tmp_path: Path, doc: dict[str, Any]) -> int:
    """Publish `doc` (no media); returns its version. An activity dated in the past stands
    for one published while it ran (`allow_expired`), as the rules about ended activities
    need; without a video it asks for no watching (publish_checks refuses a watch share
    without a video)."""
    folder = tmp_path / f"pub-{doc['id']}-{uuid.uuid4().hex[:6]}"
    if not doc.get("assets"):
        doc = {**doc, "participation": {"min_watched_share": 0.0}}
    return server.publish(write_folder(folder, doc, files={}), allow_expired=True).version


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def claim_for(profession: str, **overrides: Any) -> dict[str, Any]:
    if profession == "pharmacist":
        claim = {"profession": "pharmacist", "credit_type": "ACPE contact hours", "credits_claimed": 0.5,
                 "reporting_consent": True, "nabp_eprofile_id": "1234567", "birth_mmdd": "0315"}
    elif profession == "nurse":
        claim = {"profession": "nurse", "credit_type": "Participation", "credits_claimed": 0.5,
                 "reporting_consent": False}
    else:
        claim = {"profession": profession, "credit_type": "AMA PRA Category 1 Credit", "credits_claimed": 0.5,
                 "attested_minutes": 30, "reporting_consent": True, "board_id": "ABIM-000000",
                 "licence_state": "MA", "licence_number": "DEMO-0001", "birth_mmdd": "0704"}
    claim.update(overrides)
    return claim


def completion(activity_id: str, *, version: int = 1, profession: str = "physician",
               completed: datetime | None = None, answers: list[dict[str, list[str]]] | None = None,
               claim: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """A well-formed CompletionIn (JSON) that passes every rule for the demo activity."""
    done = completed or datetime.now(UTC) - timedelta(hours=1)
    started = done - timedelta(minutes=40)
    attempts = []
    for n, ans in enumerate(answers or [CORRECT], start=1):
        a_start = started + timedelta(minutes=30 + n)
        attempts.append({
            "id": str(uuid.uuid4()), "number": n, "started_at": iso(a_start),
            "submitted_at": iso(a_start + timedelta(seconds=50)), "answers": ans,
            "local_score": 100.0 if ans == CORRECT else 0.0, "local_passed": ans == CORRECT,
        })
    item = {
        "id": str(uuid.uuid4()),
        "activity_id": activity_id,
        "activity_version": version,
        "disclosures_acknowledged_at": iso(started - timedelta(minutes=1)),
        "started_at": iso(started),
        "completed_at": iso(done + timedelta(seconds=7)),  # the local clock runs a little fast
        "completed_at_corrected": iso(done),
        "watched_share": 0.93,
        "attempts": attempts,
        "evaluation": {"ratings": {"e1": 5, "e2": 4}, "texts": {"e4": "More on deprescribing."},
                       "commitments": ["Ask patients for a 7-day home log before changing treatment."],
                       "reminder_weeks": 6},
        "claim": claim or claim_for(profession),
    }
    item.update(overrides)
    return item


def post(client: httpx.Client, headers: dict[str, str], *items: dict[str, Any]) -> list[dict[str, Any]]:
    r = client.post("/completions", json={"completions": list(items)}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["results"]


def signed_in(client: httpx.Client, username: str, password: str = "demo") -> dict[str, str]:
    return bearer(sign_in(client, username, password))


def count_rows(server: RunningServer, model) -> int:
    from sqlalchemy import func, select

    with server.app.state.db.session() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def publish_copies(server: RunningServer, tmp_path: Path, prefix: str, n: int, **kwargs: Any) -> list[str]:
    """Publish `n` copies of the demo activity (`prefix-0` …); returns their ids."""
    ids = [f"{prefix}-{i}" for i in range(n)]
    for activity_id in ids:
        publish(server, tmp_path, activity_doc(activity_id, **kwargs))
    return ids
