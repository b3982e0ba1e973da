"""Who is studying: signing in and out, the learners signed in on this computer, switching
between them, and signing everyone out (idle sign-out on shared workstations).

Every learner-scoped service asks `current_learner()` / `require_learner()` here, so "who
is current" has one answer. Signing in and out use the network through the connection.
"""

from __future__ import annotations

from desktop.cache.db import Database
from desktop.cache.learners import LearnerInfo, current_learner, signed_in_learners
from desktop.errors import NotSignedIn
from desktop.services.connection import Connection

# Each round of `sign_out_everyone` signs out the current learner and the next becomes
# current; a bound, so a learner who cannot be signed out never loops forever.
MAX_SIGN_OUTS = 1000


class AccountService:
    def __init__(self, db: Database, connection: Connection):
        self.db = db
        self.connection = connection

    def current_learner(self) -> LearnerInfo | None:
        server = self.connection.server_url
        return current_learner(self.db, server) if server else None

    def require_learner(self) -> LearnerInfo:
        """The current learner; NotSignedIn when no one is signed in."""
        learner = self.current_learner()
        if learner is None:
            raise NotSignedIn()
        return learner

    def sign_in(self, username: str, password: str) -> LearnerInfo:
        return self.connection.networked(lambda: self.connection.account().sign_in(username, password))

    def sign_out(self) -> LearnerInfo | None:
        return self.connection.networked(lambda: self.connection.account().sign_out())

    def learners(self) -> list[LearnerInfo]:
        """Learners signed in on this computer for this server (the current one first)."""
        server = self.connection.server_url
        return signed_in_learners(self.db, server) if server else []

    def switch_learner(self, learner_id: str) -> LearnerInfo:
        """Make another signed-in learner current; SignInRequired if their token is no longer kept."""
        return self.connection.account().switch_to(learner_id)

    def sign_out_everyone(self) -> int:
        """Sign out every learner signed in on this computer. Downloaded content stays.
        Returns how many were signed out."""
        n = 0
        for _ in range(MAX_SIGN_OUTS):
            if self.current_learner() is None:
                break
            if self.sign_out() is not None:
                n += 1
        return n
