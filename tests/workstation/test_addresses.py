"""A password never crosses the network in clear, and never sits in an address (issue 11,
item 4): `http://` only for this computer, `user:pass@` refused, from the policy file, the
settings API and `--server` alike; an address with a password is redacted wherever printed."""

from __future__ import annotations

import json
import logging

import pytest

from desktop.addresses import check_proxy_address, check_server_address, is_loopback, may_download_from
from desktop.errors import BadServerAddress, CleartextRefused, ConfigError, CredentialsInAddress
from desktop.logs import redact, setup_logging
from desktop.policy import load_policy
from tests.support.cli import run_cli

SECRET = "hunter2-secret"


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "[::1]"])
def test_http_is_accepted_for_this_computer(host):
    assert check_server_address(f"http://{host}:8080/") == f"http://{host}:8080"
    assert is_loopback(host)


@pytest.mark.parametrize("url", ["http://cme.example.org", "http://10.0.0.5:8000", "http://[::2]:80",
                                 "http://localhost.evil.example", "http://127.0.0.1.example.org"])
def test_http_to_another_computer_is_refused(url):
    with pytest.raises(CleartextRefused) as refused:
        check_server_address(url)
    assert refused.value.code == "cleartext-refused" and "https://" in str(refused.value)
    assert isinstance(refused.value, BadServerAddress)  # the views' and the CLI's existing handling


@pytest.mark.parametrize(("url", "allowed"), [
    ("https://media.example.org/cme-media/ab/x?md5=s&expires=1", True),
    ("http://127.0.0.1:8080/cme-media/ab/x", True),
    ("http://[::1]/x", True),
    ("http://media.example.org/cme-media/ab/x", False),
    ("http://localhost.evil.example/x", False),
    ("https://user:pass@media.example.org/x", False),
    ("ftp://media.example.org/x", False),
    ("https:///x", False),
])
def test_a_download_or_its_redirect_follows_the_server_address_rule(url, allowed):
    assert may_download_from(url) is allowed


@pytest.mark.parametrize("url", [f"https://bob:{SECRET}@cme.example.org", f"https://{SECRET}@cme.example.org",
                                 f"http://bob:{SECRET}@127.0.0.1:8000"])
def test_credentials_in_a_server_address_are_refused_and_not_repeated(url):
    with pytest.raises(CredentialsInAddress) as refused:
        check_server_address(url)
    assert refused.value.code == "credentials-in-address"
    assert SECRET not in str(refused.value) and "keyring" in str(refused.value)


def test_a_proxy_may_be_http_but_holds_no_password():
    assert check_proxy_address(" http://proxy.example.org:3128 ") == "http://proxy.example.org:3128"
    with pytest.raises(CredentialsInAddress) as refused:
        check_proxy_address(f"http://bob:{SECRET}@proxy.example.org:3128")
    assert SECRET not in str(refused.value) and "proxy settings" in str(refused.value)
    with pytest.raises(BadServerAddress):
        check_proxy_address("ftp://proxy.example.org")


def test_policy_file_route(no_machine_policy, caplog):
    no_machine_policy.write_text(f'server_url = "http://cme.example.org"\n'
                                 f'proxy = "http://bob:{SECRET}@proxy.example.org:8080"\n')
    policy = load_policy(registry={})
    assert not policy.is_set("server_url") and not policy.is_set("proxy")
    text = "; ".join(policy.problems)
    assert "server_url" in text and "unencrypted" in text and "proxy" in text and "user name or password" in text
    assert SECRET not in text and SECRET not in caplog.text

    no_machine_policy.write_text('server_url = "http://127.0.0.1:8000"\n')
    assert load_policy(registry={}).get("server_url") == "http://127.0.0.1:8000"


def test_settings_route_refuses_and_saves_nothing(make_services, data_dir, server):
    services = make_services(server.url)
    services.sign_in("demo", "demo")  # http:// on loopback: the real server signs in
    with pytest.raises(CleartextRefused):
        services.config.set_server_url("http://cme.example.org")
    with pytest.raises(CredentialsInAddress):
        services.config.set_server_url(f"https://bob:{SECRET}@cme.example.org")
    with pytest.raises(CredentialsInAddress) as refused:
        services.config.update_settings(proxy=f"http://bob:{SECRET}@proxy.example.org:3128")
    assert isinstance(refused.value, ConfigError) and SECRET not in str(refused.value)
    assert services.server_url == server.url
    services.config.update_settings(proxy="http://proxy.example.org:3128", sync_interval_minutes=30)
    saved = (data_dir / "settings.json").read_text()
    assert SECRET not in saved and "cme.example.org" not in saved


def test_settings_an_older_version_saved_lose_only_the_refused_values(make_services, data_dir, caplog):
    (data_dir / "settings.json").write_text(json.dumps({
        "server_url": "http://cme.example.org", "proxy": f"http://bob:{SECRET}@proxy.example.org:3128",
        "sync_interval_minutes": 42}))
    with caplog.at_level(logging.WARNING):
        services = make_services()
    assert services.server_url is None and services.settings.proxy is None
    assert services.settings.sync_interval_minutes == 42
    assert "server_url" in caplog.text and "proxy" in caplog.text and SECRET not in caplog.text


@pytest.mark.parametrize("url, words", [("http://cme.example.org", "unencrypted"),
                                        (f"https://bob:{SECRET}@cme.example.org", "user name or password")])
def test_cli_server_route(url, words, data_dir, monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "login", "--data-dir", str(data_dir), "--server", url,
                           "--username", "demo", "--password-stdin", stdin="demo\n")
    assert code == 2 and err.count("\n") == 1 and words in err
    assert SECRET not in err
    assert not (data_dir / "settings.json").exists() or "cme.example.org" not in (data_dir / "settings.json").read_text()


def test_an_address_with_a_password_is_redacted_in_the_log_and_diagnostics(
        make_services, data_dir, server, monkeypatch, capsys):
    setup_logging(data_dir / "logs")
    logging.getLogger("desktop.test").warning("proxy from the environment: http://bob:%s@proxy:3128", SECRET)
    code, out, err = run_cli(monkeypatch, capsys, "diagnostics", "--data-dir", str(data_dir), "--server", server.url)
    assert code == 0, err
    assert "http://[redacted]@proxy:3128" in out and SECRET not in out
    assert SECRET not in (data_dir / "logs" / "cme-offline.log").read_text()
    assert redact(f"see https://u:{SECRET}@h.example/x") == "see https://[redacted]@h.example/x"
