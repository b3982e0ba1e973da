"""Wording for earning credit, shared by the activity tabs and My credits (no Qt here)."""

from __future__ import annotations

from datetime import datetime, timezone

from desktop.errors import CERTIFICATE_NOT_HERE, CertificateNotReady, CmeError, ContentLocked, NotSignedIn, SessionLocked

ACK_BUTTON = "I have read the disclosures — start"
LOCKED = f"Read the disclosures on the Overview tab and press “{ACK_BUTTON}”."
NOT_SIGNED_IN = "Sign in to take part in this activity: the video, transcript, summaries and post-test open " \
                "once you have read the disclosures."

STATE_WORDS = {"pending": "Waiting to sync", "accepted": "Accepted", "rejected": "Refused",
               "revoked": "Revoked by the provider"}
# An accepted claim whose certificate is not here yet: errors.CERTIFICATE_NOT_HERE (it says
# why that wording); PREPARING is said only when the server said so (a deadline rush).
PREPARING = CertificateNotReady.message
NOT_HERE_WORDS = "Accepted — certificate not here yet"


def locked_text(exc: BaseException) -> str:
    """What a view shows instead of content it may not show (rule 1), from the services' error."""
    if isinstance(exc, ContentLocked):
        return LOCKED
    if isinstance(exc, SessionLocked):
        return str(exc)  # choose your name, enter your password
    if isinstance(exc, NotSignedIn):
        return NOT_SIGNED_IN
    if isinstance(exc, CmeError):
        return str(exc)
    return f"This could not be shown: {exc}"


def local_time(utc_naive: datetime | None) -> str:
    """A naive-UTC time from the cache as the learner's local time, e.g. '3 Mar 2026, 14:05'."""
    if utc_naive is None:
        return "—"
    local = utc_naive.replace(tzinfo=timezone.utc).astimezone()
    return f"{local:%d %b %Y, %H:%M}"


def percent(share: float) -> str:
    """0.349 -> '34%' (never rounds up to a threshold the learner has not reached)."""
    return f"{int(share * 100 + 1e-9)}%"


def state_text(state: str, reason: str | None = None, certificate_here: bool = True) -> str:
    if state == "accepted" and not certificate_here:
        return NOT_HERE_WORDS
    words = STATE_WORDS.get(state, state)
    if state in ("rejected", "revoked") and reason:
        return f"{words}: {reason}"
    return words


def status_age_text(checked_at: datetime | None, now: datetime | None = None) -> str:
    """How current the revocation status shown is: when the oldest list kept here was fetched."""
    if checked_at is None:
        return "Revocation status: not checked yet (it is fetched at the next sync)."
    age = (now or datetime.now(timezone.utc)) - checked_at
    days = age.days
    when = "today" if days < 1 else ("yesterday" if days == 1 else f"{days} days ago")
    return f"Revocation status as of {checked_at:%d %b %Y %H:%M} UTC ({when}); it is checked again at each sync."


def attempts_text(allowed: int | None, used: int) -> str:
    if allowed is None:
        return f"Attempts: unlimited until you pass ({used} used)"
    left = max(0, allowed - used)
    return f"Attempts: {allowed} allowed, {left} left"


def claims_notice(report) -> str | None:
    """After a sync, what the server decided on claims and which certificates arrived (an
    OutboxReport), or None if nothing. A certificate is said to be in My credits only when
    it really arrived."""
    if report is None or not (report.accepted or report.rejected or report.certificates):
        return None
    certificates = report.certificates
    parts = []
    if report.accepted:
        accepted = f"{report.accepted} claim{'s' * (report.accepted != 1)} accepted"
        if certificates >= report.accepted:
            accepted += "; the certificate" + (" is" if certificates == 1 else "s are") + " in My credits"
        elif certificates:
            accepted += f"; {certificates} of the certificates in My credits"
        parts.append(accepted)
    elif certificates:
        parts.append(f"{certificates} certificate{'s' * (certificates != 1)} arrived; see My credits")
    if report.certificates_preparing:
        parts.append(PREPARING.rstrip("."))
    elif report.accepted > certificates:
        parts.append(CERTIFICATE_NOT_HERE.rstrip("."))
    if report.rejected:
        parts.append(f"{report.rejected} refused by the server (see My credits for why)")
    return ". ".join(parts) + "."

def download_refusal(state) -> str | None:
    """Why the downloads will refuse this activity's media (rule 3: it is over and this
    learner never started it), as the downloads service decides; None when they would not."""
    if state is not None and state.over and state.acknowledged_at is None:
        return state.availability_reason or "This activity is over."
    return None
