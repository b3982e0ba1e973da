"""IT's templates agree with the app (issue 11, item 8): the Group Policy ADMX/ADML set every
policy key under HKLM\\SOFTWARE\\Policies\\CME Offline with the key's type, and a macOS
configuration profile's keys (read from /Library/Managed Preferences) go through the same
validation as the policy file."""

from __future__ import annotations

import plistlib
import re
import types
import typing
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from desktop.policy import KEYS, REGISTRY_KEY, _model, load_policy
from desktop.policy_sources import MACOS_BUNDLE_ID, key_named
from tests.support.certificates import write_ca_bundle

ROOT = Path(__file__).resolve().parents[2]
ADMX = ROOT / "packaging" / "windows" / "cme-offline.admx"
ADML = ROOT / "packaging" / "windows" / "en-US" / "cme-offline.adml"
PROFILE = ROOT / "packaging" / "macos" / "cme-offline.mobileconfig"
NS = {"p": "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"}
KEY32 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


def key_type(key: str) -> type:
    """The Python type a policy key holds (its model annotation without None)."""
    annotation = _model().model_fields[key].annotation
    union = isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union
    (kind,) = [a for a in typing.get_args(annotation) if a is not type(None)] if union else [annotation]
    return kind


def admx_policies() -> dict[str, tuple[str, ET.Element]]:
    """Policy key -> (registry value name, its <policy> element)."""
    found = {}
    for policy in ET.parse(ADMX).getroot().iterfind("p:policies/p:policy", NS):
        assert policy.get("class") == "Machine" and policy.get("key") == REGISTRY_KEY
        elements = list(policy.iterfind("p:elements/*", NS))
        names = [policy.get("valueName")] if policy.get("valueName") else [e.get("valueName") for e in elements]
        (name,) = names
        key = key_named(name, KEYS)
        assert key is not None, f"{name} names no policy key"
        assert key not in found, f"{key} set by two policies"
        found[key] = (name, policy)
    return found


def test_the_admx_sets_every_policy_key_with_its_type():
    policies = admx_policies()
    assert set(policies) == set(KEYS)
    for key, (name, policy) in policies.items():
        kind = key_type(key)
        elements = list(policy.iterfind("p:elements/*", NS))
        if kind is bool:
            assert not elements
            assert policy.find("p:enabledValue/p:decimal", NS).get("value") == "1"
            assert policy.find("p:disabledValue/p:decimal", NS).get("value") == "0"
        elif typing.get_origin(kind) is typing.Literal:  # one of a few values: a drop-down of exactly them
            (element,) = elements
            assert element.tag.split("}")[1] == "enum", key
            values = [v.text for v in element.iterfind("p:item/p:value/p:string", NS)]
            assert values == list(typing.get_args(kind)), key
        else:
            (element,) = elements
            tag = element.tag.split("}")[1]
            assert tag == {str: "text", int: "decimal", float: "decimal"}[kind], key
            if tag == "decimal":  # the ADMX limits are inside the model's
                field = _model().model_fields[key]
                low = next(m for m in field.metadata if hasattr(m, "gt") or hasattr(m, "ge"))
                assert int(element.get("minValue")) >= (getattr(low, "ge", None) or getattr(low, "gt", 0) + 1)


def test_the_adml_has_every_string_and_presentation_the_admx_names():
    admx_text = ADMX.read_text(encoding="utf-8")
    adml = ET.parse(ADML).getroot()
    strings = {s.get("id") for s in adml.iterfind(".//p:stringTable/p:string", NS)}
    presentations = {p.get("id"): p for p in adml.iterfind(".//p:presentationTable/p:presentation", NS)}
    assert set(re.findall(r"\$\(string\.([A-Za-z0-9_]+)\)", admx_text)) <= strings
    assert set(re.findall(r"\$\(presentation\.([A-Za-z0-9_]+)\)", admx_text)) <= set(presentations)
    for key, (name, policy) in admx_policies().items():
        for element in policy.iterfind("p:elements/*", NS):
            (control,) = list(presentations[name])
            assert control.get("refId") == element.get("id")


