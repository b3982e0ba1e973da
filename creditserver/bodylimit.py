"""Request bodies over a size limit are refused with 413 before anything parses them.

FastAPI reads a whole JSON body into memory and parses it before a route runs, so without
a limit one unauthenticated request can make the server hold many times its size. This
pure ASGI middleware refuses a body whose Content-Length is over `max_bytes` without
reading it, and counts the bytes of a streamed (chunked) body as they arrive, stopping
at the first byte over. The default is far above a full batch of completions.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException

from cmecore.protocol import Problem

from .problems import PAYLOAD_TOO_LARGE, problem_body

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024


class _TooLarge(HTTPException):
    """Raised from `receive` mid-body. An HTTPException, because FastAPI passes those on
    from body reading (and turns anything else into a 400)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, _detail(max_bytes))


def _detail(max_bytes: int) -> str:
    return f"This server accepts request bodies up to {max_bytes} bytes; send less at a time."


def _problem(max_bytes: int) -> bytes:
    return problem_body(
        Problem(
            type=PAYLOAD_TOO_LARGE,
            title="Request body too large",
            status=413,
            detail=_detail(max_bytes),
        )
    )


class BodyLimitMiddleware:
    def __init__(self, app, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name.lower() == b"content-length" and value.strip().isdigit() and int(value) > self.max_bytes:
                await self._refuse(send)
                return
        received = 0
        started = False

        async def _receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        async def _send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, _receive, _send)
        except _TooLarge:
            if started:
                raise
            await self._refuse(send)

    async def _refuse(self, send) -> None:
        body = _problem(self.max_bytes)
        await send({
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        })
        await send({"type": "http.response.body", "body": body})
