"""Who is studying: signing in and out, the learners signed in on this computer, switching
between them with proof of who you are, locking (idle time on shared workstations), and
signing everyone out.

Every learner-scoped service asks `current_learner()` / `require_learner()` here, so "who
is current" has one answer, and that answer is always someone who proved who they are on
this computer in this session: signed in, or gave their password to switch or unlock
(`sync/account.py`). While locked there is no current learner and nothing learner-scoped
(records, certificates, claims) can be read or written, in the GUI or the CLI.
Signing in, switching and signing out use the network through the connection.
"""

from __future__ import annotations

from desktop.cache.db import Database
from desktop.cache.learners import LearnerInfo, current_learner, signed_in_learners
from desktop.errors import NotSignedIn, SessionLocked
from desktop.services.connection import Connection

class AccountService:
    def __init__(self, db: Database, connection: Connection):
        self.db = db
        self.connection = connection

    def current_learner(self) -> LearnerInfo | None:
        server = self.connection.server_url
        return current_learner(self.db, server) if server else None

    def require_learner(self) -> LearnerInfo:
        """The current learner; SessionLocked while learners are signed in but locked,
        NotSignedIn when no one is signed in."""
        learner = self.current_learner()
        if learner is None:
            raise SessionLocked() if self.learners() else NotSignedIn()
        return learner

    def locked(self) -> bool:
        """Learners are signed in on this computer, but none has proved who they are since the lock."""
        return self.current_learner() is None and bool(self.learners())

    def sign_in(self, username: str, password: str) -> LearnerInfo:
        return self.connection.networked(lambda: self.connection.account().sign_in(username, password))

    def sign_out(self) -> LearnerInfo | None:
        return self.connection.networked(lambda: self.connection.account().sign_out())

    def learners(self) -> list[LearnerInfo]:
        """Learners signed in on this computer for this server (the current one, if any, first)."""
        server = self.connection.server_url
        return signed_in_learners(self.db, server) if server else []

    def switch_learner(self, learner_id: str, password: str) -> LearnerInfo:
        """Make another signed-in learner current on proof of their password (checked by the
        server when online, by this computer's offline check when not). Refused with an
        AuthError (WrongCredentials, WrongPassword, CannotCheckOffline, TooManySignIns,
        SignInRequired); then nothing changes. Also how a learner unlocks after the idle lock."""
        return self.connection.networked(lambda: self.connection.account().switch_to(learner_id, password))

    def lock(self) -> None:
        """Lock: nobody is current until someone proves who they are (no network)."""
        if self.connection.server_url:
            self.connection.account().lock()

    def sign_out_everyone(self) -> int:
        """Sign out every learner signed in on this computer. Downloaded content stays, and so
        do their waiting claims (sent when each signs in again). Returns how many were signed out."""
        account = self.connection.account() if self.connection.server_url else None
        if account is None:
            return 0
        return sum(
            1 for learner in self.learners()
            if self.connection.networked(lambda lid=learner.id: account.sign_out(lid)) is not None
        )
