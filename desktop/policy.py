"""Machine policy: settings an IT department fixes for every user of a computer.

Pure Python (no Qt, no network). Read once at start from:

* a TOML file — `/etc/cme-offline/policy.toml` (Linux),
  `%ProgramData%\\CME Offline\\policy.toml` (Windows),
  `/Library/Application Support/CME Offline/policy.toml` (macOS); the environment variable
  `CME_OFFLINE_POLICY_FILE` names another file (tests, IT staging);
* on Windows also the registry key `HKLM\\SOFTWARE\\Policies\\CME Offline` (Group Policy,
  the MSI's `SERVERURL`): value names are the keys below in any case, with or without
  underscores (`ServerUrl`, `server_url`); the registry wins over the file.

Both win over the user's own settings (`settings.json`). A bad file never stops the app:
a syntax error, an unknown key or a value of the wrong type is reported in ONE log line
naming the file and the keys, and each bad value falls back to a safe default (unset,
except `demo_allowed`, which is then false).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any


log = logging.getLogger(__name__)

ENV_POLICY_FILE = "CME_OFFLINE_POLICY_FILE"
REGISTRY_KEY = r"SOFTWARE\Policies\CME Offline"
REGISTRY_PATH = r"HKLM\SOFTWARE\Policies\CME Offline"
MAX_POLICY_BYTES = 256 * 1024

_HOURS = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


# ---------------------------------------------------------------- download hours


@dataclass(frozen=True)
class HoursWindow:
    """A daily local-time window, e.g. 19:00-07:00 (may cross midnight); start == end: all day."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> HoursWindow:
        m = _HOURS.match(text or "")
        if not m:
            raise ValueError(f"download hours must look like 19:00-07:00 (got {text!r})")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        return cls(time(h1, m1), time(h2, m2))

    def contains(self, moment: datetime) -> bool:
        t = moment.time()
        if self.start == self.end:
            return True
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end  # crosses midnight

    def seconds_until_open(self, moment: datetime) -> float:
        """0 inside the window; else seconds until it next opens (local clock)."""
        if self.contains(moment):
            return 0.0
        opens = moment.replace(hour=self.start.hour, minute=self.start.minute, second=0, microsecond=0)
        if opens <= moment:
            opens += timedelta(days=1)
        return (opens - moment).total_seconds()

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


# ---------------------------------------------------------------- the keys

KEYS: tuple[str, ...] = (
    "server_url", "extra_ca_bundle", "proxy", "bandwidth_cap_kbps", "download_hours", "storage_location",
    "shared_content_dir", "demo_allowed", "idle_sign_out_minutes", "server_public_key",
)
_MODEL = None


