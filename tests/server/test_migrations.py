"""Alembic owns the server's schema: `migrate` upgrades in place (a database from before
Alembic too, with every row kept), `serve` refuses a database that is behind and names the
command, the app never creates tables, and two processes preparing one empty database at
once both succeed."""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Integer, func, inspect, select, text

from creditserver.app import create_app
from creditserver.cli import main
from creditserver.db import close_data_files, default_url, make_engine
from creditserver.models import Base, Certificate
from creditserver.runner import serve_in_thread
from creditserver.schema import MIGRATIONS_DIR, SCHEMA_HEAD, SchemaBehind, alembic_head, migrate, prepare_database

from .conftest import bearer, sign_in

PRE_ALEMBIC = Path(__file__).parents[1] / "fixtures" / "server-pre-alembic.sqlite3"
REPO = Path(__file__).parents[2]


def old_database(data: Path) -> Path:
    """A data folder holding the committed pre-Alembic database (tests/fixtures/make_server_pre_alembic.py)."""
    data.mkdir(parents=True)
    shutil.copyfile(PRE_ALEMBIC, data / "server.sqlite3")
    return data


def row_counts(data: Path, url: str | None = None) -> dict[str, int]:
    engine = make_engine(url or default_url(data))
    try:
        with engine.connect() as conn:
            return {
                table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in Base.metadata.sorted_tables
                if inspect(conn).has_table(table.name)
            }
    finally:
        engine.dispose()


def schema_differences(data: Path, url: str | None = None) -> list:
    """What Alembic's autogenerate would change to make the database match models.py."""
    engine = make_engine(url or default_url(data))
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()


def test_schema_head_is_alembics_head():
    assert alembic_head() == SCHEMA_HEAD


def test_the_migrations_make_exactly_the_tables_of_the_models(tmp_path):
    assert migrate(tmp_path) == (None, SCHEMA_HEAD)
    assert schema_differences(tmp_path) == []
    assert row_counts(tmp_path)["catalog_state"] == 1


def test_migrate_upgrades_a_database_from_before_alembic_keeping_every_row(tmp_path, capsys):
    data = old_database(tmp_path / "data")
    before = row_counts(data)
    assert before["completions"] == before["certificates"] == 1 and before["learners"] == 3

    assert main(["migrate", "--data-dir", str(data)]) == 0
    assert f"upgraded the database from before migrations to schema {SCHEMA_HEAD}" in capsys.readouterr().out
    # every row kept; 0002, 0003 and 0004 add a table each
    assert row_counts(data) == {**before, "set_password_codes": 0, "credential_status": 0, "xapi_outbox": 0}
    assert schema_differences(data) == []

    with serve_in_thread(data) as server, httpx.Client(base_url=server.api_url, timeout=10) as api:
        headers = bearer(sign_in(api))  # the demo learner's password hash survived
        mine = api.get("/me/completions", headers=headers)
        assert mine.status_code == 200, mine.text
        assert len(mine.json()["completions"]) == 1, mine.json()
        sign_in(api, "nurse1", "correct horse battery")
        with server.app.state.db.session() as s:
            assert s.scalar(select(func.count()).select_from(Certificate)) == 1


def test_migrate_adds_the_tables_an_older_release_lacked(tmp_path, capsys):
    data = old_database(tmp_path / "data")
    engine = make_engine(default_url(data))
    with engine.begin() as conn:  # a release before the sign-in throttle had no such table
        conn.execute(text("DROP TABLE sign_in_failures"))
    engine.dispose()
    before = row_counts(data)

    assert main(["migrate", "--data-dir", str(data)]) == 0
    after = row_counts(data)
    assert (after.pop("sign_in_failures") == after.pop("set_password_codes") == after.pop("credential_status")
            == after.pop("xapi_outbox") == 0)
    assert after == before
    assert schema_differences(data) == []


def test_migrate_is_idempotent(tmp_path, capsys):
    data = old_database(tmp_path / "data")
    assert main(["migrate", "--data-dir", str(data)]) == 0
    counts = row_counts(data)
    capsys.readouterr()
    assert main(["migrate", "--data-dir", str(data)]) == 0
    assert capsys.readouterr().out.strip() == f"the database is already at schema {SCHEMA_HEAD}"
    assert row_counts(data) == counts


