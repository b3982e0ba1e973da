"""The Windows installer's structure, built here with wixl from a STUB file tree.

A Windows PyInstaller build cannot run on Linux, so the MSI carries placeholder files:
this checks the installer logic that IT relies on (per-machine, `SERVERURL` written to
the policy key only when given, Start-menu shortcut, upgrades), not the app inside.
Skipped where msitools' wixl is not installed (CI does not install it).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.packaging.test_deb import load_build_module, project_version

if shutil.which("wixl") is None or shutil.which("msiinfo") is None:
    pytest.skip("wixl/msiinfo are not installed (apt-get install wixl msitools)", allow_module_level=True)


def table(msi, name: str) -> list[dict[str, str]]:
    text = subprocess.run(["msiinfo", "export", str(msi), name], capture_output=True, text=True, check=True).stdout
    lines = text.splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[3:]]


@pytest.fixture(scope="module")
def msi():
    return load_build_module().build_msi_stub()


def test_server_url_goes_to_the_policy_key_only_when_given(msi):
    registry = {row["Name"]: row for row in table(msi, "Registry")}
    policy = registry["ServerUrl"]
    assert policy["Root"] == "2"  # HKEY_LOCAL_MACHINE
    assert policy["Key"] == r"SOFTWARE\Policies\CME Offline"
    assert policy["Value"] == "[SERVERURL]"
    features = {row["Feature_"]: row["Component_"] for row in table(msi, "FeatureComponents") if row["Feature_"] == "ServerPolicy"}
    assert features == {"ServerPolicy": policy["Component_"]}
    assert table(msi, "Condition") == [{"Feature_": "ServerPolicy", "Level": "0", "Condition": "NOT SERVERURL"}]
    properties = {row["Property"]: row["Value"] for row in table(msi, "Property")}
    assert "SERVERURL" in properties["SecureCustomProperties"].split(";")
    component = next(row for row in table(msi, "Component") if row["Component"] == policy["Component_"])
    assert int(component["Attributes"]) & 256  # 64-bit component: the native registry view


def test_per_machine_x64_with_upgrades_and_shortcut(msi):
    properties = {row["Property"]: row["Value"] for row in table(msi, "Property")}
    assert properties["ALLUSERS"] == "1"
    assert properties["ProductVersion"] == project_version()
    assert properties["UpgradeCode"] == "{D8204E10-76BC-4C06-9F21-E4A39DB90FD8}"
    suminfo = subprocess.run(["msiinfo", "suminfo", str(msi)], capture_output=True, text=True, check=True).stdout
    assert "Template: x64;1033" in suminfo
    assert {row["ActionProperty"] for row in table(msi, "Upgrade")} == {"WIX_UPGRADE_DETECTED", "WIX_DOWNGRADE_DETECTED"}
    shortcut = table(msi, "Shortcut")[0]
    assert shortcut["Target"] == "[INSTALLDIR]cme-offline.exe"
    directories = {row["Directory"]: row for row in table(msi, "Directory")}
    assert directories["INSTALLDIR"]["Directory_Parent"] == "ProgramFiles64Folder"
    files = {row["FileName"].split("|")[-1] for row in table(msi, "File")}
    assert {"cme-offline.exe", "cme-offline-cli.exe", "libvlc.dll"} <= files
