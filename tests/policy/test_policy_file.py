"""The machine policy file and registry values: parsing, bad files, precedence, overlay."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest

from desktop.config import Settings
from desktop.policy import REGISTRY_PATH, HoursWindow, effective_settings, load_policy, policy_file
from tests.support.certificates import write_ca_bundle

KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # 32 bytes, base64


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def policy_lines(caplog):
    return [r for r in caplog.records if r.name == "desktop.policy" and r.levelno >= logging.WARNING]


def test_every_key_is_read_with_its_source(tmp_path, caplog):
    ca = write_ca_bundle(tmp_path / "hospital-ca.pem")
    f = write(tmp_path / "policy.toml", f"""
server_url = "https://cme.example.org/"
extra_ca_bundle = "{ca}"
proxy = "http://proxy.example.org:8080"
bandwidth_cap_kbps = 2048
download_hours = "19:00-07:00"
storage_location = "/var/lib/cme/$USER"
shared_content_dir = "/mnt/cme-content"
demo_allowed = false
idle_sign_out_minutes = 10
server_public_key = "{KEY}"
""")
    with caplog.at_level(logging.INFO):
        p = load_policy(f, registry={})
    assert p.problems == () and not policy_lines(caplog)
    assert p.get("server_url") == "https://cme.example.org"  # normalised
    assert p.get("bandwidth_cap_kbps") == 2048 and p.get("demo_allowed") is False
    assert p.get("idle_sign_out_minutes") == 10.0
    assert p.download_window() == HoursWindow.parse("19:00-07:00")
    assert set(p.sources) == {"server_url", "extra_ca_bundle", "proxy", "bandwidth_cap_kbps", "download_hours",
                              "storage_location", "shared_content_dir", "demo_allowed", "idle_sign_out_minutes",
                              "server_public_key"}
    assert p.locked()["proxy"] == f"Set by your organisation's policy ({f})"


def test_missing_file_is_no_policy_and_no_log(tmp_path, caplog):
    p = load_policy(tmp_path / "absent.toml", registry={})
    assert p.values == {} and p.sources == {} and p.problems == ()
    assert not policy_lines(caplog)


def test_syntax_error_gives_one_clear_line_and_defaults(tmp_path, caplog):
    f = write(tmp_path / "policy.toml", 'server_url = "https://x.example.org"\nbandwidth_cap_kbps = = 5\n')
    p = load_policy(f, registry={})
    assert p.values == {}
    (line,) = policy_lines(caplog)
    assert str(f) in line.getMessage() and "not valid TOML" in line.getMessage()


def test_wrong_types_and_unknown_keys_one_line_naming_each_safe_defaults(tmp_path, caplog):
    f = write(tmp_path / "policy.toml", """
