"""Sign-in and catalog sync against the real reference server over loopback HTTP."""

from __future__ import annotations

import json

import keyring
import pytest

from creditserver.throttle import ThrottleSettings
from desktop.errors import InvalidResponse, ServerFailed, ServerUnreachable, SignInRequired, TooManySignIns, WrongCredentials
from tests.support.activities import DEMO_ID
from tests.support.fault_proxy import Canned
from tests.support.requests_seen import requests_seen


def signed_in(make_services, url):
    services = make_services(url)
    services.sign_in("demo", "demo")
    return services


def snapshot(services):
    """What the learner would see: every library row and the demo's front matter."""
    return services.library_rows(), services.activity_detail(DEMO_ID)


def test_sign_in_sync_then_library_works_offline_after_restart(server, make_services):
    services = signed_in(make_services, server.url)
    report = services.sync()
    assert not report.not_modified
    rows = services.library_rows()
    assert [r.id for r in rows] == [DEMO_ID]
    assert rows[0].media_state.value == "absent"
    assert "AMA" in rows[0].credits_label("physician")
    assert services.status().online is True
    assert services.status().learner.username == "demo"
    services.close()

    server.stop()  # the network is gone; a restart on the same data dir
    again = make_services(server.url)
    assert [r.id for r in again.library_rows()] == [DEMO_ID]
    with pytest.raises(ServerUnreachable) as err:
        again.sync()
    assert "cannot be reached" in str(err.value)
    status = again.status()
    assert status.online is False
    assert status.last_sync_at is not None and "cannot be reached" in status.last_error
    assert [r.id for r in again.library_rows()] == [DEMO_ID]


def test_wrong_password_is_refused_plainly_and_nothing_is_stored(server, make_services):
    services = make_services(server.url)
    with pytest.raises(WrongCredentials) as err:
        services.sign_in("demo", "not-the-password")
    assert "refused the username or password" in str(err.value)
    assert services.current_learner() is None
    assert services.library_rows() == []


def test_a_name_held_back_after_wrong_passwords_says_how_long_to_wait(start_server, make_services):
    """The server throttles a name after wrong passwords (429 + Retry-After): the learner is
    told to wait, in minutes, not shown a bare status code; the right password is refused too."""
    server = start_server(sign_in_throttle=ThrottleSettings(free_failures_per_username=2, first_delay_s=120))
    services = make_services(server.url)
    for _ in range(2):
        with pytest.raises(WrongCredentials):
            services.sign_in("demo", "not-the-password")
    with pytest.raises(TooManySignIns) as err:
        services.sign_in("demo", "demo")
    assert "Too many failed sign-ins" in str(err.value) and "Wait 2 minutes" in str(err.value)
    assert services.current_learner() is None


def test_second_sync_is_conditional_and_transfers_no_catalog_body(server, make_services):
    services = signed_in(make_services, server.url)
    services.sync()
    server.request_log.clear()
    report = services.sync()
    assert report.not_modified
    catalog_requests = requests_seen(server, "/api/v1/catalog")
    assert [r.status for r in catalog_requests] == [304]
    assert catalog_requests[0].if_none_match and catalog_requests[0].bytes_sent == 0
    assert "since=" in catalog_requests[0].query


def test_withdrawal_and_new_activity_arrive_by_cursor(server, make_services, tmp_path):
    services = signed_in(make_services, server.url)
    services.sync()
    activity = json.loads(_demo_json(server))
    activity["id"] = "second-activity"
    activity["title"] = "A second activity"
    server.inject_raw_activity("second-activity", json.dumps(activity))
    services.sync()
    assert sorted(r.id for r in services.library_rows()) == [DEMO_ID, "second-activity"]
    server.withdraw("second-activity")
    server.request_log.clear()
    services.sync()
    assert [r.id for r in services.library_rows()] == [DEMO_ID]
    (req,) = requests_seen(server, "/api/v1/catalog")
    assert req.status == 200 and "since=" in req.query


