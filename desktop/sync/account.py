"""Signing in and out, and handing out a fresh access token to whoever needs one."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

from desktop.cache.db import Database
from desktop.cache.learners import LearnerInfo, current_learner, mark_signed_out, save_signed_in
from desktop.sync.api import CreditServerApi
from desktop.sync.credentials import TokenVault
from desktop.sync.errors import NotSignedIn, ServerUnreachable, SignInRequired

# Refresh a little before the server's expiry so a long request never carries a dead token.
EXPIRY_MARGIN_S = 30


def utcnow() -> datetime:
    """Naive UTC, as the cache stores times."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Account:
    def __init__(self, db: Database, api: CreditServerApi, vault: TokenVault, server_url: str, device_name: str):
        self.db = db
        self.api = api
        self.vault = vault
        self.server_url = server_url
        self.device_name = device_name
        self._lock = threading.Lock()
        self._access: tuple[str, str, float] | None = None  # learner id, token, monotonic expiry

    def sign_in(self, username: str, password: str) -> LearnerInfo:
        reply = self.api.token(username, password, self.device_name)
        if not reply.refresh_token:
            raise SignInRequired("The server did not issue a sign-in that can be kept. Tell your provider.")
        self.vault.store(reply.learner.username, reply.refresh_token)
        learner = save_signed_in(self.db, reply.learner, self.server_url, utcnow())
        with self._lock:
            self._access = (learner.id, reply.access_token, time.monotonic() + reply.expires_in)
        return learner

    def sign_out(self) -> LearnerInfo | None:
        """Forget the current learner's token here and, if reachable, on the server."""
        learner = current_learner(self.db, self.server_url)
        if learner is None:
            return None
        refresh = self.vault.load(learner.username)
        if refresh:
            try:
                self.api.revoke(refresh)
            except ServerUnreachable:
                pass  # offline sign-out still removes the token from this machine
        self.vault.delete(learner.username)
        mark_signed_out(self.db, learner.id)
        with self._lock:
            self._access = None
        return learner

    def learner(self) -> LearnerInfo | None:
        return current_learner(self.db, self.server_url)

    def access_token(self) -> str:
        """A valid access token for the current learner, refreshing it if needed."""
        learner = self.learner()
        if learner is None:
            raise NotSignedIn()
        with self._lock:
            if self._access and self._access[0] == learner.id and self._access[2] - EXPIRY_MARGIN_S > time.monotonic():
                return self._access[1]
            refresh = self.vault.load(learner.username)
            if not refresh:
                raise SignInRequired()
            try:
                reply = self.api.refresh(refresh)
            except SignInRequired:
                # The server no longer honours it: drop the dead token, keep every cached row.
                self.vault.delete(learner.username)
                raise
            self._access = (learner.id, reply.access_token, time.monotonic() + reply.expires_in)
            return reply.access_token

    def forget_access_token(self) -> None:
        with self._lock:
            self._access = None