def test_values_as_group_policy_writes_them_are_read_without_a_problem(tmp_path):
    """What the ADMX's controls write (REG_SZ for text, REG_DWORD for numbers and the switch)."""
    ca = write_ca_bundle(tmp_path / "ca.pem")
    written = {"ServerUrl": "https://cme.example-hospital.org", "ExtraCaBundle": str(ca),
               "Proxy": "http://proxy.example.org:8080", "BandwidthCapKbps": 2048, "DownloadHours": "19:00-07:00",
               "StorageLocation": r"D:\CME\%USERNAME%", "SharedContentDir": r"\\fs01\cme-content",
               "DemoAllowed": 0, "IdleSignOutMinutes": 15, "ServerPublicKey": KEY32,
               "DefaultDownloadQuality": "small", "MaxDownloadQuality": "small"}
    assert {key_named(name, KEYS) for name in written} == set(KEYS)
    policy = load_policy(tmp_path / "absent.toml", registry=written, managed_preferences=tmp_path / "none")
    assert policy.problems == ()
    assert set(policy.values) == set(KEYS)
    assert policy.get("demo_allowed") is False and policy.get("idle_sign_out_minutes") == 15.0


def managed_plist(folder: Path, doc: dict, user: str | None = None) -> Path:
    where = folder / user if user else folder
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{MACOS_BUNDLE_ID}.plist"
    path.write_bytes(plistlib.dumps(doc))
    return path


def test_the_example_profile_as_macos_installs_it_is_read_without_a_problem(tmp_path):
    profile = plistlib.loads(PROFILE.read_bytes())
    (payload,) = [p for p in profile["PayloadContent"] if p["PayloadType"] == MACOS_BUNDLE_ID]
    plist = managed_plist(tmp_path / "Managed Preferences", payload)
    policy = load_policy(tmp_path / "absent.toml", registry={}, managed_preferences=plist.parent)
    assert policy.problems == ()
    assert policy.get("server_url") == "https://cme.example-hospital.org"
    assert policy.get("bandwidth_cap_kbps") == 2048 and policy.get("demo_allowed") is False
    assert policy.get("max_download_quality") == "small"
    assert policy.sources["server_url"] == f"{plist} (ServerUrl)"
    assert policy.locked()["server_url"].startswith("Set by your organisation's policy (")


def test_managed_preferences_are_validated_like_the_file_and_win_over_it(tmp_path, caplog):
    (tmp_path / "policy.toml").write_text('bandwidth_cap_kbps = 100\nproxy = "http://file-proxy:1"\n')
    folder = tmp_path / "Managed Preferences"
    managed_plist(folder, {"BandwidthCapKbps": 512, "DemoAllowed": "yes", "ServerUrl": "http://cme.example.org",
                           "Colour": "blue", "PayloadUUID": "x"})
    policy = load_policy(tmp_path / "policy.toml", registry={}, managed_preferences=folder)
    assert policy.get("bandwidth_cap_kbps") == 512 and policy.get("proxy") == "http://file-proxy:1"
    assert policy.get("demo_allowed") is False  # not a boolean: the safe default
    assert not policy.is_set("server_url")
    text = "; ".join(policy.problems)
    assert "demo_allowed" in text and "server_url" in text and "'Colour'" in text and "PayloadUUID" not in text
    assert len([r for r in caplog.records if r.name == "desktop.policy" and r.levelno >= 30]) == 1


def test_a_profile_scoped_to_the_user_wins_over_the_computers(tmp_path):
    import getpass

    folder = tmp_path / "Managed Preferences"
    managed_plist(folder, {"BandwidthCapKbps": 512, "IdleSignOutMinutes": 30})
    managed_plist(folder, {"BandwidthCapKbps": 64}, user=getpass.getuser())
    policy = load_policy(tmp_path / "absent.toml", registry={}, managed_preferences=folder)
    assert policy.get("bandwidth_cap_kbps") == 64 and policy.get("idle_sign_out_minutes") == 30.0


@pytest.mark.parametrize("content", [b"", b"garbage", plistlib.dumps(["not", "a", "dict"]), b"\x00" * 300_000])
def test_a_broken_managed_preferences_file_is_one_problem(tmp_path, content):
    folder = tmp_path / "Managed Preferences"
    folder.mkdir()
    (folder / f"{MACOS_BUNDLE_ID}.plist").write_bytes(content)
    policy = load_policy(tmp_path / "absent.toml", registry={}, managed_preferences=folder)
    assert policy.values == {} and len(policy.problems) == 1


def test_the_env_var_points_the_reader_at_a_folder(tmp_path, monkeypatch):
    folder = tmp_path / "Managed Preferences"
    managed_plist(folder, {"demo_allowed": False})
    monkeypatch.setenv("CME_OFFLINE_MANAGED_PREFERENCES_DIR", str(folder))
    assert load_policy(tmp_path / "absent.toml", registry={}).get("demo_allowed") is False
