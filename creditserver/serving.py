"""Serving for real: `cme-credit-server serve [--workers N] [--threads T]`.

One Python process runs the server's Python at one CPU's speed (sign-in's Argon2id and the
completions' checks are CPU work), so a provider runs several: uvicorn's worker processes,
sharing one listening socket. The parent prepares everything once before any worker starts
(`prepare`: the database created if new, or refused if its schema is behind — nothing
migrates it but `cme-credit-server migrate`; then pruning, the signing key and the demo),
so workers starting together never race to create tables or add the same demo learner.
Each worker builds its own app with `worker_app`, its own database engine and pool
(sized for its thread pool, app.DEFAULT_THREADS), and its own certificate renderer, which
its lifespan closes at shutdown.

The options reach the workers in one environment variable, SETTINGS_ENV, holding them as
JSON (uvicorn starts its workers by import string, not with our objects). Not on a command
line, where `ps` would show a database password to every user of the machine; a process's
environment is readable only by its own user (and root). The same goes for the URL itself:
`--database-url` may be left out for CME_DATABASE_URL (cli_serve.DATABASE_URL_ENV).

Keep-alive: an idle connection stays open KEEP_ALIVE_S, well past the desktop's own
limit for reusing one (desktop/sync/http.py KEEPALIVE_EXPIRY_S), so the client always gives
up on an idle connection first and never sends a request just as the server closes it
(uvicorn's default of 5 s equalled httpx's and lost batches that way). A reverse proxy in
front holds its own keep-alive to clients; docs/deployment.md has the settings.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

from .app import check_settings, check_threads, create_app, prepare_data
from .db import Database
from .housekeeping import DEFAULT_SENT_STATEMENT_DAYS, check_rejection_days, check_sent_statement_days
from .lrs import LrsConfig, lrs_config
from .media import MediaStore
from .media_links import MediaDelivery, open_links
from .schema import check_schema, prepare_database

SETTINGS_ENV = "CME_CREDIT_SERVER_SETTINGS"
KEEP_ALIVE_S = 75
GRACEFUL_SHUTDOWN_S = 30
MAX_WORKERS = 64


@dataclass(frozen=True)
class ServeSettings:
    """What every worker builds its app from: create_app's options, as JSON can carry them."""

    data_dir: str
    database_url: str | None
    access_ttl_s: int
    completion_grace_days: int
    public_url: str | None
    max_body_bytes: int
    rejection_days: int
    threads: int
    sent_statement_days: int = DEFAULT_SENT_STATEMENT_DAYS
    media: dict | None = None  # media_settings(MediaDelivery): how media reach learners
    lrs: dict | None = None  # serve's --lrs-url, --lrs-auth-file, --lrs-send: each worker reads the file

    def media_delivery(self) -> MediaDelivery:
        media = dict(self.media or {})
        if media.get("secret_file") is not None:
            media["secret_file"] = Path(media["secret_file"])
        return MediaDelivery(**media)

    def lrs_config(self) -> LrsConfig | None:
        lrs = self.lrs or {}
        auth_file = lrs.get("auth_file")
        return lrs_config(lrs.get("url"), None if auth_file is None else Path(auth_file), lrs.get("send"),
                          self.public_url)

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServeSettings:
        text = os.environ.get(SETTINGS_ENV)
        if not text:
            raise RuntimeError(f"{SETTINGS_ENV} is not set: start workers with `cme-credit-server serve`")
        return cls(**json.loads(text))


def media_settings(delivery: MediaDelivery) -> dict:
    """A MediaDelivery as JSON can carry it (ServeSettings.media)."""
    values = asdict(delivery)
    if values["secret_file"] is not None:
        values["secret_file"] = str(values["secret_file"])
    return values


def prepare(settings: ServeSettings, *, demo: bool) -> None:
    """What the parent does once before starting workers (module docstring). Raises
    ValueError naming an option out of range, schema.SchemaBehind with the command to run."""

    check_settings(access_ttl_s=settings.access_ttl_s, request_log_size=0,
                   completion_grace_days=settings.completion_grace_days, max_body_bytes=settings.max_body_bytes,
                   public_url=settings.public_url, database_url=settings.database_url)
    check_rejection_days(settings.rejection_days)
    check_sent_statement_days(settings.sent_statement_days)
    check_threads(settings.threads)
    media = settings.media_delivery()
    media.check()
    data_dir = Path(settings.data_dir)
    prepare_database(data_dir, settings.database_url, upgrade_existing=False)  # creates a new one only
    db = Database(data_dir, settings.database_url)
    try:
        check_schema(db.engine, data_dir, settings.database_url)
        store = MediaStore(data_dir / "media", group=media.group)  # ValueError: a group it cannot use
        open_links(media, data_dir)  # the link secret made once, before the workers read it
        prepare_data(db, store, data_dir, demo=demo, rejection_days=settings.rejection_days,
                     sent_statement_days=settings.sent_statement_days)
    finally:
        db.dispose()


def worker_app() -> FastAPI:
    """The app of one worker process (uvicorn's factory), from the settings in SETTINGS_ENV."""

    settings = ServeSettings.from_env()
    return create_app(
        Path(settings.data_dir),
        database_url=settings.database_url,
        access_ttl_s=settings.access_ttl_s,
        completion_grace_days=settings.completion_grace_days,
        public_url=settings.public_url,
        max_body_bytes=settings.max_body_bytes,
        rejection_days=settings.rejection_days,
        sent_statement_days=settings.sent_statement_days,
        threads=settings.threads,
        media_delivery=settings.media_delivery(),
        lrs=settings.lrs_config(),
        prepare=False,
    )


def serve(settings: ServeSettings, *, host: str, port: int, workers: int) -> None:
    """Run `workers` worker processes on host:port until SIGINT or SIGTERM (which stops them all).
    `prepare` must have run."""

    os.environ[SETTINGS_ENV] = settings.to_env()  # inherited by the workers uvicorn spawns
    uvicorn.run(
        f"{__name__}:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_keep_alive=KEEP_ALIVE_S,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        log_config=log_config(),
        log_level="info",
    )


def log_config() -> dict:
    """uvicorn's logging, each line starting with the process id of the worker that wrote it."""

    config = copy.deepcopy(LOGGING_CONFIG)
    for formatter in config["formatters"].values():
        formatter["fmt"] = "[%(process)d] " + formatter["fmt"]
    return config
