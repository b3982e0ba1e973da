"""Policy in the services and the command line: it wins, it is locked, it is never saved as the user's."""

from __future__ import annotations

import json

import pytest

from desktop.errors import BadSetting, ConfigError, SettingLocked
from tests.support.cli import run_cli


def test_policy_wins_is_locked_and_not_written_to_settings_json(no_machine_policy, make_services, data_dir):
    no_machine_policy.write_text(
        'server_url = "https://cme.hospital.example"\nbandwidth_cap_kbps = 512\nproxy = "http://proxy:3128"\n'
    )
    services = make_services("https://other.example.org")
    assert services.server_url == "https://cme.hospital.example"  # policy beats the caller's server
    assert services.settings.bandwidth_cap_kbps == 512 and services.settings.proxy == "http://proxy:3128"
    locked = services.locked_settings()
    assert set(locked) == {"server_url", "bandwidth_cap_kbps", "proxy"}
    assert locked["proxy"] == f"Set by your organisation's policy ({no_machine_policy})"

    with pytest.raises(SettingLocked, match="organisation's policy"):
        services.update_settings(bandwidth_cap_kbps=4096)
    with pytest.raises(SettingLocked):
        services.set_server_url("https://elsewhere.example.org")
    services.set_server_url("https://cme.hospital.example")  # the same value: nothing to refuse
    # unlocked values still change; the locked one given unchanged is accepted and not saved
    services.update_settings(sync_interval_minutes=42, bandwidth_cap_kbps=512)
    saved = json.loads((data_dir / "settings.json").read_text())
    assert saved["sync_interval_minutes"] == 42
    assert saved["bandwidth_cap_kbps"] is None and saved["proxy"] is None and saved["server_url"] is None
    assert services.settings.bandwidth_cap_kbps == 512


def test_without_policy_the_user_changes_everything(make_services):
    services = make_services("https://a.example.org")
    assert services.locked_settings() == {}
    services.update_settings(bandwidth_cap_kbps=4096, download_hours="22:00-6:00", shared_content_dir="/mnt/x")
    assert services.settings.download_hours == "22:00-06:00"
    with pytest.raises(BadSetting) as refused:  # a ConfigError the views show as it is, not a bug
        services.update_settings(download_hours="nights")
    assert isinstance(refused.value, ConfigError) and refused.value.code == "bad-setting"
    assert str(refused.value) == ("The download hours setting is not usable: download hours must look like "
                                  "19:00-07:00 (got 'nights').")
    with pytest.raises(BadSetting, match="bandwidth cap kbps setting is not usable"):
        services.update_settings(bandwidth_cap_kbps=1)
    assert services.settings.download_hours == "22:00-06:00"  # nothing was changed


def test_cli_server_flag_does_not_override_a_policy_server(no_machine_policy, data_dir, monkeypatch, capsys):
    no_machine_policy.write_text('server_url = "http://127.0.0.1:9"\n')
    code, out, err = run_cli(monkeypatch, capsys, "status", "--json", "--data-dir", str(data_dir),
                             "--server", "https://mine.example.org")
    assert code == 0
    assert json.loads(out)["server"] == "http://127.0.0.1:9"
    assert err.count("\n") == 1 and "--server https://mine.example.org is ignored" in err
    assert str(no_machine_policy) in err


def test_demo_turned_off_by_policy_exits_with_one_line(no_machine_policy, data_dir, monkeypatch, capsys):
    no_machine_policy.write_text("demo_allowed = false\n")
    code, out, err = run_cli(monkeypatch, capsys, "--demo", "--data-dir", str(data_dir))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "demo is turned off by your organisation's policy" in err
    assert not (data_dir / "demo").exists()


def test_bad_policy_file_never_stops_the_cli(no_machine_policy, data_dir, monkeypatch, capsys):
    no_machine_policy.write_text("server_url = [\n")
    code, out, err = run_cli(monkeypatch, capsys, "status", "--json", "--data-dir", str(data_dir))
    assert code == 0 and json.loads(out)["server"] is None
    log = (data_dir / "logs" / "cme-offline.log").read_text()
    assert log.count("machine policy:") == 1 and str(no_machine_policy) in log and "not valid TOML" in log


def test_storage_location_from_policy_is_the_data_dir(no_machine_policy, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CME_TEST_USER", "nurse7")
    no_machine_policy.write_text(f'storage_location = "{tmp_path}/cme/${{CME_TEST_USER}}"\n')
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    code, out, err = run_cli(monkeypatch, capsys, "status", "--json")
    assert code == 0, err
    assert (tmp_path / "cme" / "nurse7" / "cache.sqlite3").is_file()
    # without --data-dir the log goes to the platform's log folder, not the data folder
    assert (tmp_path / "state" / "CME Offline" / "log" / "cme-offline.log").is_file()
    assert not (tmp_path / "cme" / "nurse7" / "logs").exists()


def test_the_policy_gives_a_default_quality_the_learner_may_change_and_a_maximum(
        no_machine_policy, make_services, data_dir):
    from cmecore.renditions import Quality

    no_machine_policy.write_text('default_download_quality = "Audio"\nmax_download_quality = "small"\n')
    services = make_services("https://a.example.org")
    assert services.policy.problems == ()
    assert services.config.download_quality() is Quality.audio  # the policy's default
    assert services.config.quality_maximum() is Quality.small
    assert "default_download_quality" not in services.locked_settings()  # a default locks nothing
    assert "max_download_quality" in services.locked_settings()
    services.update_settings(download_quality=Quality.small, ask_quality=True)
    assert services.config.download_quality() is Quality.small and services.settings.ask_quality
    saved = json.loads((data_dir / "settings.json").read_text())
    assert saved["download_quality"] == "small" and saved["ask_quality"] is True
    services.update_settings(download_quality=Quality.best)  # above the maximum: the largest allowed
    assert services.config.download_quality() is Quality.small


def test_a_quality_the_policy_does_not_know_is_one_problem(no_machine_policy, make_services):
    from cmecore.renditions import Quality

    no_machine_policy.write_text('max_download_quality = "4k"\n')
    services = make_services("https://a.example.org")
    assert len(services.policy.problems) == 1 and "max_download_quality" in services.policy.problems[0]
    assert services.config.quality_maximum() is None and services.config.download_quality() is Quality.best
