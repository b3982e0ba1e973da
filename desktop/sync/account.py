"""Signing in and out, and handing out a fresh access token to whoever needs one.

Several learners may be signed in on one workstation (each refresh token in the OS
keyring under their username): signing in as another learner makes them current without
signing the first out, and each keeps their own access token here, so the outbox can
deliver every learner's completions with that learner's own token.

Becoming current needs proof of who you are: a password the server accepts (signing in,
or switching/unlocking while online: a fresh token request), or offline the verifier this
computer wrote at that learner's last online sign-in (`sync/verifier.py`). Holding a
learner's refresh token in the keyring is not proof: anyone at the shared keyboard has it.

Who is current is asked on every request that carries the current learner's token (each
download attempt, catalog sync, pack), so it is kept in memory rather than read from SQLite
each time (~0.5 ms). It is forgotten the moment this Account changes who is current (sign-in,
sign-out, switch, lock) or a refresh token is refused, and it is only used while the cache
file's `data_version` is the one it was read at: any commit elsewhere (another process's
sign-in, the CLI beside the GUI) makes the next request read it again. So a request never
carries a learner's token after another became current.
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
    lock_all,
    make_current,
    mark_signed_out,
    proofs_held_until,
    record_failed_proof,
    save_signed_in,
    signed_in_learners,
)
from desktop.cache.server_state import save_signing_key
from desktop.sync.api import CreditServerApi
from desktop.sync.credentials import TokenVault
from desktop.sync.verifier import VerifierVault, hold_after
from desktop.errors import (
    AccessExpired,
    CannotCheckOffline,
    NotSignedIn,
    ReplyBrokenOff,
    ServerUnreachable,
    SessionLocked,
    SignInRequired,
    TooManySignIns,
    WrongCredentials,
    WrongPassword,
)

T = TypeVar("T")

# Refresh a little before the server's expiry so a long request never carries a dead token.
EXPIRY_MARGIN_S = 30

NOT_HERE = "That learner is not signed in on this computer any more. Sign in with their username and password."


def utcnow() -> datetime:
    """Naive UTC, as the cache stores times."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Account:
    def __init__(self, db: Database, api: CreditServerApi, vault: TokenVault, server_url: str, device_name: str):
        self.db = db
        self.api = api
        self.vault = vault
        self.verifiers = VerifierVault(server_url)
        self.server_url = server_url
        self.device_name = device_name
        self._lock = threading.Lock()
        self._access: dict[str, tuple[str, float]] = {}  # learner id -> (token, monotonic expiry)
        # The current learner as last read: (cache data_version then, id, username); None: read it.
        self._current: tuple[int, str, str] | None = None
        self._changes = 0  # bumped each time this Account changes who is current (a read under way may not keep its answer)

    def sign_in(self, username: str, password: str) -> LearnerInfo:
        """Sign in with the server; the learner becomes current and every other is locked."""
        reply = self.api.token(username, password, self.device_name)
        if not reply.refresh_token:
            raise SignInRequired("The server did not issue a sign-in that can be kept. Tell your provider.")
        self.vault.store(reply.learner.username, reply.refresh_token)
        # The offline check for switching back to this learner later (never the password).
        self.verifiers.store(reply.learner.username, password)
        learner = save_signed_in(self.db, reply.learner, self.server_url, utcnow())
        self._forget_current()
        if reply.server_public_key:
            # The key that signs certificate credentials, for verifying them offline later.
            save_signing_key(self.db, self.server_url, reply.key_id, reply.server_public_key)
        with self._lock:
            self._access[learner.id] = (reply.access_token, time.monotonic() + reply.expires_in)
        return learner

    def sign_out(self, learner_id: str | None = None) -> LearnerInfo | None:
        """Forget the current learner's (or `learner_id`'s) token and offline check here and,
        if reachable, the token on the server. Nobody else becomes current."""
        learner = current_learner(self.db, self.server_url) if learner_id is None else self._learner_ids(learner_id)
        if learner is None:
            return None
        refresh = self.vault.load(learner.username)
        if refresh:
            try:
                self.api.revoke(refresh)
            except (ServerUnreachable, ReplyBrokenOff):
                pass  # offline (or a reply cut short) sign-out still removes the token from this machine
        self.vault.delete(learner.username)
        self.verifiers.delete(learner.username)
        mark_signed_out(self.db, learner.id)
        self._forget_current()
        with self._lock:
            self._access.pop(learner.id, None)
        return learner

    def switch_to(self, learner_id: str, password: str) -> LearnerInfo:
        """Make a learner signed in on this computer current, on proof of their password:
        the server's (a fresh token request) when it can be reached, else the offline check.
        Refused with WrongCredentials (the server's no) or WrongPassword (the offline check's),
        CannotCheckOffline, TooManySignIns, or SignInRequired (their token is no longer kept)."""
        row = self._learner_ids(learner_id)
        if row is None or not row.signed_in:
            raise SignInRequired(NOT_HERE)
        if not password:
            raise WrongPassword()
        try:
            reply = self.api.token(row.username, password, self.device_name)
        except (ServerUnreachable, ReplyBrokenOff):  # no whole answer: the password is checked here
            return self._switch_offline(row, password)
        if reply.learner.id != learner_id:
            raise WrongCredentials()  # the server's account under that name is someone else now
        with self._lock:
            self._access[learner_id] = (reply.access_token, time.monotonic() + reply.expires_in)
        if reply.refresh_token:
            self.vault.store(row.username, reply.refresh_token)
        self.verifiers.store(row.username, password)
        learner = save_signed_in(self.db, reply.learner, self.server_url, utcnow())
        self._forget_current()
        return learner

    def _switch_offline(self, row: LearnerIds, password: str) -> LearnerInfo:
        held = proofs_held_until(self.db, row.id)
        if held is not None and utcnow() < held:
            raise TooManySignIns("Too many wrong passwords for this learner on this computer. Wait a few "
                                 "minutes, or connect to the network and try again.")
        verdict = self.verifiers.check(row.username, password)
        if verdict is None:
            raise CannotCheckOffline()
        if not verdict:
            record_failed_proof(self.db, row.id, utcnow(), hold_after)
            raise WrongPassword()
        if not self.vault.load(row.username):
            raise SignInRequired(NOT_HERE)  # online, the password alone would sign them in again
        learner = make_current(self.db, row.id, utcnow())
        self._forget_current()
        return learner

    def lock(self) -> None:
        """Nobody is current until someone proves who they are; tokens stay, so claims already
        written still reach the server."""
        lock_all(self.db, self.server_url)
        self._forget_current()

    def _learner_ids(self, learner_id: str) -> LearnerIds | None:
        row = learner_ids(self.db, learner_id)
        return row if row is not None and row.server_url == self.server_url else None

    def learner(self) -> LearnerInfo | None:
        return current_learner(self.db, self.server_url)

    def _current_ids(self) -> tuple[str, str]:
        """The current learner's (id, username): as held while the cache file has not changed
        since it was read (module docstring), else read again. SessionLocked / NotSignedIn."""
        version = self.db.data_version()
        with self._lock:
            held, changes = self._current, self._changes
        if held is not None and held[0] == version:
            return held[1], held[2]
        learner = self.learner()
        if learner is None:
            raise SessionLocked() if signed_in_learners(self.db, self.server_url) else NotSignedIn()
        with self._lock:
            if self._changes == changes:  # no switch meanwhile: what was read is still the answer
                self._current = (version, learner.id, learner.username)
        return learner.id, learner.username

    def _forget_current(self) -> None:
        """Who is current changed here: the next request reads it again."""
        with self._lock:
            self._current = None
            self._changes += 1

    def access_token(self, learner_id: str | None = None) -> str:
        """A valid access token for the current learner (or for `learner_id`, any learner
        signed in on this server), refreshing it if needed."""
        if learner_id is None:
            learner_id, username = self._current_ids()
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
                self._current, self._changes = None, self._changes + 1  # _forget_current, the lock being held
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