def _demo_json(server) -> str:
    """The demo activity as the server serves it."""
    import httpx

    token = httpx.post(server.api_url + "/auth/token", json={"username": "demo", "password": "demo"}).json()
    catalog = httpx.get(
        server.api_url + "/catalog", headers={"Authorization": f"Bearer {token['access_token']}"}
    ).json()
    return json.dumps(catalog["activities"][0])


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda a: a.pop("title"), "title (activity 'zz-bad')"),
        (lambda a: a.update(termination_date="someday"), "termination_date"),
        (lambda a: a.update(id="../../etc/passwd"), ".id (activity '../../etc/passwd')"),
        (lambda a: a["assets"][0].update(url="/api/v1/media/../../../etc/passwd"), "url"),
        (lambda a: a["assets"][0].update(url="file:///etc/passwd"), "url"),
        (lambda a: a["assets"][0].update(sha256="../" * 21 + "x"), "sha256"),
    ],
    ids=["missing-title", "bad-date", "id-traversal", "url-traversal", "file-url", "sha-traversal"],
)
def test_malformed_catalog_is_refused_whole_and_cache_unchanged(server, make_services, mutate, expected):
    services = signed_in(make_services, server.url)
    services.sync()
    before = snapshot(services)
    bad = json.loads(_demo_json(server))
    mutate(bad)
    if bad["id"] == DEMO_ID:
        bad["id"] = "zz-bad"  # a new activity, so the good change below is in the same reply
    server.inject_raw_activity("zz-bad", json.dumps(bad))
    # the bad activity sits beside a good change in the same catalog reply
    good = json.loads(_demo_json(server))
    good["title"] = "Changed title that must not be applied"
    server.inject_raw_activity(DEMO_ID, json.dumps(good))
    with pytest.raises(InvalidResponse) as err:
        services.sync()
    assert expected in str(err.value) and "nothing was changed" in str(err.value)
    assert snapshot(services) == before
    assert services.status().last_error == str(err.value)


def test_oversized_catalog_is_refused_without_reading_it_all(server, make_services):
    from desktop.config import Settings

    services = make_services(server.url, settings=Settings(max_catalog_mb=1))
    services.sign_in("demo", "demo")
    services.sync()
    before = snapshot(services)
    big = json.loads(_demo_json(server))
    big["highlights"] = ["x" * 400] * 50
    for i in range(60):
        big["id"] = f"bulk-{i}"
        server.inject_raw_activity(big["id"], json.dumps(big))
    with pytest.raises(InvalidResponse) as err:
        services.sync()
    assert "larger than 1 MB" in str(err.value)
    assert snapshot(services) == before


def test_server_error_is_reported_and_cache_kept(server, fault_proxy, make_services):
    services = signed_in(make_services, fault_proxy.url)
    services.sync()
    before = snapshot(services)
    fault_proxy.answer(
        "/api/v1/catalog",
        Canned(500, b'{"title":"Internal Server Error","status":500}', {"Content-Type": "application/problem+json"}),
    )
    with pytest.raises(ServerFailed) as err:
        services.sync()
    assert "500" in str(err.value) and "try again later" in str(err.value)
    assert snapshot(services) == before
    assert services.status().online is True  # it answered: the network is fine


def test_non_json_reply_is_refused(server, fault_proxy, make_services):
    services = signed_in(make_services, fault_proxy.url)
    services.sync()
    before = snapshot(services)
    fault_proxy.answer("/api/v1/catalog", Canned(200, b"<html>proxy login page</html>", {"Content-Type": "text/html"}))
    with pytest.raises(InvalidResponse):
        services.sync()
    assert snapshot(services) == before


def test_revoked_token_asks_to_sign_in_again_and_keeps_the_cache(server, make_services):
    services = signed_in(make_services, server.url)
    services.sync()
    before = snapshot(services)
    server.expire_access_tokens()
    server.revoke_all_refresh_tokens()
    with pytest.raises(SignInRequired) as err:
        services.sync()
    assert "Sign in again" in str(err.value)
    assert snapshot(services) == before
    assert keyring.get_password(services.connection.account().vault.service, "demo") is None
    services.sign_in("demo", "demo")
    assert services.sync().not_modified


def test_expired_access_token_is_refreshed_silently(server, make_services):
    services = signed_in(make_services, server.url)
    server.expire_access_tokens()
    assert services.sync().changed == 1


def test_sign_in_survives_restart_via_the_keyring_only(server, make_services):
    signed_in(make_services, server.url).close()
    again = make_services(server.url)
    assert again.current_learner().username == "demo"
    assert again.sync().changed == 1  # a fresh process got its access token from the keyring


def test_sign_out_removes_the_token_and_revokes_it(server, make_services):
    services = signed_in(make_services, server.url)
    service_name = services.connection.account().vault.service
    token = keyring.get_password(service_name, "demo")
    assert token
    services.sign_out()
    assert keyring.get_password(service_name, "demo") is None
    assert services.current_learner() is None
    import httpx

    r = httpx.post(server.api_url + "/auth/refresh", json={"refresh_token": token})
    assert r.status_code == 401


def test_clock_offset_is_recorded_from_the_server_date(server, make_services):
    services = signed_in(make_services, server.url)
    services.sync()
    offset = services.status().clock_offset_ms
    assert offset is not None and abs(offset) < 5000
