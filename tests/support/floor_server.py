"""The floor of the load bench: the least any server answering the scenario's requests on
this stack must do, with none of the credit server's own work.

Served the way `cme-credit-server serve --workers N` serves (uvicorn's worker processes,
FastAPI routes as plain functions on AnyIO's thread pool, SQLAlchemy over psycopg to the
same PostgreSQL, one connection per request thread): a sign-in answers a fixed token (no
password hash), the catalog a small fixed document, and a completion batch is read into a
pydantic model, stored in one transaction (one row per item, `ON CONFLICT DO NOTHING` on its
id, as the idempotency key needs) and answered `accepted` with a certificate id per item.
No grading, no certificate, no proof, no status list, no PDF. What the real server costs
beyond this is its own code; the floor's completions/s is as far as 2 cores go on this
stack, whatever the credit server does.

Run by the bench as `uvicorn --factory tests.support.floor_server:floor_app` with the
database URL in FLOOR_DB_URL_ENV.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from anyio import to_thread
from fastapi import FastAPI, Request
from pydantic import BaseModel, Field
from sqlalchemy import Column, MetaData, String, Table, Text, create_engine
from sqlalchemy.dialects.postgresql import insert

FLOOR_DB_URL_ENV = "CME_FLOOR_DB_URL"
THREADS = 20  # as creditserver.app.DEFAULT_THREADS

_metadata = MetaData()
floor_completions = Table("floor_completions", _metadata, Column("id", String(36), primary_key=True),
                          Column("body_json", Text, nullable=False))


class _Batch(BaseModel):
    completions: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=50)]


class _SignIn(BaseModel):
    username: str
    password: str
    device_name: str


def floor_app() -> FastAPI:
    """The floor server's app (a uvicorn factory: each worker builds its own)."""
    engine = create_engine(os.environ[FLOOR_DB_URL_ENV], pool_size=THREADS, max_overflow=5)
    _metadata.create_all(engine, checkfirst=True)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = THREADS  # as the credit server's _lifespan
        yield
        engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.post("/api/v1/auth/token")
    def sign_in(body: _SignIn) -> dict[str, Any]:
        return {"access_token": "floor-" + body.username, "refresh_token": "-", "token_type": "bearer"}

    @app.get("/api/v1/catalog")
    def catalog() -> dict[str, Any]:
        return {"activities": []}

    @app.post("/api/v1/completions")
    def completions(body: _Batch, request: Request) -> dict[str, Any]:
        rows = [{"id": str(item.get("id")), "body_json": request.headers.get("content-length", "")}
                for item in body.completions]
        with engine.begin() as con:
            con.execute(insert(floor_completions).values(rows).on_conflict_do_nothing(index_elements=["id"]))
        results = [{"index": i, "id": row["id"], "status": "accepted", "certificate_id": uuid.uuid4().hex}
                   for i, row in enumerate(rows)]
        return {"results": results, "accepted": len(results), "duplicate": 0, "rejected": 0}

    return app