def _model():
    """The pydantic model of the keys, built on first use (start-up without a policy file
    never imports pydantic before the first paint)."""
    global _MODEL
    if _MODEL is not None:
        return _MODEL
    from pydantic import BaseModel, ConfigDict, Field, field_validator  # start-up speed: pydantic only if a policy sets something

    def _check_url(value: str, what: str) -> str:
        value = value.strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{what} must start with https:// or http://")
        return value.rstrip("/") if what == "server_url" else value

    class PolicyValues(BaseModel):
        """Every key a policy may set; None means "not set by policy"."""

        model_config = ConfigDict(extra="forbid", strict=True)

        server_url: str | None = None
        extra_ca_bundle: str | None = None
        proxy: str | None = None  # explicit proxy URL for every request (PAC files are not read)
        bandwidth_cap_kbps: int | None = Field(default=None, ge=8, le=10_000_000)
        download_hours: str | None = None  # "19:00-07:00", local time
        storage_location: str | None = None  # the per-user data folder (env vars and ~ expanded)
        shared_content_dir: str | None = None  # read-only folder with blobs in ab/<sha256>
        demo_allowed: bool | None = None
        idle_sign_out_minutes: float | None = Field(default=None, gt=0, le=24 * 60)
        server_public_key: str | None = None  # the credit server's Ed25519 key (base64), for packs

        @field_validator("server_url")
        @classmethod
        def _server(cls, v):
            return None if v is None else _check_url(v, "server_url")

        @field_validator("proxy")
        @classmethod
        def _proxy(cls, v):
            if v is None:
                return None
            v = v.strip()
            if not re.match(r"^(https?|socks5h?)://", v):
                raise ValueError("proxy must be a URL such as http://proxy.example.org:8080")
            return v

        @field_validator("download_hours")
        @classmethod
        def _hours(cls, v):
            if v is None:
                return None
            return str(HoursWindow.parse(v))

        @field_validator("server_public_key")
        @classmethod
        def _key(cls, v):
            if v is None:
                return None
            try:
                raw = base64.b64decode(v.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("server_public_key must be the server's key in base64 (GET /api/v1/keys)") from None
            if len(raw) != 32:
                raise ValueError("server_public_key must be a 32-byte Ed25519 key in base64 (GET /api/v1/keys)")
            return v.strip()

        @field_validator("extra_ca_bundle", "storage_location", "shared_content_dir")
        @classmethod
        def _nonempty(cls, v):
            if v is not None and not v.strip():
                raise ValueError("must not be empty")
            return v.strip() if v is not None else None

    assert tuple(PolicyValues.model_fields) == KEYS
    _MODEL = PolicyValues
    return _MODEL


# Keys that are settings a user could otherwise change (shown locked in Settings).
USER_SETTING_KEYS = ("server_url", "extra_ca_bundle", "proxy", "bandwidth_cap_kbps", "download_hours",
                     "shared_content_dir", "demo_allowed", "idle_sign_out_minutes")
# A value that cannot be read falls back to this (None: not set).
SAFE_DEFAULTS: dict[str, Any] = {"demo_allowed": False}


@dataclass(frozen=True)
class Policy:
    values: dict[str, Any] = field(default_factory=dict)  # only the keys the policy sets
    sources: dict[str, str] = field(default_factory=dict)  # key -> file path or registry path
    file: Path | None = None  # the policy file looked for
    problems: tuple[str, ...] = ()

    def get(self, key: str, default: Any = None):
        return self.values.get(key, default)

    def is_set(self, key: str) -> bool:
        return key in self.sources

    def locked(self) -> dict[str, str]:
        """Every key the policy sets -> the reason shown to the user."""
        return {k: locked_reason(src) for k, src in self.sources.items()}

    def download_window(self) -> HoursWindow | None:
        text = self.values.get("download_hours")
        return HoursWindow.parse(text) if text else None

    def storage_dir(self) -> Path | None:
        raw = self.values.get("storage_location")
        return expand_path(raw) if raw else None

    def without(self, *keys: str) -> Policy:
        """The same policy minus some keys (the built-in demo ignores the policy's server)."""
        return Policy({k: v for k, v in self.values.items() if k not in keys},
                      {k: v for k, v in self.sources.items() if k not in keys}, self.file, self.problems)


def locked_reason(source: str) -> str:
    return f"Set by your organisation's policy ({source})"


def expand_path(raw: str) -> Path:
    """`~`, `$VAR`, `${VAR}` and `%VAR%` expanded, so one machine-wide value gives each OS user a folder."""
    text = re.sub(r"%([A-Za-z_][A-Za-z0-9_]*)%", lambda m: os.environ.get(m.group(1), m.group(0)), raw)
    return Path(os.path.expandvars(text)).expanduser()


# ---------------------------------------------------------------- reading


def default_policy_file() -> Path:
    if sys.platform.startswith("win"):
        base = os.environ.get("ProgramData") or r"C:\ProgramData"
        return Path(base) / "CME Offline" / "policy.toml"
    if sys.platform == "darwin":
        return Path("/Library/Application Support/CME Offline/policy.toml")
    return Path("/etc/cme-offline/policy.toml")


def policy_file() -> Path:
    override = os.environ.get(ENV_POLICY_FILE)
    return Path(override).expanduser() if override else default_policy_file()


def load_policy(path: Path | None = None, registry: dict[str, Any] | None = None) -> Policy:
    """Read the policy file and (on Windows) the registry; never raises.

    `registry` replaces the Windows registry (tests); None reads it on Windows only.
    Problems are logged in one line and kept on the Policy (diagnostics).
    """
    path = path if path is not None else policy_file()
    problems: list[str] = []
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    raw = _read_file(path, problems)
    for key, value in raw.items():
        _take(key, value, str(path), values, sources, problems, where=str(path))

    reg = registry if registry is not None else _read_registry(problems)
    for name, value in reg.items():
        key = _registry_key(name)
        if key is None:
            problems.append(f"{REGISTRY_PATH}: unknown value {name!r} (ignored)")
            continue
        if key in ("demo_allowed",) and isinstance(value, int) and not isinstance(value, bool):
            value = bool(value)  # REG_DWORD 0/1
        elif key == "bandwidth_cap_kbps" and isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        elif key == "idle_sign_out_minutes" and isinstance(value, (int, str)) and not isinstance(value, bool):
            try:
                value = float(value)
            except ValueError:
                pass
        elif key == "demo_allowed" and isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
            value = value.strip().lower() in ("1", "true")
        _take(key, value, f"{REGISTRY_PATH}\\{name}", values, sources, problems, where=REGISTRY_PATH)

    _check_storage(values, sources, problems)
    policy = Policy(values, sources, path, tuple(problems))
    if problems:
        log.warning("machine policy: %s", "; ".join(problems))
    if sources:
        log.info("machine policy sets %s", ", ".join(f"{k} ({v})" for k, v in sorted(sources.items())))
    return policy


def _take(key: str, value: Any, source: str, values: dict, sources: dict, problems: list, *, where: str) -> None:
    if key not in KEYS:
        problems.append(f"{where}: unknown key {key!r} (ignored)")
        return
    from pydantic import ValidationError  # start-up speed: as in _model

    try:
        checked = _model().model_validate({key: value})
    except ValidationError as exc:
        msg = exc.errors()[0]["msg"].removeprefix("Value error, ")
        default = SAFE_DEFAULTS.get(key)
        problems.append(f"{where}: {key} = {_short(value)} is not valid ({msg}); using {_short(default) if default is not None else 'no value'}")
        if default is not None:
            values[key] = default
            sources[key] = source
        return
    values[key] = getattr(checked, key)
    sources[key] = source


def _read_file(path: Path, problems: list[str]) -> dict[str, Any]:
    import tomllib  # start-up speed: most machines have no policy file to parse

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        problems.append(f"{path}: cannot be read ({exc.strerror or exc}); no policy from this file")
        return {}
    if len(data) > MAX_POLICY_BYTES:
        problems.append(f"{path}: larger than {MAX_POLICY_BYTES // 1024} KB; no policy from this file")
        return {}
    try:
        doc = tomllib.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        problems.append(f"{path}: is not UTF-8 text; no policy from this file")
        return {}
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path}: is not valid TOML ({exc}); no policy from this file")
        return {}
    return doc


