"""Refresh tokens in the OS keyring, and nowhere else.

Only the refresh token is stored (Windows Credential Manager holds ~2.5 KB a secret);
access tokens live in memory. The backend is this OS's store, or the one named by
`PYTHON_KEYRING_BACKEND` or keyring's own config file, so tests and headless machines can
choose one (`keyring_choice.use_os_keyring`: keyring's order without its discovery).
"""

from __future__ import annotations

import keyring
import keyring.backend
import keyring.errors

from desktop.errors import KeyringUnavailable
from desktop.sync.keyring_choice import use_os_keyring


class TokenVault:
    def __init__(self, server_url: str):
        # One entry per server and username: a shared workstation may hold several.
        self.service = f"CME Offline refresh token @ {server_url}"
        use_os_keyring()

    def store(self, username: str, refresh_token: str) -> None:
        try:
            keyring.set_password(self.service, username, refresh_token)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable() from exc

    def load(self, username: str) -> str | None:
        try:
            return keyring.get_password(self.service, username)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable() from exc

    def delete(self, username: str) -> None:
        try:
            keyring.delete_password(self.service, username)
        except keyring.errors.PasswordDeleteError:
            pass  # already gone
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable() from exc


def ensure_usable_keyring_for_demo() -> bool:
    """For the built-in demo only: fall back to a process-local keyring if the OS has none.

    The demo learner's token is worthless outside this process, so holding it in memory
    is fine; real servers always need the OS keyring. Returns True if the fallback is used.
    """
    probe_service, probe_user = "CME Offline keyring probe", "probe"
    use_os_keyring()  # the OS's store first: the fallback below must not be replaced by it later
    try:
        keyring.set_password(probe_service, probe_user, "x")
        keyring.delete_password(probe_service, probe_user)
        return False
    except keyring.errors.KeyringError:
        keyring.set_keyring(_MemoryKeyring())
        return True


class _MemoryKeyring(keyring.backend.KeyringBackend):
    # Below keyring's "fail" backend (0): every KeyringBackend subclass takes part in
    # keyring's auto-detection, and on a machine with no real keyring a positive priority
    # made this demo-only backend the default (login "succeeded", the token was lost).
    priority = -1

    def __init__(self):
        super().__init__()
        self._secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self._secrets.get((service, username))

    def set_password(self, service, username, password):
        self._secrets[(service, username)] = password

    def delete_password(self, service, username):
        if self._secrets.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)
