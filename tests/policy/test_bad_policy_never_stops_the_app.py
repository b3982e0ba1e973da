"""A bad machine policy never stops the app (issue 11, item 5): whatever IT's file holds, or
the CA bundle it names, the app gets one log line, safe defaults for the bad keys, and the
problem in `diagnostics` and on the Settings page; sign-in and sync still work."""

from __future__ import annotations

import json
import logging
import os

import pytest

from desktop.ca_bundle import ca_bundle_problem
from desktop.errors import BadSetting
from desktop.policy import MAX_POLICY_BYTES, load_policy
from desktop.sync.http import tls_context
from tests.support.certificates import write_ca_bundle
from tests.support.cli import run_cli


def policy_lines(caplog):
    return [r for r in caplog.records if r.name == "desktop.policy" and r.levelno >= logging.WARNING]


BAD_FILES = {
    "wrong types": b'server_url = 5\nbandwidth_cap_kbps = "fast"\ndemo_allowed = [1]\nproxy = {a = 1}\n'
                   b'idle_sign_out_minutes = inf\nstorage_location = "a\\u0000b"\n',
    "deep nesting": b"x = " + b"[" * 60_000 + b"]" * 60_000 + b"\n",
    "deep nesting in a key": b"demo_allowed = " + b"[" * 400 + b"]" * 400 + b"\n",
    "huge": b"# " + b"x" * (MAX_POLICY_BYTES + 10),
    "binary": os.urandom(4096) + b"\x00\xff",
    "utf-16": 'demo_allowed = false\n'.encode("utf-16"),
    "tables everywhere": b"[server_url]\nx = 1\n[[proxy]]\n[extra_ca_bundle.a.b]\n",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_any_bad_file_gives_one_line_and_defaults(name, no_machine_policy, caplog):
    no_machine_policy.write_bytes(BAD_FILES[name])
    policy = load_policy(registry={})
    assert len(policy_lines(caplog)) == 1
    assert policy.problems
    assert set(policy.values) <= {"demo_allowed"} and policy.values.get("demo_allowed", False) is False


@pytest.mark.parametrize("content", [None, b"", b"not a certificate\n", os.urandom(2000),
                                     b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "folder"])
def test_a_ca_bundle_that_cannot_be_used_is_a_problem_not_a_crash(content, tmp_path, no_machine_policy, caplog):
    ca = tmp_path / "hospital-ca.pem"
    if content == "folder":
        ca.mkdir()
    elif content is not None:
        ca.write_bytes(content)
    no_machine_policy.write_text(f'extra_ca_bundle = "{ca}"\nbandwidth_cap_kbps = 512\n')
    policy = load_policy(registry={})
    assert not policy.is_set("extra_ca_bundle") and policy.get("bandwidth_cap_kbps") == 512
    (problem,) = policy.problems
    assert "extra_ca_bundle" in problem and "CA bundle" in problem
    assert len(policy_lines(caplog)) == 1
    tls_context(ca)  # a client built with it anyway (the file went bad later): OS store only, no raise


def test_a_good_ca_bundle_is_used(tmp_path, no_machine_policy, caplog):
    ca = write_ca_bundle(tmp_path / "hospital-ca.pem")
    no_machine_policy.write_text(f'extra_ca_bundle = "{ca}"\n')
    policy = load_policy(registry={})
    assert policy.get("extra_ca_bundle") == str(ca) and policy.problems == ()
    assert ca_bundle_problem(ca) is None
    tls_context(ca)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_sign_in_sync_and_diagnostics_work_with_a_missing_ca_bundle(
        server, data_dir, tmp_path, no_machine_policy, monkeypatch, capsys):
    no_machine_policy.write_text(f'extra_ca_bundle = "{tmp_path / "gone.pem"}"\n'
                                 "nested = " + "[" * 5000 + "]" * 5000 + "\n")
    d = ["--data-dir", str(data_dir), "--server", server.url]
    code, out, err = run_cli(monkeypatch, capsys, "login", *d, "--username", "demo", "--password-stdin",
                             stdin="demo\n")
    assert code == 0, err
    code, out, err = run_cli(monkeypatch, capsys, "sync", *d)
    assert code == 0, err
    code, out, err = run_cli(monkeypatch, capsys, "diagnostics", "--json", *d)
    assert code == 0, err
    problems = json.loads(out)["policy"]["problems"]
    assert problems and "nested too deeply" in problems[0]


def test_a_missing_user_ca_bundle_is_shown_and_does_not_stop_sign_in(server, make_services, data_dir, tmp_path):
    gone = tmp_path / "gone.pem"
    (data_dir / "settings.json").write_text(json.dumps({"extra_ca_bundle": str(gone)}))
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    services.sync()
    (problem,) = services.diagnostics()["settings_problems"]
    assert "extra_ca_bundle" in problem and str(gone) in problem
    with pytest.raises(BadSetting, match="CA bundle"):
        services.config.update_settings(extra_ca_bundle=str(tmp_path))
    good = write_ca_bundle(tmp_path / "good.pem")
    assert services.config.update_settings(extra_ca_bundle=str(good)).extra_ca_bundle == str(good)
    services.sign_in("demo", "demo")


@pytest.mark.gui
def test_the_settings_page_lists_the_policy_problems(qtbot, qapp, no_machine_policy, make_services, tmp_path):
    from desktop.views.pages import SettingsPage
    from desktop.views.tasks import wait_for_tasks

    no_machine_policy.write_text(f'extra_ca_bundle = "{tmp_path / "gone.pem"}"\n')
    page = SettingsPage(make_services())
    qtbot.addWidget(page)
    assert "extra_ca_bundle" in page.policy_label.text() and "gone.pem" in page.policy_label.text()
    assert wait_for_tasks(30_000)
