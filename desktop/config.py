"""Where things live on disk, and the user's settings.

One data dir per OS user (platformdirs), overridable with `--data-dir` (tests, IT). It
holds the SQLite cache, the blob store, `settings.json` and logs. Nothing secret is ever
written here: tokens live in the OS keyring.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cmecore.renditions import Quality
from desktop.addresses import check_proxy_address, check_server_address
from desktop.errors import BadSetting, CmeError, ConfigError
from desktop.logs import redact
from desktop.paths import APP_NAME, Paths, default_data_dir  # noqa: F401 (re-exported)
from desktop.policy import HoursWindow

log = logging.getLogger(__name__)


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    server_url: str | None = None
    extra_ca_bundle: str | None = None  # PEM file added to the OS trust store (corporate CA)
    sync_interval_minutes: int = Field(default=15, ge=1, le=24 * 60)
    max_catalog_mb: int = Field(default=64, ge=1, le=1024)
    # Downloads: a cap in kilobits per second over all transfers together (None: no cap),
    # and how many files are fetched at once.
    bandwidth_cap_kbps: int | None = Field(default=None, ge=8, le=10_000_000)
    parallel_downloads: int = Field(default=2, ge=1, le=8)
    first_run_done: bool = False
    # The form of each video to download (cmecore.renditions.Quality; None: the machine
    # policy's default, else Best), and whether to ask before each download.
    download_quality: Quality | None = None
    ask_quality: bool = False
    # Also settable by machine policy (desktop/policy.py), which then wins and locks them.
    proxy: str | None = None  # explicit proxy URL (else the environment / OS settings)
    download_hours: str | None = None  # "19:00-07:00": downloads run only in this local window
    shared_content_dir: str | None = None  # read-only folder of blobs (ab/<sha256>) looked in first
    demo_allowed: bool = True
    idle_sign_out_minutes: float | None = Field(default=None, gt=0, le=24 * 60)

    @field_validator("download_hours")
    @classmethod
    def _hours(cls, v):
        return str(HoursWindow.parse(v)) if v else None

    @field_validator("proxy", "shared_content_dir", "extra_ca_bundle")
    @classmethod
    def _blank_is_none(cls, v):
        return v.strip() or None if isinstance(v, str) else v

    @field_validator("server_url", "proxy")
    @classmethod
    def _address(cls, v, info):
        """The same rule as policy and --server (desktop.addresses); the typed error rides
        along as the cause, for `validated_settings` to raise."""
        if not v:
            return None
        check = check_server_address if info.field_name == "server_url" else check_proxy_address
        try:
            return check(v)
        except ConfigError as exc:
            raise ValueError(str(exc)) from exc


def validated_settings(values: dict) -> Settings:
    """Settings from these values; BadSetting (a ConfigError) names the first one not usable."""
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        cause = getattr(first.get("ctx", {}).get("error"), "__cause__", None)
        if isinstance(cause, CmeError):  # an address refused by desktop.addresses: keep its code
            raise cause from None
        name = ".".join(str(part) for part in first["loc"]).replace("_", " ")
        why = first["msg"].removeprefix("Value error, ")
        raise BadSetting(f"The {name} setting is not usable: {why[:1].lower()}{why[1:]}.") from None


def load_settings(path: Path) -> Settings:
    """Settings from `path`; a missing or unreadable file gives defaults and a log line, and a
    value no longer accepted (an http:// server written by an older version) its default."""
    try:
        values = json.loads(path.read_bytes())
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as exc:
        log.warning("settings file %s is unreadable (%s); using defaults", path, exc)
        return Settings()
    if not isinstance(values, dict):
        log.warning("settings file %s does not hold settings; using defaults", path)
        return Settings()
    dropped: list[str] = []
    while True:
        try:
            settings = Settings.model_validate(values)
            break
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]} & values.keys()
            if not bad:
                return Settings()
            dropped += [f"{name} ({redact(e['msg'])})" for e in exc.errors() if (name := str(e["loc"][0])) in bad]
            values = {k: v for k, v in values.items() if k not in bad}
    if dropped:
        log.warning("settings file %s: not usable, using the default instead: %s", path, "; ".join(dropped))
    return settings


def save_settings(path: Path, settings: Settings) -> None:
    """Write atomically so a crash mid-write never leaves half a settings file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(settings.model_dump(), fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def normalise_server_url(url: str) -> str:
    """`https://cme.example.org/` and `https://cme.example.org` name one server.

    Raises BadServerAddress (a ConfigError) for anything that is not http(s), for `http://`
    to another computer (CleartextRefused) and for a user name or password in it
    (CredentialsInAddress): `desktop.addresses.check_server_address`.
    """
    return check_server_address(url)
