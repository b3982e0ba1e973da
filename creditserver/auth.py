"""Learners, passwords and tokens; the `/auth/*` and `/me` routes.

Passwords are kept as Argon2id hashes (passwords.py); failed sign-ins are throttled per
username and per client address (throttle.py). Tokens are random
(`secrets.token_urlsafe(32)`) and only their SHA-256 is stored. An access token lives
`access_ttl_s` (15 minutes by default); a refresh token 90 days and is not rotated.
Revoking a refresh token also revokes every access token issued from it.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from cmecore.profile import profile_values
from cmecore.protocol import LearnerProfile, Problem, Profession, RefreshRequest, TokenRequest, TokenResponse

from . import problems
from .db import Database
from .models import AccessToken, Learner, RefreshToken, utcnow
from .one_trip import one_trip
from .passwords import DUMMY_HASH, NO_PASSWORD, hash_password, needs_rehash, normalise_username, verify_password
from .problems import ProblemError
from .throttle import SignInThrottle, keys_for, retry_after

REFRESH_TTL = timedelta(days=90)
DEFAULT_ACCESS_TTL_S = 900

_BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="cme-credit-server"'}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---------------------------------------------------------------- learners


@dataclass(frozen=True)
class NewLearner:
    """A learner to add: how they sign in, and their profile (cmecore.profile.PROFILE_FIELDS)."""

    username: str
    password: str
    profession: Profession
    display_name: str
    degree: str = ""
    board_id: str | None = None
    licence_state: str | None = None
    licence_number: str | None = None
    nabp_eprofile_id: str | None = None
    birth_mmdd: str | None = None


class LearnerExists(ValueError):
    pass


def find_learner(session: Session, username: str) -> Learner | None:
    """The learner who signs in as `username`, in any case, width or surrounding spaces.

    Learners added before usernames were normalised keep their name as typed; they are
    still found by it exactly."""
    normal = normalise_username(username)
    if not _storable(normal):
        return None
    found = session.execute(select(Learner).where(Learner.username == normal)).scalar_one_or_none()
    if found is None and _storable(username) and username != normal:
        found = session.execute(select(Learner).where(Learner.username == username)).scalar_one_or_none()
    return found


def _storable(text: str) -> bool:
    """Whether the database can hold `text`: a lone surrogate from a JSON body cannot be
    UTF-8, and PostgreSQL refuses NUL (the protocol refuses it too; this guards other callers)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def add_learner(session: Session, new: NewLearner) -> LearnerProfile:
    """Create a learner under the normalised username; raises LearnerExists if the username
    is taken (in any case or width), ValueError if invalid."""
    username = normalise_username(new.username)
    if find_learner(session, username) is not None:
        raise LearnerExists(f"learner {username!r} already exists")
    # Validate with the protocol model before storing, so /me can always be built.
    profile = LearnerProfile(id=uuid.uuid4().hex, username=username, **profile_values(new))
    if not new.password:
        raise ValueError("password: must not be empty")
    session.add(Learner(password_hash=hash_password(new.password), **profile.model_dump(mode="json")))
    return profile


def profile_of(learner: Learner) -> LearnerProfile:
    return LearnerProfile.model_validate(learner, from_attributes=True)


# ---------------------------------------------------------------- tokens


def _issue_access(session: Session, learner_id: str, refresh_id: int, ttl_s: int) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        AccessToken(
            token_hash=token_hash(token),
            learner_id=learner_id,
            refresh_id=refresh_id,
            expires_at=utcnow() + timedelta(seconds=ttl_s),
        )
    )
    return token


def expire_access_tokens(session: Session) -> int:
    """Make every current access token expired (tests: exercise the refresh path)."""
    past = utcnow() - timedelta(seconds=1)
    result = session.execute(update(AccessToken).where(AccessToken.expires_at > past).values(expires_at=past))
    return result.rowcount or 0


def revoke_all_refresh_tokens(session: Session) -> int:
    now = utcnow()
    result = session.execute(update(RefreshToken).where(RefreshToken.revoked_at.is_(None)).values(revoked_at=now))
    session.execute(update(AccessToken).values(revoked=True))
    return result.rowcount or 0