def test_serve_refuses_a_database_that_is_behind_and_names_the_command(tmp_path):
    data = old_database(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-m", "creditserver", "--data-dir", str(data), "--port", "0"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().endswith(f"Back it up, then run: cme-credit-server migrate --data-dir {data}")
    assert "from before migrations" in done.stderr
    assert not _has_alembic_version(data)  # nothing changed


def test_other_commands_refuse_too_and_the_command_keeps_the_database_url(tmp_path, capsys):
    data = old_database(tmp_path / "data")
    url = f"sqlite:///{data / 'server.sqlite3'}"
    assert main(["report", "--data-dir", str(tmp_path / "media"), "--database-url", url]) == 2
    err = capsys.readouterr().err
    assert f"cme-credit-server migrate --data-dir {tmp_path / 'media'} --database-url '{url}'" in err
    assert main(["migrate", "--data-dir", str(tmp_path / "media"), "--database-url", url]) == 0
    assert main(["report", "--data-dir", str(tmp_path / "media"), "--database-url", url]) == 0


def test_the_password_in_a_database_url_is_not_printed():
    from creditserver.schema import migrate_command

    command = migrate_command(Path("/srv/cme"), "postgresql+psycopg://cme:s3cret@db.example.org/cme")
    assert "s3cret" not in command and "cme:***@db.example.org" in command


def test_the_app_creates_no_tables(tmp_path):
    with pytest.raises(SchemaBehind, match="the database is empty"):
        create_app(tmp_path / "empty")
    assert row_counts(tmp_path / "empty") == {}
    with pytest.raises(SchemaBehind, match="cme-credit-server migrate"):
        create_app(old_database(tmp_path / "old"))
    assert not _has_alembic_version(tmp_path / "old")


def test_a_newer_schema_is_refused(tmp_path, capsys):
    migrate(tmp_path)
    engine = make_engine(default_url(tmp_path))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    assert main(["migrate", "--data-dir", str(tmp_path)]) == 2
    assert "upgraded by a newer cme-credit-server" in capsys.readouterr().err


def _prepare_after_barrier(data: str, url: str | None, barrier) -> None:
    barrier.wait()
    prepare_database(Path(data), url)


def test_two_processes_preparing_one_empty_database_both_succeed(tmp_path, server_database):
    spawn = multiprocessing.get_context("spawn")
    for attempt in range(3):
        data, url = tmp_path / f"data{attempt}", server_database()  # the suite's backend
        barrier = spawn.Barrier(2)
        workers = [spawn.Process(target=_prepare_after_barrier, args=(str(data), url, barrier)) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
        assert [worker.exitcode for worker in workers] == [0, 0]
        assert schema_differences(data, url) == []
        assert row_counts(data, url)["catalog_state"] == 1


def _migrate_after_barrier(options: list[str], barrier, said) -> None:
    out = io.StringIO()
    barrier.wait()
    with contextlib.redirect_stdout(out):
        code = main(["migrate", *options])
    said.put(out.getvalue().strip())
    sys.exit(code)


def test_three_migrate_commands_at_once_on_an_empty_database_one_upgrades_the_others_find_it_done(
        tmp_path, server_database):
    """Several workers or an admin's script starting together: the migration lock (an
    advisory lock on PostgreSQL, a file lock and BEGIN IMMEDIATE on SQLite) makes them take
    turns, in real processes, each running the real command."""
    spawn = multiprocessing.get_context("spawn")
    for attempt in range(2):
        data, url = tmp_path / f"data{attempt}", server_database()
        options = ["--data-dir", str(data)] + (["--database-url", url] if url else [])
        barrier, said = spawn.Barrier(3), spawn.Queue()
        workers = [spawn.Process(target=_migrate_after_barrier, args=(options, barrier, said)) for _ in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
        assert [worker.exitcode for worker in workers] == [0, 0, 0]
        lines = sorted(said.get(timeout=10) for _ in workers)
        assert lines == [f"the database is already at schema {SCHEMA_HEAD}"] * 2 + [
            f"upgraded the database from empty to schema {SCHEMA_HEAD}"]
        assert schema_differences(data, url) == []
        assert row_counts(data, url)["catalog_state"] == 1


def copy_rows(source: Path, url: str) -> None:
    """Every row of the SQLite database `source` into the database at `url` (its tables made
    already), replacing what they held; PostgreSQL's id sequences are moved past the copied ids."""
    from sqlalchemy import MetaData

    old, new = make_engine(f"sqlite:///{source}"), make_engine(url)
    try:
        tables = MetaData()
        tables.reflect(old)
        with old.connect() as src, new.begin() as dst:
            for table in reversed(tables.sorted_tables):
                dst.execute(table.delete())
            for table in tables.sorted_tables:
                rows = [dict(row._mapping) for row in src.execute(select(table))]
                if rows:
                    dst.execute(table.insert(), rows)
                if new.dialect.name == "postgresql" and "id" in table.c and isinstance(table.c.id.type, Integer):
                    dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                     f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false)"))
    finally:
        old.dispose()
        new.dispose()


def database_at(data: Path, url: str | None, revision: str) -> None:
    """A database at an older schema `revision`, made by Alembic as that release did."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    close_data_files(data, url)
    engine = make_engine(url or default_url(data))
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def test_migrate_upgrades_a_database_at_0001_keeping_every_row(tmp_path, server_database, capsys):
    """On the suite's backend (PostgreSQL too): a database a 0001 server made and filled (the
    rows of the committed old database) is upgraded by the command, every row kept."""
    data, url = tmp_path / "data", server_database()
    database_at(data, url, "0001")
    copy_rows(PRE_ALEMBIC, url or default_url(data))
    before = row_counts(data, url)
    assert before["completions"] == before["certificates"] == 1 and before["learners"] == 3
    assert "set_password_codes" not in before

    options = ["--data-dir", str(data)] + (["--database-url", url] if url else [])
    assert main(["migrate", *options]) == 0
    assert f"upgraded the database from schema 0001 to schema {SCHEMA_HEAD}" in capsys.readouterr().out
    assert row_counts(data, url) == {**before, "set_password_codes": 0, "credential_status": 0, "xapi_outbox": 0}
    assert schema_differences(data, url) == []

    with serve_in_thread(data, database_url=url) as server, httpx.Client(base_url=server.api_url, timeout=10) as api:
        headers = bearer(sign_in(api))  # the demo learner's password hash survived
        mine = api.get("/me/completions", headers=headers)
        assert mine.status_code == 200, mine.text
        assert len(mine.json()["completions"]) == 1, mine.json()
        sign_in(api, "nurse1", "correct horse battery")  # a new refresh token: the ids go on from the copied ones


def _has_alembic_version(data: Path) -> bool:
    engine = make_engine(default_url(data))
    try:
        with engine.connect() as conn:
            return inspect(conn).has_table("alembic_version")
    finally:
        engine.dispose()
