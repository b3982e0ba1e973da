"""RFC 9457 problem details for every error the server returns.

Each kind of error has a stable `type` URI that clients may switch on; the `title` is
plain words for a person. All of them are documented in docs/protocol.md.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from cmecore.protocol import PROBLEM_TYPE_BASE, Problem, ProblemType

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = PROBLEM_TYPE_BASE

# The stable type URIs; defined once in the protocol so clients can switch on them.
UNAUTHORIZED = ProblemType.unauthorized.value
INVALID_CREDENTIALS = ProblemType.invalid_credentials.value
TOKEN_EXPIRED = ProblemType.token_expired.value
TOKEN_REVOKED = ProblemType.token_revoked.value
NOT_FOUND = ProblemType.not_found.value
METHOD_NOT_ALLOWED = ProblemType.method_not_allowed.value
INVALID_REQUEST = ProblemType.invalid_request.value
RANGE_NOT_SATISFIABLE = ProblemType.range_not_satisfiable.value
SERVER_ERROR = ProblemType.server_error.value
PAYLOAD_TOO_LARGE = ProblemType.payload_too_large.value
TOO_MANY_SIGN_INS = ProblemType.too_many_sign_ins.value
ACTIVITY_WITHDRAWN = ProblemType.activity_withdrawn.value
CERTIFICATE_NOT_READY = ProblemType.certificate_not_ready.value
HTTP_ERROR = "about:blank"

ALL_TYPES = (
    UNAUTHORIZED,
    INVALID_CREDENTIALS,
    TOKEN_EXPIRED,
    TOKEN_REVOKED,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    INVALID_REQUEST,
    RANGE_NOT_SATISFIABLE,
    PAYLOAD_TOO_LARGE,
    TOO_MANY_SIGN_INS,
    ACTIVITY_WITHDRAWN,
    CERTIFICATE_NOT_READY,
    SERVER_ERROR,
)

_TYPE_BY_STATUS = {
    404: NOT_FOUND, 405: METHOD_NOT_ALLOWED, 413: PAYLOAD_TOO_LARGE, 416: RANGE_NOT_SATISFIABLE, 422: INVALID_REQUEST,
}

log = logging.getLogger(__name__)


class ProblemError(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        *,
        type: str | None = None,
        detail: str = "",
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}" if detail else f"{status} {title}")
        self.problem = Problem(type=type or _TYPE_BY_STATUS.get(status, HTTP_ERROR), title=title, status=status, detail=detail)
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def problem_body(problem: Problem, extra: Mapping[str, Any] | None = None) -> bytes:
    doc = problem.model_dump(mode="json")
    if extra:
        doc.update(extra)
    return json.dumps(doc, ensure_ascii=False).encode()


def problem_response(problem: Problem, headers: Mapping[str, str] | None = None, extra: Mapping[str, Any] | None = None):
    return Response(
        problem_body(problem, extra),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def install(app) -> None:
    """Make every error FastAPI/Starlette can produce come out as problem+json."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError):
        return problem_response(exc.problem, exc.headers, exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        try:
            phrase = HTTPStatus(exc.status_code).phrase
        except ValueError:
            phrase = "Error"
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else ""
        problem = Problem(type=_TYPE_BY_STATUS.get(exc.status_code, HTTP_ERROR), title=phrase, status=exc.status_code, detail=detail)
        return problem_response(problem, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [
            {"loc": ".".join(str(p) for p in err.get("loc", ())), "msg": err.get("msg", "")}
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"loc": "", "msg": "invalid request"}
        problem = Problem(
            type=INVALID_REQUEST,
            title="The request is not valid",
            status=422,
            detail=f"{first['loc']}: {first['msg']}" if first["loc"] else first["msg"],
        )
        return problem_response(problem, extra={"errors": errors})


class CatchAllMiddleware:
    """Turns an unhandled exception into a 500 problem (when nothing was sent yet)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def _send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, _send)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            body = problem_body(
                Problem(type=SERVER_ERROR, title="Internal server error", status=500,
                        detail="The server failed to handle this request; it has been logged.")
            )
            await send({
                "type": "http.response.start",
                "status": 500,
                "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())],
            })
            await send({"type": "http.response.body", "body": body})
