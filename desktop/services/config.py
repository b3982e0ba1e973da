"""Settings as they apply on this computer: the user's `settings.json` with the machine policy
laid over it, and the credit server's address.

Named `config` (`services.config`, after `desktop/config.py` whose `Settings` it manages)
because `services.settings` already names the effective `Settings` values that views and
services read everywhere (`services.settings.extra_ca_bundle`).

Policy wins: a setting the policy fixes is locked, and changing it raises SettingLocked.
A change is saved at once, then announced to `on_change` (the connection rebuilds its HTTP
client, the download queue takes a new bandwidth cap).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from cmecore.renditions import RANK, Quality
from desktop import disk
from desktop.ca_bundle import ca_bundle_problem
from desktop.config import Paths, Settings, normalise_server_url, save_settings, validated_settings
from desktop.errors import BadSetting, SettingLocked
from desktop.logs import redact
from desktop.policy import Policy, effective_settings, expand_path

log = logging.getLogger(__name__)


class ConfigService:
    def __init__(self, paths: Paths, policy: Policy, user_settings: Settings, server_url: str | None = None):
        """`server_url`: the one asked for (--server); the policy's wins, then the one saved.
        Raises BadServerAddress for an address that is not http(s)."""
        self.paths = paths
        self.policy = policy
        self.user_settings = user_settings  # what the user chose
        self.settings = effective_settings(user_settings, policy)  # what applies
        if policy.is_set("server_url"):
            if server_url and normalise_server_url(server_url) != policy.get("server_url"):
                log.warning("server %s not used: the machine policy sets %s", redact(server_url), policy.get("server_url"))
            server_url = policy.get("server_url")
        url = server_url or self.settings.server_url
        self.server_url = normalise_server_url(url) if url else None
        # Told the names of the settings that changed ("server_url" among them), after saving.
        self.on_change: list[Callable[[set[str]], None]] = []

    def locked_settings(self) -> dict[str, str]:
        """Settings the machine policy sets: name -> why it cannot change ("Set by your organisation's policy (file)")."""
        return self.policy.locked()

    def file_exists(self, path: str) -> bool:
        """Whether a file the user named in Settings (a CA bundle) is there."""
        return disk.is_file(path)

    def shared_content_dir(self) -> Path | None:
        """The read-only shared content folder (policy or settings), looked in before any download."""
        raw = self.settings.shared_content_dir
        return expand_path(raw) if raw else None

    def download_quality(self) -> Quality:
        """The form of each video to download: the learner's choice, else the policy's default,
        else Best; never above the policy's maximum."""
        chosen = self.settings.download_quality or _quality(self.policy.get("default_download_quality")) or Quality.best
        maximum = self.quality_maximum()
        return maximum if maximum is not None and RANK[chosen] < RANK[maximum] else chosen

    def quality_maximum(self) -> Quality | None:
        """The largest form the machine policy allows (None: no maximum); larger ones are hidden."""
        return _quality(self.policy.get("max_download_quality"))

    def set_server_url(self, url: str) -> None:
        """Use and remember another credit server. BadServerAddress, or SettingLocked when the policy sets it."""
        url = normalise_server_url(url)
        locked = self.locked_settings()
        if "server_url" in locked:
            if url == self.server_url:
                return
            raise SettingLocked("server_url", locked["server_url"])
        self.server_url = url
        self._save(self.user_settings.model_copy(update={"server_url": url}), {"server_url"})

    def update_settings(self, **changes) -> Settings:
        """Validate, apply and save other settings (the server: `set_server_url`).

        Raises BadSetting for a value out of range or in the wrong form (a CA bundle that is not
        a PEM file), CleartextRefused/CredentialsInAddress for a proxy address with a password
        in it, SettingLocked for a change to a setting the policy fixes (all ConfigErrors).
        Returns the effective settings.
        """
        changes.pop("server_url", None)
        locked = self.locked_settings()
        for name in [k for k in changes if k in locked]:
            if changes[name] != getattr(self.settings, name, None):
                raise SettingLocked(name, locked[name])
            del changes[name]  # unchanged: nothing to refuse, nothing to save
        ca = changes.get("extra_ca_bundle")
        if ca and ca != self.user_settings.extra_ca_bundle and (problem := ca_bundle_problem(ca)):
            raise BadSetting(f"The CA bundle setting is not usable: {problem}.")
        self._save(validated_settings({**self.user_settings.model_dump(), **changes}), set(changes))
        return self.settings

    def _save(self, user_settings: Settings, changed: set[str]) -> None:
        save_settings(self.paths.settings, user_settings)
        self.user_settings = user_settings
        self.settings = effective_settings(user_settings, self.policy)
        for listener in list(self.on_change):
            listener(changed)


def _quality(value: str | None) -> Quality | None:
    return Quality(value) if value else None
