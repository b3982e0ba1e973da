"""Refresh tokens in the OS keyring, and nowhere else.

Only the refresh token is stored (Windows Credential Manager holds ~2.5 KB a secret);
access tokens live in memory. keyring picks the backend, honouring
`PYTHON_KEYRING_BACKEND`, so tests and headless machines can choose one.
"""

from __future__ import annotations

import keyring
import keyring.errors

from desktop.sync.errors import KeyringUnavailable


class TokenVault:
    def __init__(self, server_url: str):
        # One entry per server and username: a shared workstation may hold several.
        self.service = f"CME Offline refresh token @ {server_url}"

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
