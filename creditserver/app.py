"""The FastAPI application: `create_app(data_dir, ...)`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, FastAPI

from cmecore.protocol import API_PREFIX, ServerInfo

from . import auth, catalog, certificates, completions, keys, media, problems
from .db import Database
from .demo import load_demo
from .media import MediaStore
from .requestlog import RequestLog, RequestLogMiddleware

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
) -> FastAPI:
    """Build the server on `data_dir` (media store, and the SQLite file unless `database_url`).

    `public_url` is the address learners and licensing boards reach the server at (behind a
    proxy, say), printed in certificates' verification URLs; None: the address each request
    reached."""
    data_dir = Path(data_dir)
    db = Database(data_dir, database_url)
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
    app.state.data_dir = data_dir
    app.state.access_ttl_s = int(access_ttl_s)
    app.state.request_log = RequestLog(request_log_size)
    app.state.signing_key = signing_key
    app.state.public_url = public_url.rstrip("/") if public_url else None
    app.state.completion_settings = completions.CompletionSettings(grace_days=int(completion_grace_days))

    problems.install(app)
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(info_router)
    api.include_router(auth.router)
    api.include_router(catalog.router)
    api.include_router(media.router)
    api.include_router(completions.router)
    api.include_router(certificates.router)
    api.include_router(keys.router)
    app.include_router(api)
    completions.install_schemas(app)

    # Added last = outermost: the log sees the 500 that CatchAll produces.
    app.add_middleware(problems.CatchAllMiddleware)
    app.add_middleware(RequestLogMiddleware, log=app.state.request_log)
    return app
