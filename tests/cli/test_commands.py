"""The headless commands, run as a user or IT script would, against the real server."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import keyring

from tests.support.activities import DEMO_ID
from tests.support.cli import run_cli


def test_login_sync_status_logout(server, data_dir, monkeypatch, capsys):
    d = ["--data-dir", str(data_dir)]
    code, out, _ = run_cli(monkeypatch, capsys, "login", *d, "--server", server.url, "--username", "demo",
                           "--password-stdin", stdin="demo\n")
    assert code == 0 and "Signed in as" in out

    code, out, _ = run_cli(monkeypatch, capsys, "sync", *d, "--json")  # server remembered from login
    assert code == 0 and json.loads(out)["changed"] == 1

    code, out, _ = run_cli(monkeypatch, capsys, "status", *d, "--json")
    status = json.loads(out)
    assert status["server"] == server.url
    assert status["learner"]["username"] == "demo"
    assert status["last_sync_at"].endswith("Z")
    (activity,) = status["activities"]
    assert activity["id"] == DEMO_ID and activity["state"] == "absent"
    kinds = sorted(a["kind"] for a in activity["assets"])
    assert kinds == ["summary", "summary", "transcript", "video"]
    assert all(a["state"] == "absent" and len(a["sha256"]) == 64 for a in activity["assets"])

    code, out, _ = run_cli(monkeypatch, capsys, "logout", *d)
    assert code == 0 and "Signed out demo" in out
    code, out, _ = run_cli(monkeypatch, capsys, "status", *d, "--json")
    assert json.loads(out)["learner"] is None
    assert len(json.loads(out)["activities"]) == 1  # signing out keeps the shared catalog


def test_failures_exit_non_zero_with_one_line(server, data_dir, monkeypatch, capsys):
    d = ["--data-dir", str(data_dir), "--server", server.url]
    code, _, err = run_cli(monkeypatch, capsys, "login", *d, "--username", "demo", "--password-stdin", stdin="nope\n")
    assert code == 1 and err.count("\n") == 1 and "refused the username or password" in err

    code, _, err = run_cli(monkeypatch, capsys, "sync", *d)
    assert code == 1 and "No one is signed in" in err

    code, _, err = run_cli(monkeypatch, capsys, "sync", "--data-dir", str(data_dir), "--server", "ftp://x")
    assert code == 2 and "must start with https://" in err


def test_command_in_a_real_process_reports_an_unreachable_server(tmp_path, data_dir):
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "kr")}
    login = subprocess.run(
        [sys.executable, "-m", "desktop.app", "login", "--data-dir", str(data_dir), "--server", "http://127.0.0.1:9",
         "--username", "demo", "--password-stdin"],
        input="demo\n", capture_output=True, text=True, env=env, timeout=60,
    )
    assert login.returncode == 1
    assert login.stderr.strip().count("\n") == 0
    assert "cannot be reached" in login.stderr


def test_no_token_in_any_file_under_the_data_dir_or_any_log_line(server, data_dir, monkeypatch, capsys, caplog):
    from desktop.config import Paths
    from desktop.logs import setup_logging
    from desktop.services import Services

    caplog.set_level(logging.DEBUG)
    setup_logging(data_dir / "logs", verbose=True)
    d = ["--data-dir", str(data_dir), "--server", server.url, "--verbose"]
    assert run_cli(monkeypatch, capsys, "login", *d, "--username", "demo", "--password-stdin", stdin="demo\n")[0] == 0
    services = Services(Paths(data_dir), server_url=server.url)
    services.sync()
    access = services.connection.account().access_token()
    services.close()
    assert run_cli(monkeypatch, capsys, "sync", *d)[0] == 0
    refresh = keyring.get_password(f"CME Offline refresh token @ {server.url}", "demo")
    assert refresh and access and refresh != access

    files = [p for p in Path(data_dir).rglob("*") if p.is_file()]
    assert any(p.name.endswith(".log") for p in files) and any(p.suffix == ".sqlite3" for p in files)
    for path in files:
        blob = path.read_bytes()
        for secret in (refresh, access):
            assert secret.encode() not in blob, f"a token was written to {path}"
    for record in caplog.records:
        assert refresh not in record.getMessage() and access not in record.getMessage()
