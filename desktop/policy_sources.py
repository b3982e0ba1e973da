"""Where machine policy comes from: the TOML file, the Windows registry (Group Policy), and
macOS managed preferences (a configuration profile). Each reader returns raw name -> value
pairs and appends what went wrong to `problems`; none of them ever raises, whatever is in
the file or the registry (`desktop.policy.load_policy` validates the values, one rule for
all three sources).

- TOML: at most MAX_POLICY_BYTES are read (a device or a FIFO is not read at all); a file
  that is not UTF-8, not TOML, or nested deeply enough to exhaust the parser is ignored whole.
- Registry: `HKLM\\SOFTWARE\\Policies\\CME Offline`, the keys the ADMX template
  (packaging/windows/cme-offline.admx) sets; REG_DWORD and REG_SZ are turned into the
  key's type (`coerce_registry_value`).
- macOS: `/Library/Managed Preferences/<bundle id>.plist`, which macOS writes from a
  configuration profile's `com.apple.ManagedClient.preferences` payload (and
  `…/<user>/<bundle id>.plist` for a profile scoped to the user, which wins);
  `CME_OFFLINE_MANAGED_PREFERENCES_DIR` names another folder, for tests only.
"""

from __future__ import annotations

import getpass
import os
import stat
import sys
from pathlib import Path
from typing import Any

MAX_POLICY_BYTES = 256 * 1024
REGISTRY_KEY = r"SOFTWARE\Policies\CME Offline"
REGISTRY_PATH = r"HKLM\SOFTWARE\Policies\CME Offline"
MACOS_BUNDLE_ID = "org.cme-offline.desktop"  # packaging/cme-offline.spec's bundle_identifier
MANAGED_PREFERENCES_DIR = Path("/Library/Managed Preferences")
ENV_MANAGED_PREFERENCES_DIR = "CME_OFFLINE_MANAGED_PREFERENCES_DIR"  # tests only


def read_file(path: Path, problems: list[str]) -> dict[str, Any]:
    """The policy file's top-level table; {} when missing or unusable (with a problem)."""
    data = _read_bounded(path, problems, "policy file")
    if data is None:
        return {}
    import tomllib  # start-up speed: most machines have no policy file to parse

    try:
        doc = tomllib.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        problems.append(f"{path}: is not UTF-8 text; no policy from this file")
        return {}
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path}: is not valid TOML ({exc}); no policy from this file")
        return {}
    except (RecursionError, MemoryError):
        problems.append(f"{path}: is nested too deeply to read; no policy from this file")
        return {}
    return doc


def read_managed_preferences(problems: list[str], folder: Path | None = None) -> tuple[dict[str, Any], str]:
    """The configuration profile's keys and the file they came from ({} and "" when none).

    `folder` replaces /Library/Managed Preferences (tests); None reads it on macOS only, or
    the folder CME_OFFLINE_MANAGED_PREFERENCES_DIR names.
    """
    if folder is None:
        override = os.environ.get(ENV_MANAGED_PREFERENCES_DIR)
        if override:
            folder = Path(override)
        elif sys.platform == "darwin":
            folder = MANAGED_PREFERENCES_DIR
        else:
            return {}, ""
    values: dict[str, Any] = {}
    read_from = []
    for path in (folder / f"{MACOS_BUNDLE_ID}.plist", folder / _user() / f"{MACOS_BUNDLE_ID}.plist"):
        data = _read_bounded(path, problems, "managed preferences")
        if data is None:
            continue
        import plistlib  # start-up speed: macOS only (~1.5 ms with expat elsewhere, before the first paint)

        try:
            doc = plistlib.loads(data)
        except Exception as exc:  # plistlib raises expat's, struct's, binascii's … errors on a damaged file
            problems.append(f"{path}: is not a property list ({type(exc).__name__}); no policy from this file")
            continue
        if not isinstance(doc, dict):
            problems.append(f"{path}: does not hold a dictionary of keys; no policy from this file")
            continue
        values.update(doc)
        read_from.append(str(path))
    return values, read_from[-1] if read_from else ""


def read_registry(problems: list[str]) -> dict[str, Any]:
    """The values under HKLM\\SOFTWARE\\Policies\\CME Offline (Windows; {} elsewhere)."""
    if not sys.platform.startswith("win"):
        return {}
    try:
        import winreg  # optional dependency: Windows only
    except ImportError:
        return {}
    out: dict[str, Any] = {}
    try:
        key = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, REGISTRY_KEY, 0,
                             winreg.KEY_READ | getattr(winreg, "KEY_WOW64_64KEY", 0))
    except FileNotFoundError:
        return {}
    except OSError as exc:
        problems.append(f"{REGISTRY_PATH}: cannot be read ({exc})")
        return {}
    with key:
        i = 0
        while True:
            try:
                name, value, _kind = winreg.EnumValue(key, i)
            except OSError:
                break
            out[name] = value
            i += 1
    return out


def key_named(name: Any, keys: tuple[str, ...]) -> str | None:
    """The policy key a registry value or a profile key names: any case, with or without
    underscores or dashes (`ServerUrl`, `server_url`); None for none."""
    if not isinstance(name, str):
        return None
    wanted = name.replace("_", "").replace("-", "").lower()
    for key in keys:
        if key.replace("_", "") == wanted:
            return key
    return None


def coerce_registry_value(key: str, value: Any) -> Any:
    """A registry value as the key's type: REG_DWORD 0/1 for a boolean, digits in a REG_SZ
    for a number. Anything else is passed on for validation to refuse."""
    if key == "demo_allowed":
        if isinstance(value, int) and not isinstance(value, bool):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
            return value.strip().lower() in ("1", "true")
    elif key == "bandwidth_cap_kbps" and isinstance(value, str) and value.strip().isdigit():
        return int(value)
    elif key == "idle_sign_out_minutes" and isinstance(value, (int, str)) and not isinstance(value, bool):
        try:
            return float(value)
        except (ValueError, OverflowError):
            return value
    return value


def _read_bounded(path: Path, problems: list[str], what: str) -> bytes | None:
    """At most MAX_POLICY_BYTES of a regular file; None (with a problem unless it is simply
    missing) otherwise."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        problems.append(f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc}); no policy from this {what}")
        return None
    if not stat.S_ISREG(info.st_mode):
        problems.append(f"{path}: is not a file; no policy from this {what}")
        return None
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        problems.append(f"{path}: cannot be read ({exc.strerror or exc}); no policy from this {what}")
        return None
    if len(data) > MAX_POLICY_BYTES:
        problems.append(f"{path}: larger than {MAX_POLICY_BYTES // 1024} KB; no policy from this {what}")
        return None
    return data


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment or the password database
        return "-"
