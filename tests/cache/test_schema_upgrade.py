"""The cache's schema is owned by Alembic and upgraded in place, never wiped."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from desktop.cache.blobstore import BlobStore
from desktop.cache.db import SCHEMA_HEAD, alembic_head, current_revision, open_database
from desktop.errors import SchemaTooNewError
from desktop.cache.learners import current_learner
from desktop.cache.library import activity_detail, library_rows, sync_state
from desktop.views.text import short_error

FIXTURE = Path(__file__).parents[1] / "fixtures" / "cache-schema-0001.sqlite3"


def test_schema_head_constant_matches_the_migrations():
    # start-up skips importing Alembic when the file is at SCHEMA_HEAD, so they must agree
    assert SCHEMA_HEAD == alembic_head()


def test_database_from_the_first_release_opens_with_every_row(tmp_path):
    path = tmp_path / "cache.sqlite3"
    shutil.copy(FIXTURE, path)
    db = open_database(path)
    try:
        assert current_revision(path) == SCHEMA_HEAD
        rows = library_rows(db, BlobStore(tmp_path / "blobs"))
        assert [r.id for r in rows] == ["demo-home-bp-older-adults"]
        detail = activity_detail(db, BlobStore(tmp_path / "blobs"), rows[0].id)
        assert detail.version == 3
        assert len(detail.disclosures) >= 2 and len(detail.faculty) == 2
        assert all(o.children for o in detail.objectives)  # nesting survived
        state = sync_state(db, "https://cme.example.org")
        # schema 0010 asks for one full catalog (it lists the withdrawals older caches never kept);
        # the rest of the sync state stays
        assert state.catalog_cursor is None and state.catalog_etag is None
        assert state.last_sync_at is not None
        assert state.clock_offset_ms == -1500
        assert state.last_error_code is None  # schema 0005's column, empty in old rows
        assert current_learner(db, "https://cme.example.org").display_name == "Dr. Fixture"
        # activities cached before the search index existed are found by their title
        from desktop.cache.search import search

        assert [h.activity_id for h in search(db, "PATINA")] == ["demo-home-bp-older-adults"]
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"download_jobs", "watch_progress", "search_text", "attempts", "completions", "outbox"} <= tables
    finally:
        db.close()


def test_a_sync_failure_stored_before_error_codes_is_shown_as_it_was_written(tmp_path):
    path = tmp_path / "cache.sqlite3"
    shutil.copy(FIXTURE, path)
    old = "The credit server cannot be reached."
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE sync_state SET last_error = ?", (old,))
    db = open_database(path)
    try:
        state = sync_state(db, "https://cme.example.org")
        assert state.last_error == old and state.last_error_code is None
        assert short_error(state.last_error, code=state.last_error_code) == old  # no guessing from the words
    finally:
        db.close()


def test_upgrade_keeps_a_backup_of_the_old_file(tmp_path):
    path = tmp_path / "cache.sqlite3"
    shutil.copy(FIXTURE, path)
    open_database(path).close()
    if current_revision(FIXTURE) != SCHEMA_HEAD:
        backup = path.with_name(f"{path.name}.before-{SCHEMA_HEAD}.bak")
        assert current_revision(backup) == current_revision(FIXTURE)
    else:  # nothing to upgrade yet: the file is left exactly as it was
        assert not list(tmp_path.glob("*.bak"))


def test_a_database_from_a_newer_app_is_refused_not_damaged(tmp_path):
    path = tmp_path / "cache.sqlite3"
    shutil.copy(FIXTURE, path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num='9999'")
    before = path.read_bytes()
    with pytest.raises(SchemaTooNewError, match="newer CME Offline"):
        open_database(path)
    assert path.read_bytes() == before


def test_pragmas_are_set_on_every_connection(tmp_path):
    db = open_database(tmp_path / "cache.sqlite3")
    try:
        with db.read() as session:
            conn = session.connection()
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    finally:
        db.close()


def test_a_damaged_cache_file_is_kept_aside_and_a_fresh_one_opens(tmp_path):
    path = tmp_path / "cache.sqlite3"
    path.write_bytes(b"this is not a database, it was cut short by a power failure" * 100)
    db = open_database(path)
    try:
        assert db.damaged_copy is not None and db.damaged_copy.read_bytes().startswith(b"this is not")
        assert library_rows(db, BlobStore(tmp_path / "blobs")) == []
        assert current_revision(path) == SCHEMA_HEAD
    finally:
        db.close()


def test_0006_an_evaluation_submitted_before_gets_its_reminder_due_weeks_after(tmp_path):
    """Schema 0006: reminders asked for before they were acted on come due N weeks after submission."""
    from alembic import command
    from sqlalchemy import create_engine

    from desktop.cache.learner_time import reminders, time_spent

    path = tmp_path / "cache.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        command.upgrade(_alembic(conn), "0005")
        conn.exec_driver_sql(
            "INSERT INTO learners (server_url, id, username, display_name, profession, degree, signed_in) "
            "VALUES ('https://s', 'l1', 'u', 'Dr U', 'physician', 'MD', 1)")
        conn.exec_driver_sql(
            "INSERT INTO evaluations (learner_id, activity_id, responses, updated_at, submitted_at) VALUES "
            "('l1', 'a1', '{\"commitments\": [\"Ask for a log\"], \"reminder_weeks\": 2}', "
            "'2026-01-01 10:00:00', '2026-01-01 10:00:00'), "
            "('l1', 'a2', '{\"commitments\": [], \"reminder_weeks\": null}', '2026-01-01 10:00:00', "
            "'2026-01-01 10:00:00')")
        conn.commit()
    engine.dispose()
    db = open_database(path)
    try:
        assert current_revision(path) == SCHEMA_HEAD
        found = reminders(db, "l1")
        assert [(r.activity_id, r.due_at.isoformat(), r.commitments) for r in found] == [
            ("a1", "2026-01-15T10:00:00", ("Ask for a log",))]
        assert time_spent(db, "l1", "a1") == 0
    finally:
        db.close()


def test_0008_an_upgraded_search_index_says_where_hits_are_and_finds_near_spellings(tmp_path):
    """Schema 0008: front matter, cues and the vocabulary are rebuilt from the 0007 index."""
    from alembic import command
    from sqlalchemy import create_engine

    from cmecore import protocol
    from desktop.cache.search import search
    from tests.cache.test_search import apply
    from tests.support.activities import activity_doc

    path = tmp_path / "cache.sqlite3"
    db = open_database(path)
    summary = {"kind": "summary", "media_type": "text/markdown", "size": 10, "sha256": "a" * 64,
               "url": "https://cme.example.org/media/" + "a" * 64, "title": "Diuretics in brief"}
    apply(db, protocol.Activity.model_validate(activity_doc(
        "demo-bp", title="Home blood pressure", description="Readings in adults over seventy", version=1,
        assets=[summary])))
    db.close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        command.downgrade(_alembic(conn), "0007")
        conn.exec_driver_sql("DELETE FROM search_text")
        conn.exec_driver_sql(  # as 0007's code wrote them: description under "title", summaries joined
            "INSERT INTO search_text (activity_id, kind, time_ms, body) VALUES "
            "('demo-bp', 'title', NULL, 'Home blood pressure'), "
            "('demo-bp', 'title', NULL, 'Readings in adults over seventy'), "
            "('demo-bp', 'summary', NULL, 'Start a thiazide-like diuretic. Measure twice.'), "
            "('demo-bp', 'transcript', 12500, 'We will look at the PATINA trial and tristuzumab'), "
            "('gone', 'transcript', 0, 'an activity no longer cached')")
        conn.commit()
    engine.dispose()
    assert current_revision(path) == "0007"
    db = open_database(path)
    try:
        assert current_revision(path) == SCHEMA_HEAD
        assert [(h.kind, h.time_ms) for h in search(db, "PATINA")] == [("transcript", 12_500)]
        assert [h.kind for h in search(db, "seventy")] == ["description"]
        assert [h.kind for h in search(db, "blood")] == ["title"]
        # the one summary's title (with several, the joined row could not say which)
        assert [(h.kind, h.label) for h in search(db, "thiazide")] == [("summary", "Diuretics in brief")]
        assert [(h.time_ms, h.near) for h in search(db, "trastuzumab")] == [(12_500, True)]
        assert search(db, "cached") == []
    finally:
        db.close()


def _alembic(conn):
    """Alembic's configuration for running the cache's migrations on `conn`."""
    from alembic.config import Config

    from desktop.cache.db import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config


def test_0013_a_cache_from_before_renditions_keeps_its_rows_and_plays_the_original(tmp_path):
    """Schema 0013: videos cached before keep their one form (the original), jobs keep going."""
    from alembic import command
    from sqlalchemy import create_engine

    from cmecore import protocol
    from cmecore.renditions import Quality
    from desktop.cache.video_forms import form_here, video_choice, video_forms
    from desktop.sync.downloads import DownloadQueue
    from tests.cache.test_search import apply
    from tests.support.activities import activity_doc

    path = tmp_path / "cache.sqlite3"
    db = open_database(path)
    video = {"kind": "video", "media_type": "video/mp4", "size": 5, "sha256": "b" * 64,
             "url": "https://cme.example.org/media/" + "b" * 64, "duration_ms": 90_000}
    apply(db, protocol.Activity.model_validate(activity_doc("demo-bp", version=1, assets=[video])))
    db.close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        command.downgrade(_alembic(conn), "0012")
        conn.exec_driver_sql(
            "INSERT INTO download_jobs (sha256, activity_id, kind, url, size, priority, state, bytes_done, attempts, "
            "created_at, updated_at) VALUES ('" + "b" * 64 + "', 'demo-bp', 'video', 'https://cme.example.org/m', "
            "5, 1, 'queued', 0, 0, '2026-01-01 10:00:00', '2026-01-01 10:00:00')")
        conn.commit()
    engine.dispose()
    db = open_database(path)
    try:
        assert current_revision(path) == SCHEMA_HEAD
        blobs = BlobStore(tmp_path / "blobs")
        forms = video_forms(db, "demo-bp")
        assert [(f.quality, f.sha256, f.duration_ms) for f in forms] == [(Quality.best, "b" * 64, 90_000)]
        assert video_choice(db, "demo-bp").wanted is None
        (job,) = DownloadQueue(db, blobs).jobs()
        assert (job.state, job.quality) == ("queued", Quality.best)  # a video job from before: the original
        blobs.path_for("b" * 64).parent.mkdir(parents=True)
        blobs.path_for("b" * 64).write_bytes(b"video")
        assert form_here(forms, None, blobs).quality is Quality.best
        assert library_rows(db, blobs)[0].video_quality is Quality.best
    finally:
        db.close()


def test_the_stdlib_names_of_qualities_agree_with_cmecore():
    """video_in_use.py and policy.py spell cmecore.renditions' qualities without importing it."""
    from cmecore.renditions import QUALITY_OF, RANK, Quality
    from desktop.cache.video_in_use import QUALITIES_LARGEST_FIRST, QUALITY_OF_KIND
    from desktop.policy import QUALITY_VALUES

    assert QUALITIES_LARGEST_FIRST == tuple(sorted(Quality, key=RANK.get)) == QUALITY_VALUES
    assert QUALITY_OF_KIND == {kind.value: quality.value for kind, quality in QUALITY_OF.items()}
