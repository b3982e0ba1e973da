"""Every failure the app reports to a person, as one tree with a machine-readable `code`.

`str(err)` (and `err.message`) is one plain sentence saying what happened and what to do;
the GUI shows it inline and the CLI prints it as its one-line reason. Callers decide what
to do from the *type* (`except NetworkError`) or the `code` (`err.code == "pharmacist-ids"`),
never from the message text, so wording can change without changing behaviour.

    CmeError
    ├── NetworkError    the server could not be used: unreachable, reply broken off, failed, sent nonsense,
    │                   or (not a failure) a certificate it is still preparing
    ├── AuthError       who you are: wrong password, sign-in ended, nobody signed in, no keyring
    ├── ConfigError     settings or policy: no server set, a bad server address or setting, a locked one
    ├── RuleError       an accreditation rule says no now (locked content, a refused step, a second claim)
    └── ContentError    content that cannot be used: unknown activity, refused pack, busy store,
                        an unreadable transcript or summary, a cache from a newer app, a video
                        file that would not be removed

Plain Python, no Qt: imported by the cache, sync, services, views and the CLI alike.
"""

from __future__ import annotations


class CmeError(Exception):
    """Base of every failure shown to a person; `str(err)` is the user message."""

    message = "Something went wrong."
    code = "error"

    def __init__(self, message: str | None = None, code: str | None = None):
        if message:
            self.message = message
        if code:
            self.code = code
        super().__init__(self.message)


# ---------------------------------------------------------------- network


class NetworkError(CmeError):
    """The credit server could not be used for this request (the app stays usable offline)."""

    message = "Something went wrong talking to the credit server."
    code = "network"


class ServerUnreachable(NetworkError):
    message = (
        "The credit server cannot be reached. You can keep studying offline; "
        "the app will sync when the network is back."
    )
    code = "unreachable"


class ReplyBrokenOff(NetworkError):
    """The server began to answer and the connection broke before the reply was whole. The
    server was reached (the app stays online); nothing from the reply was used. Sync and
    downloads try it again like a request the server failed (and say so themselves); a
    learner's own action is theirs to try again (ServerUnreachable is for no answer at all)."""

    message = (
        "The credit server's reply broke off part-way (the connection broke off), so nothing "
        "from it was used. Try again."
    )
    code = "broken-off"


class ServerFailed(NetworkError):
    message = "The credit server had a problem (it answered with an error). Try again later."
    code = "server-failed"


class CertificateNotReady(NetworkError):
    """The server has the certificate but is still preparing its PDF (a deadline rush:
    503 `certificate-not-ready`). Not a failure and not offline: the sync leaves that
    certificate for a later sync; the app's courier asks again no earlier than `retry_after`
    seconds (the server's Retry-After; None when it gave none)."""

    message = "The provider is still preparing the certificate; it comes to this computer with a later sync."
    code = "certificate-not-ready"

    def __init__(self, message: str | None = None, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


# An accepted claim whose certificate (or its signed form) is not on this computer, for
# whatever reason (the server still preparing it, a fetch that failed, nobody signed in to
# fetch it): the one wording for the state, true in each case.
CERTIFICATE_NOT_HERE = "The certificate is not on this computer yet; it comes with a later sync."


class InvalidResponse(NetworkError):
    message = "The credit server sent something this app cannot use, so it was ignored and nothing was changed."
    code = "invalid-response"


# ---------------------------------------------------------------- who you are


class AuthError(CmeError):
    message = "You need to sign in."
    code = "auth"


class WrongCredentials(AuthError):
    message = "The server refused the username or password. Check them, or ask your IT help desk to reset the password."
    code = "wrong-credentials"


class TooManySignIns(AuthError):
    """The server is holding this name back after several wrong passwords (429)."""

    message = "Too many failed sign-ins for this name. Wait a few minutes, then try again."
    code = "too-many-sign-ins"


class SignInRequired(AuthError):
    message = "Your sign-in has ended (it expired or was revoked). Sign in again; nothing on this computer was lost."
    code = "sign-in-required"


class AccessExpired(SignInRequired):
    """The server answered 401 to an access token: `Account.authorized` refreshes it once and
    tries again. A SignInRequired, so if the retry fails too the learner is asked to sign in."""

    code = "access-expired"


class NotSignedIn(AuthError):
    message = "No one is signed in. Sign in first."
    code = "not-signed-in"


class KeyringUnavailable(AuthError):
    message = (
        "No secure password store (keyring) is available on this computer, so the app cannot "
        "keep you signed in. Install and unlock one (e.g. GNOME Keyring or KWallet), or ask IT."
    )
    code = "no-keyring"


class WrongPassword(WrongCredentials):
    """Switching or unlocking offline: the password does not match the check this computer
    keeps for that learner (`sync/verifier.py`). A WrongCredentials, like the server's refusal."""

    message = "That password is not right for this learner. Check it and try again."
    code = "wrong-password"


class CannotCheckOffline(AuthError):
    """Switching or unlocking offline for a learner whose password this computer cannot check
    (no online sign-in here since the check was introduced, or the check was removed)."""

    message = (
        "This learner's password cannot be checked while the credit server is out of reach. "
        "Connect to the network and try again."
    )
    code = "no-offline-check"


class SessionLocked(NotSignedIn):
    """Learners are signed in on this computer but none has proved who they are since the app
    locked (idle time, a sign-out, a switch away): each must enter their password to continue."""

    message = "CME Offline is locked. Choose your name and enter your password to continue."
    code = "locked"


# ---------------------------------------------------------------- configuration


class ConfigError(CmeError):
    message = "A setting is not usable."
    code = "config"


class NoServerConfigured(ConfigError):
    message = "No credit server is set. Enter your provider's server address in Settings (or use --server)."
    code = "no-server"


class BadServerAddress(ConfigError):
    """Raised by `desktop.config.normalise_server_url`; the message quotes what was typed."""

    message = "That is not a usable server address. Use the https:// address your provider gave you."
    code = "bad-server-address"


class CleartextRefused(BadServerAddress):
    """An `http://` server address for a host other than this computer: the password would
    cross the network unencrypted (`desktop.addresses.check_server_address`)."""

    message = "The server address must start with https:// (http:// is accepted only for this computer)."
    code = "cleartext-refused"


class CredentialsInAddress(BadServerAddress):
    """A server or proxy address with a user name or password in it (`https://user:pass@host`):
    refused in settings and policy; the keyring or the OS proxy settings hold those."""

    message = "Remove the user name and password from the address: they are never stored in settings."
    code = "credentials-in-address"


class BadSetting(ConfigError):
    """A settings value out of range or in the wrong form; the message names the setting."""

    message = "That setting is not usable."
    code = "bad-setting"


class SettingLocked(ConfigError):
    """A change to a setting the machine policy fixes (`name`; `reason` says which policy)."""

    code = "setting-locked"

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name} cannot be changed here: {reason[0].lower()}{reason[1:]}.")
        self.name = name
        self.reason = reason


