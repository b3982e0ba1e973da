"""End-of-scenario checks shared by the fault tests, the crash loop and its bench.

Each returns a list of problems (empty: all good) so a long run can count them instead of
stopping at the first; tests assert the list is empty.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

import httpx

SHA256_NAME = re.compile(r"^[0-9a-f]{64}$")
CATALOG_TABLES = ("activities", "faculty", "disclosures", "objectives", "accreditation_statements", "assets")


def _connect(db_path: Path) -> sqlite3.Connection:
    # Read-only: a check must never change what it checks (nor create a missing file).
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)


def table_rows(db_path: Path, tables) -> dict[str, list[tuple]]:
    conn = _connect(db_path)
    try:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}
    finally:
        conn.close()


def catalog_snapshot(db_path: Path) -> dict:
    """Every cached catalog row, the search index and the catalog cursor/ETag: what a sync may change."""
    conn = _connect(db_path)
    try:
        fts = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND sql LIKE '%fts5%'")]
        state = conn.execute("SELECT server_url, catalog_cursor, catalog_etag FROM sync_state ORDER BY 1").fetchall()
    finally:
        conn.close()
    return {**table_rows(db_path, CATALOG_TABLES + tuple(fts)), "sync_state": state}


def cached_versions(db_path: Path) -> dict[str, int]:
    conn = _connect(db_path)
    try:
        return dict(conn.execute("SELECT id, version FROM activities"))
    finally:
        conn.close()


def blob_problems(blob_root: Path, *, allow_partial: bool = True) -> list[str]:
    """Every complete file in the store hashes to its name; nothing else sits in the store
    but `.part` files of a download in progress (when `allow_partial`) and the lock file."""
    problems: list[str] = []
    if not blob_root.is_dir():
        return problems
    for entry in sorted(blob_root.iterdir()):
        if entry.name == ".downloads.lock" and entry.is_file():
            continue
        if not (entry.is_dir() and re.fullmatch(r"[0-9a-f]{2}", entry.name)):
            problems.append(f"stray entry in the blob store: {entry.name}")
            continue
        for path in sorted(entry.iterdir()):
            name = path.name
            if name.endswith(".part") and SHA256_NAME.match(name[:-5]) and name.startswith(entry.name):
                if not allow_partial:
                    problems.append(f"partial download left behind: {entry.name}/{name}")
                continue
            if not SHA256_NAME.match(name) or not name.startswith(entry.name):
                problems.append(f"stray file in the blob store: {entry.name}/{name}")
                continue
            if sha256_file(path) != name:
                problems.append(f"{entry.name}/{name} does not hash to its name")
    return problems


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def sqlite_problems(db_path: Path) -> list[str]:
    conn = _connect(db_path)
    try:
        result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        conn.close()
    problems = [] if result == ["ok"] else [f"integrity_check: {'; '.join(result[:5])}"]
    if fk:
        problems.append(f"foreign_key_check: {fk[:5]}")
    return problems


_TOKENS: dict[tuple[str, str], str] = {}


def server_completions(api_url: str, username: str, password: str) -> list[dict]:
    """What the server holds for this learner (GET /me/completions), signed in apart from
    the client (the token is reused between checks; signing in costs a password hash)."""
    with httpx.Client(base_url=api_url, timeout=30) as api:
        for _ in range(2):
            token = _TOKENS.get((api_url, username))
            if token is None:
                r = api.post("/auth/token", json={"username": username, "password": password, "device_name": "checks"})
                r.raise_for_status()
                token = _TOKENS[(api_url, username)] = r.json()["access_token"]
            r = api.get("/me/completions", headers={"Authorization": f"Bearer {token}"})
            if r.status_code == 401:
                _TOKENS.pop((api_url, username), None)
                continue
            r.raise_for_status()
            return r.json()["completions"]
    raise AssertionError(f"cannot sign in as {username} to check the server")


def completion_problems(api_url: str, expected: dict[str, set[str]], password: str, *,
                        final: bool = True) -> list[str]:
    """The server holds exactly the `expected` completion ids per username (`final`), or a
    subset of them (mid-run), each once, each with its own certificate."""
    problems: list[str] = []
    certificates: set[str] = set()
    for username, ids in expected.items():
        held = server_completions(api_url, username, password)
        held_ids = [c["id"] for c in held]
        if len(held_ids) != len(set(held_ids)):
            problems.append(f"{username}: a completion is held twice: {sorted(held_ids)}")
        unexpected = set(held_ids) - ids
        if unexpected:
            problems.append(f"{username}: the server holds completions never made here: {sorted(unexpected)}")
        if final and set(held_ids) != ids:
            problems.append(f"{username}: completions missing on the server: {sorted(ids - set(held_ids))}")
        per_activity = [c["activity_id"] for c in held]
        if len(per_activity) != len(set(per_activity)):
            problems.append(f"{username}: credited twice for one activity: {sorted(per_activity)}")
        for c in held:
            cert = c.get("certificate") or {}
            if not cert.get("id"):
                problems.append(f"{username}: completion {c['id']} has no certificate")
            elif cert["id"] in certificates:
                problems.append(f"{username}: certificate {cert['id']} issued twice")
            else:
                certificates.add(cert["id"])
    return problems


def local_delivery_problems(db_path: Path, expected: dict[str, set[str]]) -> list[str]:
    """After a successful sync: nothing waits in the outbox, every expected completion is
    accepted here with exactly one cached certificate."""
    conn = _connect(db_path)
    try:
        outbox = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        rows = conn.execute("SELECT id, state, certificate_id FROM completions").fetchall()
        certs = conn.execute("SELECT completion_id, count(*) FROM certificates GROUP BY completion_id").fetchall()
        unverified = conn.execute("SELECT count(*) FROM certificates WHERE NOT verified").fetchone()[0]
    finally:
        conn.close()
    problems = [f"{outbox} completion(s) still in the outbox"] if outbox else []
    if unverified:
        problems.append(f"{unverified} cached certificate(s) do not verify against the server's key")
    want = set().union(*expected.values()) if expected else set()
    states = {cid: (state, cert) for cid, state, cert in rows}
    for cid in sorted(want):
        state, cert = states.get(cid, (None, None))
        if state != "accepted" or not cert:
            problems.append(f"completion {cid} is {state!r} here (certificate {cert!r})")
    per = dict(certs)
    for cid in sorted(want):
        if per.get(cid, 0) != 1:
            problems.append(f"completion {cid} has {per.get(cid, 0)} cached certificate(s)")
    return problems
