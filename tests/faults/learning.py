"""Making pending completions through the real Services, as a learner would (no shortcuts):
acknowledge the disclosures, watch most of the video, pass the post-test with the answers
of creditserver/demo/activity.json, evaluate, claim. Plain functions: the crash-loop bench
uses them outside pytest."""

from __future__ import annotations

import json

import httpx

from creditserver.demo import DEMO_FOLDER
from tests.support.activities import DEMO_ID
VIDEO_MS = 60_000


def answer_key() -> dict[str, list[str]]:
    doc = json.loads((DEMO_FOLDER / "activity.json").read_text(encoding="utf-8"))
    return {q["id"]: list(q["correct"]) for q in doc["assessment"]["questions"]}


def claim_activity(services, activity_id: str) -> str:
    """Take the activity through to a claim; returns the completion id (the idempotency key)."""
    services.acknowledge_disclosures(activity_id)
    share = 0.9
    services.save_watch_progress(activity_id, int(VIDEO_MS * share), VIDEO_MS, [(0, int(VIDEO_MS * share))])
    attempt = services.start_attempt(activity_id)
    for qid, options in answer_key().items():
        services.save_answer(attempt.id, qid, options)
    result = services.submit_attempt(attempt.id)
    assert result.passed, f"the demo's own answer key did not pass {activity_id}"
    services.save_evaluation(activity_id, {"e1": 5, "e2": 4}, {"e4": "More on deprescribing."},
                             ["Ask for a 7-day home log"], reminder_weeks=6, submit=True)
    return services.claim_credit(activity_id, 0.5, 30, True).id


def with_read_timeout(services, seconds: float) -> None:
    """Give `services` an HTTP client that waits at most `seconds` for a reply (the app's
    default is 30 s): the same client and API classes, only the timeout differs."""
    from desktop.sync.http import build_client

    services.connection.use_http_client(build_client(services.server_url, timeout=httpx.Timeout(5.0, read=seconds)))