class QualityNotAllowed(ConfigError):
    """The machine policy's maximum download quality allows none of the forms an activity's
    video comes in, or IT asked to carry a quality above it (prefetch, packs); the message
    names the maximum and what there is or may be asked for."""

    message = "Your organisation's policy allows none of the forms this video comes in."
    code = "quality-not-allowed"


# ---------------------------------------------------------------- accreditation rules


class RuleError(CmeError):
    """A learning step the rules do not allow now; `message` says why in plain words.

    `code` names the rule: "locked", "availability", "activity", "assessment", "attempt",
    "evaluation", "claim", "claim-exists", "pharmacist-ids", "certificate".
    """

    message = "This step is not possible now."
    code = "rule"


class ContentLocked(RuleError):
    """Rule 1: the activity's content stays locked until the learner acknowledges the disclosures."""

    message = "Read and acknowledge the disclosures on the Overview tab first."
    code = "locked"


class ClaimExists(RuleError):
    """Rule 6: one claim per learner and activity while it is waiting or accepted (raised by
    the cache in the transaction that would have written a second one)."""

    message = "You have already claimed credit for this activity."
    code = "claim-exists"


# ---------------------------------------------------------------- content


class ContentError(CmeError):
    message = "This content cannot be used."
    code = "content"


class UnknownActivity(ContentError):
    message = "That activity is not in the library. Sync the catalog first."
    code = "unknown-activity"


class DownloadsBusy(ContentError):
    message = (
        "Downloads are already running in another CME Offline window or command on this "
        "computer; they will carry on there."
    )
    code = "downloads-busy"


class VideoNotRemoved(ContentError):
    """A file of the video could not be deleted (a player has it open, the disk refuses); the
    files before it were removed, the rest stay."""

    message = ("Part of the video could not be removed from this computer. Close any program that is "
               "playing it, then choose Remove video again.")
    code = "video-not-removed"


class PackRefused(ContentError):
    """The pack was not imported (or not exported); `message` says why. Nothing was changed."""

    message = "The content pack was refused; nothing was changed."
    code = "pack-refused"


class TranscriptError(ContentError):
    """A transcript file we cannot read; the message names the line at fault."""

    message = "This transcript cannot be read."
    code = "transcript"


class SummaryError(ContentError):
    """A summary in a format we do not display."""

    message = "This summary cannot be displayed."
    code = "summary"


class CatalogApplyError(ContentError):
    """The catalog did not store as sent (checked before commit): nothing was changed."""

    message = "The catalog could not be stored as the server sent it; nothing was changed. Sync again later."
    code = "catalog-apply"


class SchemaTooNewError(ContentError):
    """The cache file was written by a newer CME Offline; this version must not touch it."""

    message = "The local cache was written by a newer CME Offline; update the app to open it."
    code = "schema-too-new"

# ---------------------------------------------------------------- transfers into the blob store


class TransferError(ContentError):
    """A file did not arrive in the store this time; `message` is one plain sentence for the learner.

    `retryable`: whether trying again can help. `retry_after`: the seconds the server asked
    us to wait. `discarded`: the bytes received were thrown away (they are not progress).
    """

    message = "The file could not be fetched."
    code = "transfer"
    retryable = True

    def __init__(self, message: str | None = None, *, retry_after: float | None = None, discarded: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.discarded = discarded

    @property
    def what(self) -> str:
        """The message without its promise to retry, for the final message after giving up."""
        return self.message.split("; it will be fetched again")[0].split("; the download will")[0].rstrip(".")


class RetryableTransferError(TransferError):
    """Connection trouble, a timeout, 5xx, 429, a confused reply: worth another try."""

    code = "transfer-retry"


class DamagedInTransit(RetryableTransferError):
    message = "The downloaded file was damaged in transit and was discarded; it will be fetched again."
    code = "damaged-in-transit"

    def __init__(self) -> None:
        super().__init__(discarded=True)


class PermanentTransferError(TransferError):
    """Retrying will not help (404, 403, a full disk): the job fails with this message."""

    code = "transfer-refused"
    retryable = False


class MediaWithdrawn(PermanentTransferError):
    """The server refused a file because its activity was withdrawn (403, `activity-withdrawn`)."""

    message = ("The provider has withdrawn this activity, so its files can no longer be downloaded "
               "(learners who completed it still can). Sync the catalog to remove it from your library.")
    code = "media-withdrawn"


class DiskFull(PermanentTransferError):
    message = "The disk is full: free some space, then resume the download."
    code = "disk-full"
