"""Schema 0011 (`learners.unlocked`): an upgraded cache keeps its current learner, and only
that one; the others signed in there need their password to become current again."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from desktop.cache.db import open_database
from desktop.cache.learners import current_learner, signed_in_learners

FIXTURE = Path(__file__).parents[1] / "fixtures" / "cache-schema-0001.sqlite3"
SERVER = "https://cme.example.org"


def test_the_upgrade_unlocks_only_the_learner_who_was_current(tmp_path):
    path = tmp_path / "cache.sqlite3"
    shutil.copy(FIXTURE, path)
    with closing(sqlite3.connect(path)) as conn, conn:  # the fixture's L1 signed in on 2026-11-21
        conn.execute(
            "INSERT INTO learners (id, server_url, username, display_name, profession, degree, signed_in,"
            " last_signed_in_at) VALUES ('L2', ?, 'earlier', 'Dr. Earlier', 'physician', 'MD', 1,"
            " '2026-11-20 09:00:00.000000')", (SERVER,))
    db = open_database(path)
    try:
        assert current_learner(db, SERVER).id == "L1"
        assert [lr.id for lr in signed_in_learners(db, SERVER)] == ["L1", "L2"]  # nobody signed out
        with closing(sqlite3.connect(path)) as conn:
            assert dict(conn.execute("SELECT id, unlocked FROM learners")) == {"L1": 1, "L2": 0}
    finally:
        db.close()
