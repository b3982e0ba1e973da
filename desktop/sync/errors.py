"""What can go wrong talking to the credit server, in words a clinician can act on.

Every error carries `message`: one plain sentence saying what happened and what to do.
The GUI shows it inline, the CLI prints it as its one-line reason.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base of every failure the sync layer reports; `str(err)` is the user message."""

    message = "Something went wrong talking to the credit server."

    def __init__(self, message: str | None = None):
        if message:
            self.message = message
        super().__init__(self.message)


class ServerUnreachable(SyncError):
    message = (
        "The credit server cannot be reached. You can keep studying offline; "
        "the app will sync when the network is back."
    )


class WrongCredentials(SyncError):
    message = "The server refused the username or password. Check them, or ask your IT help desk to reset the password."


class SignInRequired(SyncError):
    message = "Your sign-in has ended (it expired or was revoked). Sign in again; nothing on this computer was lost."


class ServerFailed(SyncError):
    message = "The credit server had a problem (it answered with an error). Try again later."


class InvalidResponse(SyncError):
    message = "The credit server sent something this app cannot use, so it was ignored and nothing was changed."


class KeyringUnavailable(SyncError):
    message = (
        "No secure password store (keyring) is available on this computer, so the app cannot "
        "keep you signed in. Install and unlock one (e.g. GNOME Keyring or KWallet), or ask IT."
    )


class NotSignedIn(SyncError):
    message = "No one is signed in. Sign in first."


class NoServerConfigured(SyncError):
    message = "No credit server is set. Enter your provider's server address in Settings (or use --server)."
