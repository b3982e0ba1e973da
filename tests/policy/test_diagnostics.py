"""Diagnostics for the help desk: everything they need, never a token or password."""

from __future__ import annotations

import json
import logging

from desktop.logs import redact, setup_logging
from desktop.sync.credentials import TokenVault
from tests.support.cli import run_cli


def test_diagnostics_has_what_the_help_desk_needs_and_no_token(
        server, make_services, data_dir, no_machine_policy, monkeypatch, capsys):
    no_machine_policy.write_text('bandwidth_cap_kbps = 1024\nbogus_key = 1\n')
    setup_logging(data_dir / "logs")
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    services.sync()
    services.enqueue_downloads(None)
    refresh = TokenVault(server.url).load("demo")
    access = services.connection.account().access_token()
    assert refresh and access
    # a careless log line (defence in depth: the file handler's filter redacts it)
    logging.getLogger("desktop.test").warning("request headers: Authorization: Bearer %s; refresh_token=%s; "
                                              "password=demo", access, refresh)
    services.close()

    code, out, err = run_cli(monkeypatch, capsys, "diagnostics", "--json", "--data-dir", str(data_dir),
                             "--server", server.url)
    assert code == 0, err
    data = json.loads(out)
    assert data["app"]["version"] and data["os"] and data["python"]
    assert "qt" in data and "libvlc" in data
    assert data["paths"]["data_dir"] == str(data_dir)
    assert data["paths"]["log_file"] == str(data_dir / "logs" / "cme-offline.log")
    assert data["server_url"] == server.url and data["learner"] == "demo"
    assert data["last_sync_at"] and data["last_sync_error"] is None
    assert data["download_queue"] == {"queued": 4}
    assert data["policy"]["file"] == str(no_machine_policy) and data["policy"]["file_exists"]
    assert any("bogus_key" in p for p in data["policy"]["problems"])
    assert data["settings"]["bandwidth_cap_kbps"] == {
        "value": 1024, "source": "policy", "policy_source": str(no_machine_policy)}
    assert data["settings"]["sync_interval_minutes"]["source"] == "default"
    assert data["storage_bytes"] == 0
    assert 0 < len(data["log_tail"]) <= 200
    assert any("Bearer [redacted]" in line for line in data["log_tail"])

    code, text, _ = run_cli(monkeypatch, capsys, "diagnostics", "--data-dir", str(data_dir), "--server", server.url)
    assert code == 0 and "Machine policy:" in text and "bandwidth_cap_kbps = 1024 [policy]" in text
    log_file = (data_dir / "logs" / "cme-offline.log").read_text()
    for secret in (refresh, access):
        assert secret not in out and secret not in text and secret not in log_file
    assert "password=demo" not in log_file and "password=demo" not in text


def test_redaction_patterns():
    assert redact("Authorization: Bearer abc.DEF-123_xyz") == "Authorization: Bearer [redacted]"
    assert redact('{"refresh_token": "r0t", "password":"p w"}') == \
        '{"refresh_token": "[redacted]", "password":"[redacted] w"}'
    assert redact("access_token=aaa&x=1 pwd: hunter2") == "access_token=[redacted]&x=1 pwd: [redacted]"
    assert redact("3 tokens left, password reset link sent") == "3 tokens left, password reset link sent"
