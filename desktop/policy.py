"""Machine policy: settings an IT department fixes for every user of a computer.

Pure Python (no Qt, no network). Read once at start from:

* a TOML file — `/etc/cme-offline/policy.toml` (Linux),
  `%ProgramData%\\CME Offline\\policy.toml` (Windows),
  `/Library/Application Support/CME Offline/policy.toml` (macOS); the environment variable
  `CME_OFFLINE_POLICY_FILE` names another file (tests, IT staging);
* on Windows also the registry key `HKLM\\SOFTWARE\\Policies\\CME Offline` (Group Policy,
  the MSI's `SERVERURL`): value names are the keys below in any case, with or without
  underscores (`ServerUrl`, `server_url`); the registry wins over the file. The ADMX/ADML
  in packaging/windows/ set these values (a test checks them against KEYS);
* on macOS also the managed preferences a configuration profile installs
  (`/Library/Managed Preferences/org.cme-offline.desktop.plist`), which win over the file.

The readers are in `desktop/policy_sources.py`; every value, whatever its source, is
checked here by one model. All win over the user's own settings (`settings.json`). A bad
policy never stops the app: a syntax error, a file too large or nested too deeply, an
unknown key or a value of the wrong type (a CA bundle that is missing or not PEM, an
`http://` server that is not this computer, an address with a password) is reported in ONE
log line naming the file and the keys, kept on `Policy.problems` (Settings, diagnostics),
and each bad value falls back to a safe default (unset, except `demo_allowed`, which is
then false).
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
from typing import Any, Literal

from desktop.addresses import check_proxy_address, check_server_address
from desktop.ca_bundle import ca_bundle_problem
from desktop.errors import ConfigError
from desktop.logs import redact
from desktop.policy_sources import (  # noqa: F401 (MAX_POLICY_BYTES, REGISTRY_KEY: re-exported)
    MAX_POLICY_BYTES, REGISTRY_KEY, REGISTRY_PATH, coerce_registry_value, key_named, read_file,
    read_managed_preferences, read_registry,
)


log = logging.getLogger(__name__)

ENV_POLICY_FILE = "CME_OFFLINE_POLICY_FILE"
MAX_PATH_CHARS = 4096

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
    "default_download_quality", "max_download_quality",
)
# The download qualities a policy may name (cmecore.renditions.Quality's values; importing
# it here would load pydantic at start-up, and a test checks they agree).
QUALITY_VALUES = ("best", "small", "audio")
_MODEL = None


def _model():
    """The pydantic model of the keys, built on first use (start-up without a policy file
    never imports pydantic before the first paint)."""
    global _MODEL
    if _MODEL is not None:
        return _MODEL
    from pydantic import BaseModel, ConfigDict, Field, field_validator  # start-up speed: pydantic only if a policy sets something

    def _address(check, value: str) -> str:
        """desktop.addresses' rule (https, or http:// on this computer; no password inside)."""
        try:
            return check(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

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
        # Downloads: the form of each video fetched unless the learner chooses another (not
        # locking), and the largest form allowed (larger ones are hidden everywhere).
        default_download_quality: Literal["best", "small", "audio"] | None = None
        max_download_quality: Literal["best", "small", "audio"] | None = None

        @field_validator("server_url")
        @classmethod
        def _server(cls, v):
            return None if v is None else _address(check_server_address, v)

        @field_validator("proxy")
        @classmethod
        def _proxy(cls, v):
            return None if v is None else _address(check_proxy_address, v)

        @field_validator("download_hours")
        @classmethod
        def _hours(cls, v):
            if v is None:
                return None
            return str(HoursWindow.parse(v))

        @field_validator("default_download_quality", "max_download_quality", mode="before")
        @classmethod
        def _quality(cls, v):
            if isinstance(v, str) and v.strip().lower() in QUALITY_VALUES:
                return v.strip().lower()  # "Small" as a person writes it
            if v is not None:
                raise ValueError(f"must be one of {', '.join(QUALITY_VALUES)}")
            return v

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
            if v is not None and ("\0" in v or len(v) > MAX_PATH_CHARS):
                raise ValueError(f"must be a folder or file path (no NUL character, at most {MAX_PATH_CHARS} characters)")
            return v.strip() if v is not None else None

        @field_validator("extra_ca_bundle", mode="after")
        @classmethod
        def _ca_bundle(cls, v):
            problem = ca_bundle_problem(v) if v is not None else None
            if problem:
                raise ValueError(problem)
            return v

    assert tuple(PolicyValues.model_fields) == KEYS
    _MODEL = PolicyValues
    return _MODEL


# Keys that are settings a user could otherwise change (shown locked in Settings).
USER_SETTING_KEYS = ("server_url", "extra_ca_bundle", "proxy", "bandwidth_cap_kbps", "download_hours",
                     "shared_content_dir", "demo_allowed", "idle_sign_out_minutes")
# Keys that give a default the learner may change: the setting is not locked.
NOT_LOCKING = ("default_download_quality",)
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
        """Every key the policy sets -> the reason shown to the user (a default the learner may
        change, `default_download_quality`, locks nothing)."""
        return {k: locked_reason(src) for k, src in self.sources.items() if k not in NOT_LOCKING}

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


def load_policy(path: Path | None = None, registry: dict[str, Any] | None = None,
                managed_preferences: Path | None = None) -> Policy:
    """Read the policy file, the Windows registry and the macOS managed preferences; never raises.

    `registry` replaces the Windows registry (tests); None reads it on Windows only.
    `managed_preferences` replaces /Library/Managed Preferences (tests; see policy_sources).
    Problems are logged in one line and kept on the Policy (diagnostics, Settings).
    """
    path = path if path is not None else policy_file()
    problems: list[str] = []
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    try:
        _read_all(path, registry, managed_preferences, values, sources, problems)
    except Exception as exc:  # a case no reader foresaw: no policy rather than no app
        log.debug("machine policy could not be read", exc_info=True)  # the one warning line follows
        values.clear()
        sources.clear()
        problems.append(f"the machine policy could not be read ({type(exc).__name__}); no policy is applied")
    policy = Policy(values, sources, path, tuple(problems))
    if problems:
        log.warning("machine policy: %s", "; ".join(problems))
    if sources:
        log.info("machine policy sets %s", ", ".join(f"{k} ({v})" for k, v in sorted(sources.items())))
    return policy


def _read_all(path: Path, registry: dict[str, Any] | None, managed_preferences: Path | None,
              values: dict, sources: dict, problems: list[str]) -> None:
    """The file, then the registry and managed preferences over it (they win)."""
    raw = read_file(path, problems)
    for key, value in raw.items():
        _take(key, value, str(path), values, sources, problems, where=str(path))

    reg = registry if registry is not None else read_registry(problems)
    for name, value in reg.items():
        key = key_named(name, KEYS)
        if key is None:
            problems.append(f"{REGISTRY_PATH}: unknown value {_short(name)} (ignored)")
            continue
        _take(key, coerce_registry_value(key, value), f"{REGISTRY_PATH}\\{name}", values, sources, problems,
              where=REGISTRY_PATH)

    profile, plist = read_managed_preferences(problems, managed_preferences)
    for name, value in profile.items():
        key = key_named(name, KEYS)
        if key is None:
            if not str(name).startswith("Payload"):  # a profile's own bookkeeping keys
                problems.append(f"{plist}: unknown key {_short(name)} (ignored)")
            continue
        _take(key, value, f"{plist} ({name})", values, sources, problems, where=plist)

    _check_storage(values, sources, problems)


def _take(key: str, value: Any, source: str, values: dict, sources: dict, problems: list, *, where: str) -> None:
    if key not in KEYS:
        problems.append(f"{where}: unknown key {_short(key)} (ignored)")
        return
    from pydantic import ValidationError  # start-up speed: as in _model

    try:
        checked = _model().model_validate({key: value})
    except ValidationError as exc:
        msg = exc.errors()[0]["msg"].removeprefix("Value error, ")
        default = SAFE_DEFAULTS.get(key)
        problems.append(f"{where}: {key} = {_short(value)} is not valid ({redact(msg)}); "
                        f"using {_short(default) if default is not None else 'no value'}")
        if default is not None:
            values[key] = default
            sources[key] = source
        return
    values[key] = getattr(checked, key)
    sources[key] = source


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
    """A value as a problem line quotes it: cut to 60 characters, an address's password hidden."""
    try:
        text = redact(repr(value))
    except RecursionError:  # a list nested thousands deep
        return "(a deeply nested value)"
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------- settings overlay


def effective_settings(user_settings, policy: Policy):
    """The user's settings with every policy value laid over them (a new Settings)."""
    updates = {k: policy.get(k) for k in policy.sources if k in type(user_settings).model_fields}
    return user_settings.model_copy(update=updates) if updates else user_settings