server_url = "cme.example.org"
bandwidth_cap_kbps = "fast"
demo_allowed = "no"
idle_sign_out_minutes = -3
download_hours = "evenings"
server_public_key = "not-a-key"
sever_url = "https://typo.example.org"
proxy = "http://proxy.example.org:3128"
""")
    p = load_policy(f, registry={})
    (line,) = policy_lines(caplog)
    text = line.getMessage()
    for key in ("server_url", "bandwidth_cap_kbps", "demo_allowed", "idle_sign_out_minutes", "download_hours",
                "server_public_key", "'sever_url'"):
        assert key in text, key
    assert str(f) in text
    # the good value survives; bad ones are unset, except demo_allowed which falls back to false
    assert p.values == {"proxy": "http://proxy.example.org:3128", "demo_allowed": False}
    assert len(p.problems) == 7


def test_not_utf8_and_huge_files_are_refused_whole(tmp_path, caplog):
    f = tmp_path / "policy.toml"
    f.write_bytes(b"server_url = \"\xff\xfe\"\n")
    assert load_policy(f, registry={}).values == {}
    f.write_text("# " + "x" * 300_000)
    assert load_policy(f, registry={}).values == {}
    assert len(policy_lines(caplog)) == 2


def test_registry_wins_over_the_file_and_accepts_dword_and_both_spellings(tmp_path):
    f = write(tmp_path / "policy.toml", 'server_url = "https://file.example.org"\ndemo_allowed = true\n'
                                        'bandwidth_cap_kbps = 100\n')
    p = load_policy(f, registry={"ServerUrl": "https://gpo.example.org", "DemoAllowed": 0,
                                 "idle_sign_out_minutes": "15", "Nonsense": 1})
    assert p.get("server_url") == "https://gpo.example.org"
    assert p.sources["server_url"] == REGISTRY_PATH + "\\ServerUrl"
    assert p.get("demo_allowed") is False and p.get("idle_sign_out_minutes") == 15.0
    assert p.get("bandwidth_cap_kbps") == 100 and p.sources["bandwidth_cap_kbps"] == str(f)
    assert any("Nonsense" in problem for problem in p.problems)


def test_env_var_names_the_file(tmp_path, monkeypatch):
    f = write(tmp_path / "staging.toml", "demo_allowed = false\n")
    monkeypatch.setenv("CME_OFFLINE_POLICY_FILE", str(f))
    assert policy_file() == f
    assert load_policy(registry={}).get("demo_allowed") is False


def test_effective_settings_overlay_policy_on_user_values(tmp_path):
    f = write(tmp_path / "policy.toml", 'bandwidth_cap_kbps = 512\nshared_content_dir = "/mnt/c"\n')
    user = Settings(bandwidth_cap_kbps=4096, sync_interval_minutes=30, proxy="http://mine:1")
    eff = effective_settings(user, load_policy(f, registry={}))
    assert (eff.bandwidth_cap_kbps, eff.shared_content_dir) == (512, "/mnt/c")
    assert (eff.sync_interval_minutes, eff.proxy) == (30, "http://mine:1")
    assert user.bandwidth_cap_kbps == 4096


def test_storage_location_expands_per_user_and_never_shares_the_content_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("USER", "nurse1")
    f = write(tmp_path / "policy.toml", f'storage_location = "{tmp_path}/data/$USER"\n')
    assert load_policy(f, registry={}).storage_dir() == tmp_path / "data" / "nurse1"
    write(f, f'storage_location = "{tmp_path}/share/data"\nshared_content_dir = "{tmp_path}/share"\n')
    p = load_policy(f, registry={})
    assert p.storage_dir() is None and any("shared content folder" in x for x in p.problems)
    write(f, 'storage_location = "//fileserver/home/cme"\n')
    p = load_policy(f, registry={})
    assert p.storage_dir() is None and any("network share" in x for x in p.problems)


@pytest.mark.parametrize("window, now, inside", [
    ("19:00-07:00", "2025-01-01 20:00", True),
    ("19:00-07:00", "2025-01-01 06:59", True),
    ("19:00-07:00", "2025-01-01 07:00", False),
    ("19:00-07:00", "2025-01-01 12:00", False),
    ("09:00-17:30", "2025-01-01 17:29", True),
    ("09:00-17:30", "2025-01-01 08:00", False),
    ("00:00-00:00", "2025-01-01 03:00", True),
])
def test_hours_window(window, now, inside):
    w = HoursWindow.parse(window)
    moment = datetime.fromisoformat(now)
    assert w.contains(moment) is inside
    assert (w.seconds_until_open(moment) == 0) is inside


def test_hours_window_waits_until_it_opens():
    w = HoursWindow.parse("19:00-07:00")
    assert w.seconds_until_open(datetime(2025, 1, 1, 18, 0)) == 3600
    assert w.seconds_until_open(datetime(2025, 1, 1, 7, 0)) == 12 * 3600
    with pytest.raises(ValueError, match="19:00-07:00"):
        HoursWindow.parse("7pm-7am")
