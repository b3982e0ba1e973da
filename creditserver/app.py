"""The FastAPI application: `create_app(data_dir, ...)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from anyio import to_thread
from fastapi import APIRouter, FastAPI
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from cmecore.protocol import API_PREFIX, ServerInfo

from . import (
    auth, catalog, certificates, completions, housekeeping, keys, media, onboarding, problems, status_lists, verify_page,
)
from .bodylimit import DEFAULT_MAX_BODY_BYTES, BodyLimitMiddleware
from .db import Database, pool_size_for
from .demo import load_demo
from .finishing import CertificateFinisher
from .lrs import LrsConfig
from .lrs.sender import LrsSender
from .media import MediaStore
from .media_access import MediaAccess
from .media_links import MediaDelivery, open_links
from .requestlog import RequestLog, RequestLogMiddleware
from .schema import check_schema
from .throttle import SignInThrottle, ThrottleSettings

SERVER_NAME = "CME Offline reference credit server"
# Requests one server process works on at once, each on a thread of AnyIO's pool (database
# calls and password hashing never run on the event loop). The work is CPU-bound Python
# under one interpreter lock: more threads than a few add contention, memory and database
# connections, not throughput (measured, N=500 rush on 2 cores: 20 threads 196 completions/s
# at 6.5 ms of CPU each, 8 threads 311/s, 4 threads 391-406/s at 3.3 ms; README "Measured").
# A few, not one: a thread waiting on the database or a password hash (Argon2 lets go of the
# lock) leaves the others working. Each thread gets a pooled connection (db.pool_size_for).
# The routes a rush hits (sign-in, catalog, completions) make one trip to the pool per
# request, not three: one_trip.py.
DEFAULT_THREADS = 4
MAX_THREADS = 1000
SHUTDOWN_FINISH_WAIT_S = 10.0

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
    sent_statement_days: int = housekeeping.DEFAULT_SENT_STATEMENT_DAYS,
    media_delivery: MediaDelivery | None = None,
    threads: int = DEFAULT_THREADS,
    prepare: bool = True,
    lrs: LrsConfig | None = None,
) -> FastAPI:
    """Build the server on `data_dir` (media store, and the SQLite file unless `database_url`).

    `public_url` is the address learners and licensing boards reach the server at (behind a
    proxy, say), printed in certificates' verification URLs; None: the address each request
    reached. `max_body_bytes`: larger request bodies are refused with 413 unread.
    `media_delivery`: a static server sends the media bytes, and may read the store (media_links.py). Expired
    tokens, rejection records older than `rejection_days` and xAPI statements sent more than
    `sent_statement_days` ago are pruned at start (housekeeping.py).
    With `lrs`, each accepted completion is also queued as xAPI statements and a background
    thread (`app.state.lrs_sender`) delivers them to that learning record store (creditserver/lrs).
    `threads`: the requests one process handles at once (on AnyIO's thread pool, sized to
    this when the app starts; DEFAULT_THREADS says why few); its database pool is sized
    for them. `prepare`: do what a start does once (prepare_data); False in the workers of
    `serve --workers`, whose parent did it before starting them. Raises ValueError naming
    the option when a setting is out of range, and schema.SchemaMismatch when the database
    is not at the newest schema (it creates no tables: run `prepare_database` or
    `cme-credit-server migrate` first)."""
    check_settings(access_ttl_s=access_ttl_s, request_log_size=request_log_size,
                   completion_grace_days=completion_grace_days, max_body_bytes=max_body_bytes,
                   public_url=public_url, database_url=database_url)
    media_delivery = media_delivery or MediaDelivery()
    media_delivery.check()
    housekeeping.check_rejection_days(rejection_days)
    housekeeping.check_sent_statement_days(sent_statement_days)
    check_threads(threads)
    data_dir = Path(data_dir)
    db = Database(data_dir, database_url, pool_size=pool_size_for(threads))
    try:
        check_schema(db.engine, data_dir, database_url)
        store = MediaStore(data_dir / "media", group=media_delivery.group)  # ValueError: a group it cannot use
        media_links = open_links(media_delivery, data_dir)  # ValueError: a secret file it cannot use
    except Exception:
        db.dispose()
        raise
    if prepare:
        prepare_data(db, store, data_dir, demo=demo, rejection_days=rejection_days,
                     sent_statement_days=sent_statement_days)
    signing_key = keys.load_or_create_key(data_dir)

    app = FastAPI(
        lifespan=_lifespan,
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
    app.state.media_links = media_links
    app.state.media_accel_prefix = media_delivery.accel_prefix
    app.state.data_dir = data_dir
    app.state.access_ttl_s = int(access_ttl_s)
    app.state.request_log = RequestLog(request_log_size)
    app.state.signing_key = signing_key
    app.state.finisher = CertificateFinisher(db, signing_key)  # started with the app (_lifespan)
    app.state.sign_in_throttle = SignInThrottle(sign_in_throttle)
    app.state.public_url = public_url.rstrip("/") if public_url else None
    app.state.completion_settings = completions.CompletionSettings(
        grace_days=int(completion_grace_days), xapi=lrs.reporting if lrs else None)
    app.state.lrs_sender = LrsSender(db, lrs).start() if lrs else None
    app.state.threads = int(threads)

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
    api.include_router(status_lists.router)
    app.include_router(api)
    app.include_router(verify_page.router)  # public, outside /api/v1: the address printed on certificates
    completions.install_schemas(app)

    # Added last = outermost: the log sees the 500 that CatchAll produces and the 413 of the
    # body limit, which comes before anything reads the body.
    app.add_middleware(problems.CatchAllMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=int(max_body_bytes))
    app.add_middleware(RequestLogMiddleware, log=app.state.request_log)
    return app


def prepare_data(db: Database, store: MediaStore, data_dir: Path, *, demo: bool = False,
                 rejection_days: int = housekeeping.DEFAULT_REJECTION_DAYS,
                 sent_statement_days: int = housekeeping.DEFAULT_SENT_STATEMENT_DAYS) -> None:
    """What a start does once, before serving: prune (housekeeping.py), make the signing key
    if there is none, and load the demo (`demo`). `serve --workers` does it in the parent,
    so workers starting together do not race to add the same demo learners."""
    housekeeping.prune(db, rejection_days=rejection_days, sent_statement_days=sent_statement_days)
    keys.load_or_create_key(data_dir)
    if demo:
        load_demo(db, store)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Size this event loop's thread pool and start the certificate finisher (in each worker:
    threads do not survive the fork); at shutdown stop the finisher (what it has not finished
    stays in the database for the next start, or the first fetch) and close the database's
    connections. Both `serve` and the in-thread server (runner.py) run it."""
    app.state.thread_pool = to_thread.current_default_thread_limiter()  # its queue: tests look at it
    app.state.thread_pool.total_tokens = app.state.threads
    app.state.finisher.start()
    yield
    await to_thread.run_sync(app.state.finisher.close, SHUTDOWN_FINISH_WAIT_S)
    app.state.db.dispose()


def check_threads(threads: int) -> None:
    if not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"--threads: must be between 1 and {MAX_THREADS} (got {threads})")


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
