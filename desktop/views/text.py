"""Small wording helpers shared by the views (no Qt here, so they are easy to test)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from desktop.cache.blobstore import LocalState
from desktop import errors
from desktop.errors import CmeError

PROFESSION_NAMES = {
    "physician": "Physician",
    "physician_assistant": "Physician assistant",
    "nurse_practitioner": "Nurse practitioner",
    "nurse": "Nurse",
    "pharmacist": "Pharmacist",
    "other": "Other health professional",
}

MEDIA_STATE = {
    LocalState.present: ("●", "Downloaded"),
    LocalState.partial: ("◐", "Partly downloaded"),
    LocalState.queued: ("◌", "Queued"),
    LocalState.absent: ("○", "Not downloaded"),
}

# Short forms of the sync layer's failures, for the status bar (the full message is the tooltip).
# A subclass takes its nearest listed ancestor's (AccessExpired: "Sign-in required").
_SHORT_ERRORS: dict[type[errors.CmeError], str] = {
    errors.ServerUnreachable: "Server not reachable",
    errors.ReplyBrokenOff: "Connection broke off",
    errors.WrongCredentials: "Sign-in required",
    errors.SignInRequired: "Sign-in required",
    errors.SessionLocked: "Locked",
    errors.NotSignedIn: "Not signed in",
    errors.ServerFailed: "Server error",
    errors.InvalidResponse: "Server sent unusable data",
    errors.KeyringUnavailable: "No password store (keyring)",
    errors.NoServerConfigured: "No server set",
}


def profession_name(profession: str | None) -> str:
    if not profession:
        return ""
    return PROFESSION_NAMES.get(profession, profession.replace("_", " ").capitalize())


def media_text(state: LocalState) -> str:
    symbol, words = MEDIA_STATE.get(state, ("○", str(state)))
    return f"{symbol} {words}"


def short_error(message: str | None, exc: BaseException | None = None, code: str | None = None) -> str:
    """A few words for the status bar: decided by the error's type (`exc`) or by its stored
    `code` (a CmeError code, as the sync state keeps it), never by the message's wording.
    Without either (or for a failure with no short form), the message itself, cut to fit."""
    cls = type(exc) if exc is not None else _error_class(code)
    for ancestor in cls.__mro__ if cls is not None else ():
        if ancestor in _SHORT_ERRORS:
            return _SHORT_ERRORS[ancestor]
    if not message:
        return ""
    return message if len(message) <= 60 else message[:57].rstrip() + "…"


def _error_class(code: str | None) -> type[CmeError] | None:
    """The class in the error tree whose own code this is (None if none is)."""
    if not code:
        return None
    pending = [CmeError]
    while pending:
        cls = pending.pop()
        if cls.__dict__.get("code") == code:
            return cls
        pending.extend(cls.__subclasses__())
    return None


def relative_time(then: datetime, now: datetime | None = None) -> str:
    """'just now', '5 min ago', '2 h ago', '3 days ago' for a naive-UTC `then`."""
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    seconds = (now - then).total_seconds()
    if seconds < 60:
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} h ago"
    days = hours // 24
    return "1 day ago" if days == 1 else f"{days} days ago"


def human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover


def format_date(d: date | None) -> str:
    return f"{d:%d %b %Y}" if d else "—"


def format_minutes(minutes: int) -> str:
    if minutes <= 0:
        return "—"
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


# Shown for any failure the services did not name (sign-in, sync, downloads, settings): so it
# names none of them. The error itself goes to the log where it happens.
UNEXPECTED = "That did not work because of an unexpected problem. Try again; if it keeps failing, tell your IT help desk."


def error_text(exc: BaseException) -> str:
    """The words to show for a failure from the services layer (a bad server address is a
    CmeError too: BadServerAddress says what was wrong with it)."""
    if isinstance(exc, CmeError):
        return str(exc)
    return UNEXPECTED