def _registry_key(name: str) -> str | None:
    wanted = name.replace("_", "").replace("-", "").lower()
    for key in KEYS:
        if key.replace("_", "") == wanted:
            return key
    return None


def _read_registry(problems: list[str]) -> dict[str, Any]:
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


def _check_storage(values: dict, sources: dict, problems: list[str]) -> None:
    """The SQLite cache must not live in the shared content folder (nor on a network share)."""
    storage, shared = values.get("storage_location"), values.get("shared_content_dir")
    if not storage:
        return
    if storage.startswith(("\\\\", "//")):
        problems.append(
            f"storage_location {storage!r} is a network share: the cache database needs a local disk "
            "(SQLite's WAL mode does not work on network filesystems); using the default data folder"
        )
        values.pop("storage_location")
        sources.pop("storage_location", None)
        return
    if shared:
        s, c = expand_path(storage).resolve(), expand_path(shared).resolve()
        if s == c or c in s.parents or s in c.parents:
            problems.append(
                "storage_location is inside the shared content folder (or holds it): learners' data "
                "never goes there; using the default data folder"
            )
            values.pop("storage_location")
            sources.pop("storage_location", None)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------- settings overlay


def effective_settings(user_settings, policy: Policy):
    """The user's settings with every policy value laid over them (a new Settings)."""
    updates = {k: policy.get(k) for k in policy.sources if k in type(user_settings).model_fields}
    return user_settings.model_copy(update=updates) if updates else user_settings
