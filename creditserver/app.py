"""The FastAPI application: `create_app(data_dir, ...)`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from cmecore.protocol import API_PREFIX, ServerInfo

from . import auth, catalog, certificates, completions, housekeeping, keys, media, onboarding, problems
from .bodylimit import DEFAULT_MAX_BODY_BYTES, BodyLimitMiddleware
from .db import Database
from .demo import load_demo
from .media import MediaStore
from .media_access import MediaAccess
from .requestlog import RequestLog, RequestLogMiddleware
from .schema import check_schema
from .throttle import SignInThrottle, ThrottleSettings

SERVER_NAME = "CME Offline reference credit server"

info_router = APIRouter(tags=["info"])


@info_router.get("/info", response_model=ServerInfo)
def get_info() -> ServerInfo:
    return ServerInfo(name=SERVER_NAME, time=datetime.now(UTC))


def create_app(
    data_dir: Path,
    database_url: str | None = None,
    demo: bool = False,
    access_ttl_s: int = auth.DEFAULT_ACCESS_TTL_S,
    request_log_size: int = 1000,
    completion_grace_days: int = completions.DEFAULT_GRACE_DAYS,
    public_url: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    sign_in_throttle: ThrottleSettings | None = None,
    rejection_days: int = housekeeping.DEFAULT_REJECTION_DAYS,
) -> FastAPI:
    """Build the server on `data_dir` (media store, and the SQLite file unless `database_url`).

    `public_url` is the address learners and licensing boards reach the server at (behind a
    proxy, say), printed in certificates' verification URLs; None: the address each request
    reached. `max_body_bytes`: larger request bodies are refused with 413 unread. Expired
    tokens and rejection records older than `rejection_days` are pruned at start (housekeeping.py).
    Raises ValueError naming the option when a setting is out of range, and
    schema.SchemaMismatch when the database is not at the newest schema (it creates no
    tables: run `prepare_database` or `cme-credit-server migrate` first)."""
    check_settings(access_ttl_s=access_ttl_s, request_log_size=request_log_size,
                   completion_grace_days=completion_grace_days, max_body_bytes=max_body_bytes,
                   public_url=public_url, database_url=database_url)
    housekeeping.check_rejection_days(rejection_days)
    data_dir = Path(data_dir)
    db = Database(data_dir, database_url)
    try:
        check_schema(db.engine, data_dir, database_url)
    except Exception:
        db.dispose()
        raise
    housekeeping.prune(db, rejection_days=rejection_days)
    store = MediaStore(data_dir / "media")
    signing_key = keys.load_or_create_key(data_dir)
    if demo:
        load_demo(db, store)

    app = FastAPI(
        title=SERVER_NAME,
        version="1",
        description=(
            "Catalog, media, sign-in, completions and certificates for CME Offline. "
            "Errors are RFC 9457 problem details."
        ),
    )
    app.state.db = db
    app.state.media = store
    app.state.media_access = MediaAccess()
    app.state.data_dir = data_dir
    app.state.access_ttl_s = int(access_ttl_s)
    app.state.request_log = RequestLog(request_log_size)
    app.state.signing_key = signing_key
    app.state.certificate_pdfs = certificates.PdfRenderer(db)
    app.state.sign_in_throttle = SignInThrottle(sign_in_throttle)
    app.state.public_url = public_url.rstrip("/") if public_url else None
    app.state.completion_settings = completions.CompletionSettings(grace_days=int(completion_grace_days))

    problems.install(app)
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(info_router)
    api.include_router(auth.router)
    api.include_router(onboarding.router)
    api.include_router(catalog.router)
    api.include_router(media.router)
    api.include_router(completions.router)
    api.include_router(certificates.router)
    api.include_router(keys.router)
    app.include_router(api)
    completions.install_schemas(app)

    # Added last = outermost: the log sees the 500 that CatchAll produces and the 413 of the
    # body limit, which comes before anything reads the body.
    app.add_middleware(problems.CatchAllMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=int(max_body_bytes))
    app.add_middleware(RequestLogMiddleware, log=app.state.request_log)
    return app


def check_settings(*, access_ttl_s: int, request_log_size: int, completion_grace_days: int, max_body_bytes: int,
                   public_url: str | None = None, database_url: str | None = None) -> None:
    """Refuse settings the server cannot work with, before anything starts (ValueError names the option)."""
    if not 1 <= access_ttl_s <= 86_400:
        raise ValueError(f"--access-ttl: must be between 1 and 86400 seconds (got {access_ttl_s})")
    if not 0 <= completion_grace_days <= 3650:
        raise ValueError(f"--completion-grace-days: must be between 0 and 3650 days (got {completion_grace_days})")
    if not 1024 <= max_body_bytes <= 2**31:
        raise ValueError(f"--max-body-bytes: must be between 1024 and {2**31} bytes (got {max_body_bytes})")
    if request_log_size < 0:
        raise ValueError(f"request log size: must not be negative (got {request_log_size})")
    if public_url is not None:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--public-url: must be an http:// or https:// address (got {public_url!r})")
    check_database_url(database_url)


def check_database_url(database_url: str | None) -> None:
    """ValueError naming --database-url unless it is None or a SQLAlchemy URL."""
    if database_url is not None:
        try:
            make_url(database_url)
        except ArgumentError:
            raise ValueError(
                f"--database-url: must be a SQLAlchemy URL such as postgresql+psycopg://… (got {database_url!r})"
            ) from None
