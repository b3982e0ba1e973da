"""Many learners on a test server, and many of them signing in at once: for the sign-in
throttle's tests (tests/server/test_hardening.py) and its bench (tests/bench/bench_signin.py).

Adding a learner one by one hashes a password with Argon2id each time; a ward of 200 is
imported without passwords (creditserver.onboarding) and given one hash computed once.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import update

from creditserver.models import Learner
from creditserver.onboarding import import_learners
from creditserver.passwords import hash_password
from creditserver.runner import RunningServer


def add_ward(server: RunningServer, count: int, password: str) -> list[str]:
    """`count` learners (nurses) sharing `password`; their usernames."""
    usernames = [f"nurse{i}" for i in range(count)]
    lines = ["username,display_name,profession", *(f"{name},Nurse {i},nurse" for i, name in enumerate(usernames))]
    imported = import_learners(server.app.state.db, lines).imported
    assert len(imported) == count, "the ward's usernames must be new on this server"
    with server.app.state.db.session() as s:
        s.execute(update(Learner).where(Learner.username.in_(usernames)).values(password_hash=hash_password(password)))
    return usernames


def sign_in_burst(server: RunningServer, attempts: list[tuple[str, str]], *, timeout_s: float = 300) -> list[int]:
    """Send every (username, password) sign-in at once, each on its own connection from
    this machine (so one client address); their status codes, in order."""

    def attempt(credentials: tuple[str, str]) -> int:
        username, password = credentials
        with httpx.Client(base_url=server.api_url, timeout=timeout_s) as api:
            body = {"username": username, "password": password, "device_name": "burst"}
            return api.post("/auth/token", json=body).status_code

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(attempt, attempts))
