"""The catalog: full and incremental sync, withdrawals, ETag / 304."""

from __future__ import annotations

import pytest

from cmecore.protocol import Activity, Catalog

from tests.support.activities import DEMO_ID, minimal_activity

from .conftest import write_folder


def test_catalog_needs_sign_in(api):
    r = api.get("/catalog")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"


def test_full_catalog_validates_and_carries_a_cursor_and_etag(api, auth):
    r = api.get("/catalog", headers=auth)

    assert r.status_code == 200
    catalog = Catalog.model_validate_json(r.content)
    assert catalog.full is True
    assert [a.id for a in catalog.activities] == [DEMO_ID]
    assert r.headers["etag"] == f'"catalog-{catalog.cursor}"'
    assert r.headers["cache-control"] == "private, no-cache"


def test_second_sync_with_if_none_match_transfers_no_body(server, api, auth):
    first = api.get("/catalog", headers=auth)
    server.request_log.clear()

    second = api.get("/catalog", headers={**auth, "If-None-Match": first.headers["etag"]})

    assert second.status_code == 304
    assert second.content == b""
    assert second.headers["etag"] == first.headers["etag"]
    [logged] = server.request_log.matching("/api/v1/catalog")
    assert (logged.status, logged.if_none_match, logged.bytes_sent) == (304, first.headers["etag"], 0)


def test_publish_changes_the_etag_and_since_returns_only_the_change(server, api, auth, tmp_path):
    first = Catalog.model_validate_json(api.get("/catalog", headers=auth).content)
    etag = f'"catalog-{first.cursor}"'

    server.publish(write_folder(tmp_path / "new", minimal_activity("new-one")), videos_as_is=True)

    stale = api.get("/catalog", headers={**auth, "If-None-Match": etag})
    assert stale.status_code == 200  # the old ETag no longer matches
    delta = Catalog.model_validate_json(api.get("/catalog", params={"since": first.cursor}, headers=auth).content)
    assert delta.full is False
    assert [a.id for a in delta.activities] == ["new-one"]
    assert delta.cursor == first.cursor + 1
    assert delta.withdrawn == []

    nothing = Catalog.model_validate_json(api.get("/catalog", params={"since": delta.cursor}, headers=auth).content)
    assert (nothing.full, nothing.activities, nothing.withdrawn) == (False, [], [])


def test_withdrawal_appears_in_withdrawn_and_leaves_the_full_catalog(server, api, auth):
    before = Catalog.model_validate_json(api.get("/catalog", headers=auth).content)

    server.withdraw(DEMO_ID)

    delta = Catalog.model_validate_json(api.get("/catalog", params={"since": before.cursor}, headers=auth).content)
    assert delta.withdrawn == [DEMO_ID]
    assert delta.activities == []
    full = Catalog.model_validate_json(api.get("/catalog", headers=auth).content)
    assert full.full is True and full.activities == []
    assert full.withdrawn == [DEMO_ID]  # a client starting from scratch learns it too (content packs)
    # Withdrawing again is not another change.
    assert server.withdraw(DEMO_ID).changed is False


def test_unknown_future_cursor_gets_the_full_catalog(api, auth):
    r = api.get("/catalog", params={"since": 10_000}, headers=auth)
    catalog = Catalog.model_validate_json(r.content)
    assert catalog.full is True
    assert [a.id for a in catalog.activities] == [DEMO_ID]


def test_republishing_a_changed_folder_bumps_version_and_revision(server, api, auth, tmp_path):
    folder = write_folder(tmp_path / "a", minimal_activity("evolving"))
    first = server.publish(folder, videos_as_is=True)
    assert server.publish(folder, videos_as_is=True).changed is False  # same content: no new revision

    write_folder(folder, minimal_activity("evolving", title="A better title"))
    second = server.publish(folder, videos_as_is=True)

    assert (first.version, second.version) == (1, 2)
    assert second.revision == first.revision + 1
    delta = Catalog.model_validate_json(api.get("/catalog", params={"since": first.revision}, headers=auth).content)
    [activity] = delta.activities
    assert (activity.title, activity.version) == ("A better title", 2)


def test_injected_raw_activity_is_served_verbatim(server, api, auth):
    raw = '{"id": "broken", "version": 1, "title": ""}'
    revision = server.inject_raw_activity("broken", raw)

    r = api.get("/catalog", params={"since": revision - 1}, headers=auth)
    assert r.status_code == 200
    assert raw.encode() in r.content  # as stored, not re-validated on the way out
    import pydantic
    import pytest

    with pytest.raises(pydantic.ValidationError):
        Catalog.model_validate_json(r.content)


def test_published_activity_json_round_trips_through_the_protocol(api, auth):
    catalog = Catalog.model_validate_json(api.get("/catalog", headers=auth).content)
    activity = catalog.activities[0]
    assert Activity.model_validate(activity.model_dump(mode="json")) == activity
    for asset in activity.assets:
        assert asset.url == f"/api/v1/media/{asset.sha256}"


def test_database_url_puts_the_database_where_the_operator_says(tmp_path):
    from creditserver.runner import serve_in_thread

    from .conftest import bearer, client_for, sign_in

    db_file = tmp_path / "elsewhere" / "credit.db"
    db_file.parent.mkdir()
    with serve_in_thread(tmp_path / "data", demo=True, database_url=f"sqlite:///{db_file}") as server:
        with client_for(server) as client:
            assert client.get("/catalog", headers=bearer(sign_in(client))).json()["activities"]
    assert db_file.is_file()
    assert not (tmp_path / "data" / "server.sqlite3").exists()
    assert (tmp_path / "data" / "media").is_dir()  # media stay in the data dir


def test_a_server_on_another_database_keeps_no_sqlite_file_in_its_data_folder(server):
    if server.database_url is None:
        pytest.skip("this pass runs on SQLite in the data folder (test_database_url_puts_the_database_… covers a URL)")
    assert not list(server.data_dir.glob("server.sqlite3*"))
    assert (server.data_dir / "media").is_dir()


def test_the_database_enforces_foreign_keys(server):
    from sqlalchemy.exc import IntegrityError

    from creditserver.models import RefreshToken, utcnow

    with pytest.raises(IntegrityError), server.app.state.db.session() as s:  # a token of no learner
        s.add(RefreshToken(token_hash="0" * 64, learner_id="no-such-learner", expires_at=utcnow()))


def test_sqlite_database_uses_wal_and_foreign_keys(server):
    from sqlalchemy import text

    if server.database_url is not None:
        pytest.skip("PRAGMAs are SQLite's own; on PostgreSQL test_the_database_enforces_foreign_keys checks the foreign keys")

    with server.app.state.db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
