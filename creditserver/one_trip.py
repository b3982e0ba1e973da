"""One trip to the thread pool per request, for the routes a deadline rush hits.

FastAPI runs a plain (`def`) route on its thread pool, and each plain dependency, and then
checks the route's answer against its `response_model` on the pool again: a route with a
token dependency makes three trips. Each trip waits at the back of the pool's queue, so in
a rush of 500 batches every request waited for all the others' earlier steps and every
answer came at the end (p50 ≈ p99 in the load bench). `@one_trip` makes the route an async
function that runs the plain one in ONE trip (it checks its own token, in its own
transaction: auth.learner_for_token) and sends a pydantic answer as JSON itself.
tests/server/test_serve_workers.py holds every other route to plain functions."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from fastapi import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool


def one_trip(work: Callable[..., Any]) -> Callable[..., Any]:
    """`work` (a plain route function: same parameters, FastAPI reads them through the
    wrapper) as an async route making one trip to the thread pool. A pydantic answer goes
    out as its JSON (by alias, as FastAPI would send it), a Response as it is."""

    @functools.wraps(work)
    async def route(*args: Any, **kwargs: Any) -> Any:
        answer = await run_in_threadpool(work, *args, **kwargs)
        if isinstance(answer, BaseModel):
            return Response(answer.model_dump_json(by_alias=True), media_type="application/json")
        return answer

    route.one_trip = True  # type: ignore[attr-defined]  # what tests/server look for
    return route
