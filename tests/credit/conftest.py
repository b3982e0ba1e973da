"""Earning credit against the real reference server on loopback: real SQLite, the real
keyring file backend, no mocks. The demo activity: pass mark 75, 5 questions, unlimited
attempts, shuffled options, 80% of the video to watch, an evaluation."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.support.activities import CORRECT, DEMO_ID

VIDEO_MS = 60_000
ROOT = Path(__file__).resolve().parents[2]


def watch(services, share: float, activity_id: str = DEMO_ID) -> None:
    services.save_watch_progress(activity_id, int(VIDEO_MS * share), VIDEO_MS, [(0, int(VIDEO_MS * share))])


def take_test(services, answers: dict, activity_id: str = DEMO_ID):
    view = services.start_attempt(activity_id)
    for qid, options in answers.items():
        services.save_answer(view.id, qid, options)
    return services.submit_attempt(view.id)


def evaluate(services, activity_id: str = DEMO_ID):
    return services.save_evaluation(activity_id, {"e1": 5, "e2": 4}, {"e4": "More on deprescribing."},
                                    ["Ask for a 7-day home log"], reminder_weeks=6, submit=True)


def ready_to_claim(services, activity_id: str = DEMO_ID, answers: dict = CORRECT) -> None:
    services.acknowledge_disclosures(activity_id)
    watch(services, 0.9, activity_id)
    take_test(services, answers, activity_id)
    evaluate(services, activity_id)


def claim(services, activity_id: str = DEMO_ID):
    ready_to_claim(services, activity_id)
    return services.claim_credit(activity_id, 0.5, 30, True)


def server_completions(server, username: str = "demo", password: str = "demo") -> list[dict]:
    """What the server holds for this learner (GET /me/completions), with a fresh sign-in."""
    with httpx.Client(base_url=server.api_url, timeout=30) as api:
        token = api.post("/auth/token", json={"username": username, "password": password}).json()["access_token"]
        r = api.get("/me/completions", headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()
        return r.json()["completions"]


def sql(services, statement: str, *params) -> list[tuple]:
    """Reach under the services, as a tamperer or a crash would."""
    conn = sqlite3.connect(services.db.path)
    try:
        with conn:
            return conn.execute(statement, params).fetchall()
    finally:
        conn.close()


@pytest.fixture
def learner(server, make_services):
    """The demo physician signed in, catalog synced."""
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    services.sync()
    return services


@pytest.fixture
def holding_proxy(server):
    from tests.credit.holding_proxy import HoldingProxy

    proxy = HoldingProxy(server.url)
    yield proxy
    proxy.stop()
