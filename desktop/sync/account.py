"""Signing in and out, and handing out a fresh access token to whoever needs one.

Several learners may be signed in on one workstation (each refresh token in the OS
keyring under their username): signing in as another learner makes them current without
signing the first out, and each keeps their own access token here, so the outbox can
deliver every learner's completions with that learner's own token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar
from datetime import datetime, timezone

from desktop.cache.db import Database
from desktop.cache.learners import (
    LearnerIds,
    LearnerInfo,
    current_learner,
    learner_ids,
    make_current,
    mark_signed_out,
    save_signed_in,
)
from desktop.cache.server_state import save_signing_key
from desktop.sync.api import CreditServerApi
from desktop.sync.credentials import TokenVault
from desktop.errors import AccessExpired, NotSignedIn, ServerUnreachable, SignInRequired

T = TypeVar("T")

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
        self._access: dict[str, tuple[str, float]] = {}  # learner id -> (token, monotonic expiry)

    def sign_in(self, username: str, password: str) -> LearnerInfo:
        reply = self.api.token(username, password, self.device_name)
        if not reply.refresh_token:
            raise SignInRequired("The server did not issue a sign-in that can be kept. Tell your provider.")
        self.vault.store(reply.learner.username, reply.refresh_token)
        learner = save_signed_in(self.db, reply.learner, self.server_url, utcnow())
        if reply.server_public_key:
            # The key that signs certificate credentials, for verifying them offline later.
            save_signing_key(self.db, self.server_url, reply.key_id, reply.server_public_key)
        with self._lock:
            self._access[learner.id] = (reply.access_token, time.monotonic() + reply.expires_in)
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
            self._access.pop(learner.id, None)
        return learner

    def switch_to(self, learner_id: str) -> LearnerInfo:
        """Make a learner signed in earlier on this server current again (their token must be in the keyring)."""
        row = self._learner_ids(learner_id)
        if row is None or not self.vault.load(row.username):
            raise SignInRequired(
                "That learner is not signed in on this computer any more. Sign in with their username and password."
            )
        return make_current(self.db, learner_id, utcnow())

    def _learner_ids(self, learner_id: str) -> LearnerIds | None:
        row = learner_ids(self.db, learner_id)
        return row if row is not None and row.server_url == self.server_url else None

    def learner(self) -> LearnerInfo | None:
        return current_learner(self.db, self.server_url)

    def access_token(self, learner_id: str | None = None) -> str:
        """A valid access token for the current learner (or for `learner_id`, any learner
        signed in on this server), refreshing it if needed."""
        if learner_id is None:
            learner = self.learner()
            if learner is None:
                raise NotSignedIn()
            learner_id, username = learner.id, learner.username
        else:
            row = self._learner_ids(learner_id)
            if row is None or not row.signed_in:
                raise SignInRequired("This learner has signed out on this computer; they need to sign in again.")
            username = row.username
        with self._lock:
            held = self._access.get(learner_id)
            if held and held[1] - EXPIRY_MARGIN_S > time.monotonic():
                return held[0]
            refresh = self.vault.load(username)
            if not refresh:
                raise SignInRequired()
            try:
                reply = self.api.refresh(refresh)
            except SignInRequired:
                # The server no longer honours it: drop the dead token, keep every cached row.
                self.vault.delete(username)
                raise
            self._access[learner_id] = (reply.access_token, time.monotonic() + reply.expires_in)
            return reply.access_token

    def authorized(self, call: Callable[[str], T], learner_id: str | None = None) -> T:
        """`call(access_token)` for the current learner (or `learner_id`); if the server says
        the token has expired (`AccessExpired`), drop it and call once more with a fresh one.
        The one place that refreshes on 401."""
        try:
            return call(self.access_token(learner_id))
        except AccessExpired:
            self.forget_access_token(learner_id)
            return call(self.access_token(learner_id))

    def forget_access_token(self, learner_id: str | None = None) -> None:
        """Drop a held access token (None: every learner's), e.g. after the server said it expired."""
        with self._lock:
            if learner_id is None:
                self._access.clear()
            else:
                self._access.pop(learner_id, None)