def _unauthorized(title: str, type_: str = problems.UNAUTHORIZED, detail: str = "") -> ProblemError:
    return ProblemError(401, title, type=type_, detail=detail, headers=_BEARER_CHALLENGE)


_bearer = HTTPBearer(auto_error=False, description="An access token from POST /auth/token or /auth/refresh.")


def get_db(request: Request) -> Database:
    return request.app.state.db


# Built once (SQLAlchemy computes a statement's cache key per object: the 307s of media.py
# and every completion batch look a token up).
_TOKEN_AND_LEARNER = (
    select(AccessToken.revoked, AccessToken.expires_at, Learner)
    .join(Learner, Learner.id == AccessToken.learner_id)
    .where(AccessToken.token_hash == bindparam("token_hash"))
)
_TOKEN = (
    select(AccessToken.learner_id, AccessToken.revoked, AccessToken.expires_at)
    .join(Learner, Learner.id == AccessToken.learner_id)
    .where(AccessToken.token_hash == bindparam("token_hash"))
)


def _checked_token(credentials: HTTPAuthorizationCredentials | None, look_up: Callable[[dict[str, str]], Any]) -> Any:
    """The rule for a request's Bearer access token, looked up in the database on every
    request (a token revoked a moment ago is refused): its row from `look_up`, or a 401 problem."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise _unauthorized("Sign-in required", detail="Send an access token as 'Authorization: Bearer <token>'.")
    row = look_up({"token_hash": token_hash(credentials.credentials)})
    if row is None or row.revoked:
        raise _unauthorized("The access token is not valid", detail="Sign in again or refresh the token.")
    if row.expires_at <= utcnow():
        raise _unauthorized(
            "The access token has expired", problems.TOKEN_EXPIRED, detail="Refresh it with POST /auth/refresh."
        )
    return row


def learner_for_token(s: Session, credentials: HTTPAuthorizationCredentials | None) -> LearnerProfile:
    """The learner behind a request's Bearer access token, read in `s` (the caller's
    transaction: a route that needs the database anyway checks the token in the same
    one), or a 401 problem."""
    row = _checked_token(credentials, lambda params: s.execute(_TOKEN_AND_LEARNER, params).one_or_none())
    return profile_of(row.Learner)


def learner_id_for_token(connection: Connection | Session, credentials: HTTPAuthorizationCredentials | None) -> str:
    """The id of the learner behind the token, read in the caller's connection without the
    ORM (media.py's 307s, where a Session costs as much again as the queries), or a 401 problem."""
    return _checked_token(credentials, lambda params: connection.execute(_TOKEN, params).one_or_none()).learner_id


BearerToken = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def current_learner(request: Request, credentials: BearerToken) -> LearnerProfile:
    """The learner behind the request's Bearer access token, or a 401 problem."""
    db: Database = request.app.state.db
    with db.session() as s:
        return learner_for_token(s, credentials)


CurrentLearner = Annotated[LearnerProfile, Depends(current_learner)]

_401 = {401: {"model": Problem, "description": "Missing, invalid or expired token (problem+json)."}}

router = APIRouter(tags=["auth"])


def _key_fields(request: Request) -> dict[str, str]:
    """The credential-signing key for the sign-in reply, so clients can verify certificates offline."""
    key = getattr(request.app.state, "signing_key", None)
    return {"server_public_key": key.public_key_b64, "key_id": key.key_id} if key is not None else {}


_429 = {429: {"model": Problem, "description": "Too many failed sign-ins: wait Retry-After seconds (problem+json)."}}


@router.post("/auth/token", response_model=TokenResponse, responses={**_401, **_429})
@one_trip  # in a rush of sign-ins, each answer comes after its own hash, not after all of them
def sign_in(body: TokenRequest, request: Request) -> TokenResponse:
    db: Database = request.app.state.db
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    ttl_s: int = request.app.state.access_ttl_s
    keys = keys_for(normalise_username(body.username), request.client.host if request.client else None)
    # One short transaction before the password hash and one after: no lock and no database
    # connection waits on the ~70 ms hash, so sign-ins hash in parallel (throttle.py).
    with db.session() as s:
        wait = throttle.reserve(s, keys)
        learner = None if wait else find_learner(s, body.username)
        stored = learner.password_hash if learner is not None else NO_PASSWORD
        learner_id = learner.id if learner is not None else None
    if wait:
        seconds = retry_after(wait)
        raise ProblemError(
            429,
            "Too many failed sign-ins",
            type=problems.TOO_MANY_SIGN_INS,
            detail=f"Sign-in is paused for this account or address; try again in {seconds} seconds.",
            headers={"Retry-After": str(seconds)},
        )
    ok = verify_password(body.password, stored if stored != NO_PASSWORD else DUMMY_HASH)
    if learner_id is None or stored == NO_PASSWORD or not ok:
        with db.session() as s:
            throttle.failed(s, keys)
        raise _wrong_credentials()
    rehashed = hash_password(body.password) if needs_rehash(stored) else None
    with db.session() as s:
        learner = s.get(Learner, learner_id)
        if learner is None or learner.password_hash != stored:  # removed, or a new password set meanwhile
            raise _wrong_credentials()
        throttle.succeeded(s, keys)
        if rehashed is not None:
            learner.password_hash = rehashed
        refresh = secrets.token_urlsafe(32)
        rt = RefreshToken(
            token_hash=token_hash(refresh),
            learner_id=learner.id,
            device_name=body.device_name if _storable(body.device_name) else "(unreadable device name)",
            expires_at=utcnow() + REFRESH_TTL,
        )
        s.add(rt)
        s.flush()
        access = _issue_access(s, learner.id, rt.id, ttl_s)
        reply = TokenResponse(
            access_token=access,
            refresh_token=refresh,
            expires_in=ttl_s,
            learner=profile_of(learner),
            **_key_fields(request),
        )
    return reply


def _wrong_credentials() -> ProblemError:
    return ProblemError(401, "Wrong username or password", type=problems.INVALID_CREDENTIALS,
                        detail="Check the username and password and try again.")


def _live_refresh(s: Session, token: str) -> RefreshToken:
    rt = s.execute(select(RefreshToken).where(RefreshToken.token_hash == token_hash(token))).scalar_one_or_none()
    if rt is None or rt.revoked_at is not None:
        raise _unauthorized("The refresh token has been revoked", problems.TOKEN_REVOKED, detail="Sign in again.")
    if rt.expires_at <= utcnow():
        raise _unauthorized("The refresh token has expired", problems.TOKEN_EXPIRED, detail="Sign in again.")
    return rt


@router.post("/auth/refresh", response_model=TokenResponse, responses=_401)
def refresh_token(body: RefreshRequest, request: Request) -> TokenResponse:
    db: Database = request.app.state.db
    ttl_s: int = request.app.state.access_ttl_s
    with db.session() as s:
        rt = _live_refresh(s, body.refresh_token)
        learner = s.get(Learner, rt.learner_id)
        if learner is None:  # pragma: no cover - cascade deletes the token with the learner
            raise _unauthorized("The refresh token has been revoked", problems.TOKEN_REVOKED)
        access = _issue_access(s, learner.id, rt.id, ttl_s)
        return TokenResponse(
            access_token=access, refresh_token=None, expires_in=ttl_s, learner=profile_of(learner), **_key_fields(request)
        )


@router.post("/auth/revoke", status_code=204, response_class=Response)
def revoke_token(body: RefreshRequest, request: Request) -> Response:
    """Sign out: revoke the refresh token and every access token issued from it.

    Revoking an unknown or already revoked token also answers 204 (RFC 7009 style).
    """
    db: Database = request.app.state.db
    with db.session() as s:
        rt = s.execute(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash(body.refresh_token))
        ).scalar_one_or_none()
        if rt is not None:
            if rt.revoked_at is None:
                rt.revoked_at = utcnow()
            s.execute(update(AccessToken).where(AccessToken.refresh_id == rt.id).values(revoked=True))
    return Response(status_code=204)


@router.get("/me", response_model=LearnerProfile, responses=_401)
def me(learner: CurrentLearner) -> LearnerProfile:
    return learner
