"""The credit-server API client: one method per endpoint, typed with the shared protocol.

Every response is read with a size cap and validated before anything uses it; every
failure becomes a `CmeError` whose message says what to do.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from cmecore import protocol
from cmecore.pack_issue import IssuedPack, PackIssueRequest
from desktop.errors import (
    CertificateNotReady,
    TooManySignIns,
    InvalidResponse,
    ServerFailed,
    ServerUnreachable,
    ReplyBrokenOff,
    AccessExpired,
    SignInRequired,
    CmeError,
    WrongCredentials,
)
from desktop.sync.http import IDEMPOTENT

M = TypeVar("M", bound=BaseModel)

DEFAULT_MAX_JSON_BYTES = 2 * 1024 * 1024  # everything but the catalog is small


@dataclass(frozen=True)
class Reply:
    status: int
    headers: httpx.Headers
    body: bytes
    clock_offset_ms: int | None  # server Date minus local time


@dataclass(frozen=True)
class CatalogReply:
    catalog: protocol.Catalog | None  # None: not modified since the ETag we sent
    etag: str | None
    clock_offset_ms: int | None


class CreditServerApi:
    def __init__(self, client: httpx.Client, *, max_catalog_bytes: int = 64 * 1024 * 1024):
        self.client = client
        self.max_catalog_bytes = max_catalog_bytes

    # ------------------------------------------------------------ endpoints

    def token(self, username: str, password: str, device_name: str) -> protocol.TokenResponse:
        body = protocol.TokenRequest(username=username, password=password, device_name=device_name)
        reply = self._send("POST", "/auth/token", json=body.model_dump())
        if reply.status in (400, 401, 403):
            raise WrongCredentials()
        if reply.status == 429:
            raise TooManySignIns(_wait_message(reply.headers.get("Retry-After")))
        self._raise_for_status(reply)
        return _parse(protocol.TokenResponse, reply.body, "sign-in reply")

    def refresh(self, refresh_token: str) -> protocol.TokenResponse:
        reply = self._send("POST", "/auth/refresh", json={"refresh_token": refresh_token})
        if reply.status in (400, 401, 403):
            raise SignInRequired()
        self._raise_for_status(reply)
        return _parse(protocol.TokenResponse, reply.body, "token refresh reply")

    def revoke(self, refresh_token: str) -> None:
        reply = self._send("POST", "/auth/revoke", json={"refresh_token": refresh_token})
        if reply.status not in (200, 204, 401):  # already dead is as good as revoked
            self._raise_for_status(reply)

    def me(self, access_token: str) -> protocol.LearnerProfile:
        reply = self._send("GET", "/me", token=access_token)
        self._raise_for_status(reply)
        return _parse(protocol.LearnerProfile, reply.body, "profile")

    def catalog(self, access_token: str, *, since: int | None, etag: str | None) -> CatalogReply:
        headers = {"If-None-Match": etag} if etag else {}
        params = {"since": str(since)} if since is not None else None
        reply = self._send(
            "GET", "/catalog", token=access_token, headers=headers, params=params,
            max_bytes=self.max_catalog_bytes,
        )
        if reply.status == 304:
            return CatalogReply(None, etag, reply.clock_offset_ms)
        self._raise_for_status(reply)
        catalog = _parse(protocol.Catalog, reply.body, "catalog")
        _check_catalog(catalog)
        return CatalogReply(catalog, reply.headers.get("ETag"), reply.clock_offset_ms)

    # ------------------------------------------------------------ earning credit

    def post_completions(self, access_token: str, payloads: list[dict]) -> protocol.CompletionBatchResult:
        """`POST /completions` with a batch of CompletionIn (already JSON-ready dicts, sent as stored)."""
        reply = self._send("POST", "/completions", token=access_token, json={"completions": payloads},
                           max_bytes=16 * 1024 * 1024, idempotent=True)  # the server keeps each id once
        self._raise_for_status(reply)
        result = _parse(protocol.CompletionBatchResult, reply.body, "completion results")
        if len(result.results) != len(payloads):
            raise InvalidResponse(
                f"The server answered {len(result.results)} results for {len(payloads)} completions; "
                "they were kept and will be sent again."
            )
        return result

    def my_completions(self, access_token: str) -> protocol.MyCompletions:
        reply = self._send("GET", "/me/completions", token=access_token, max_bytes=64 * 1024 * 1024)
        self._raise_for_status(reply)
        return _parse(protocol.MyCompletions, reply.body, "list of your completions")

    def certificate_pdf(self, access_token: str, certificate_id: str) -> bytes:
        reply = self._send("GET", f"/certificates/{_cert_id(certificate_id)}", token=access_token,
                           headers={"Accept": "application/pdf"}, max_bytes=32 * 1024 * 1024)
        if reply.status == 503 and _problem_type(reply.body) == protocol.ProblemType.certificate_not_ready:
            raise CertificateNotReady(retry_after=_seconds(reply.headers.get("Retry-After")))
        self._raise_for_status(reply)
        if not reply.body.startswith(b"%PDF"):
            raise InvalidResponse("The server's certificate is not a PDF; it was not kept.")
        return reply.body

    def certificate_credential(self, access_token: str, certificate_id: str) -> dict:
        reply = self._send("GET", f"/certificates/{_cert_id(certificate_id)}.json", token=access_token)
        self._raise_for_status(reply)
        return _json_object(reply.body, "signed certificate")

    def signed_activity(self, access_token: str, activity_id: str) -> protocol.SignedActivity:
        """`GET /activities/{id}/signed`: the activity as published, with the server's signature (content packs)."""
        if not isinstance(activity_id, str) or not activity_id.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise InvalidResponse(f"{activity_id!r} is not an activity id.")
        reply = self._send("GET", f"/activities/{activity_id}/signed", token=access_token,
                           max_bytes=self.max_catalog_bytes)
        self._raise_for_status(reply)
        return _parse(protocol.SignedActivity, reply.body, "signed activity")

    def pack_issue(self, access_token: str, activity_ids: list[str]) -> IssuedPack:
        """`POST /packs/issue`: these activities as published, each signed, and the pack's issue
        (catalog revision, time, each activity's digest) signed over them all."""
        request = PackIssueRequest(activity_ids=activity_ids)
        reply = self._send("POST", "/packs/issue", token=access_token, json=request.model_dump(),
                           max_bytes=self.max_catalog_bytes, idempotent=True)  # changes nothing on the server
        self._raise_for_status(reply)
        issued = _parse(IssuedPack, reply.body, "signed pack issue")
        if len(issued.activities) != len(request.activity_ids):
            raise InvalidResponse("The server's signed pack does not hold the activities asked for; no pack was written.")
        return issued

    def info(self) -> protocol.ServerInfo:
        """`GET /info`: the server's name and time; no token, a few bytes (the reachability probe)."""
        reply = self._send("GET", "/info")
        self._raise_for_status(reply)
        return _parse(protocol.ServerInfo, reply.body, "server information")

    def status_list(self, url: str) -> dict:
        """`GET /status/{n}` (no sign-in): the revocation list a credential names. The list is
        asked of the server this client is set up for, whatever host the URL names (the
        server's public address may not be the one this computer reaches it at)."""
        path = urlsplit(url).path if isinstance(url, str) else ""
        rest = path[len(protocol.API_PREFIX):] if path.startswith(protocol.API_PREFIX + "/status/") else ""
        if not rest[len("/status/"):].isdigit():
            raise InvalidResponse(f"{url!r} is not this credit server's revocation list.")
        reply = self._send("GET", rest, max_bytes=4 * 1024 * 1024)
        self._raise_for_status(reply)
        return _json_object(reply.body, "revocation list")

    def keys(self) -> protocol.SigningKeys:
        reply = self._send("GET", "/keys")
        self._raise_for_status(reply)
        return _parse(protocol.SigningKeys, reply.body, "signing keys")

    # ------------------------------------------------------------ plumbing

    def _send(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: dict | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        max_bytes: int = DEFAULT_MAX_JSON_BYTES,
        idempotent: bool = False,
    ) -> Reply:
        """`idempotent`: a POST the server acts on once however often it is sent, so the client
        may send it again on a fresh connection (desktop/sync/http.py)."""
        all_headers = {"Accept": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        started = time.time()
        answering = False  # the reply's head has arrived: the server was reached
        try:
            with self.client.stream(
                method, protocol.API_PREFIX + path, json=json, headers=all_headers, params=params,
                extensions={IDEMPOTENT: True} if idempotent else None,
            ) as response:
                answering = True
                body = _read_capped(response, max_bytes)
        except httpx.TransportError as exc:
            if answering:
                raise ReplyBrokenOff(
                    f"The credit server's reply broke off part-way ({_describe(exc)}), so nothing from it "
                    "was used. Try again."
                ) from exc
            raise ServerUnreachable(
                f"The credit server cannot be reached ({_describe(exc)}). You can keep studying "
                "offline; the app will sync when the network is back."
            ) from exc
        except httpx.DecodingError as exc:
            # Not a TransportError: a body labelled gzip/deflate/br that is not (a proxy's doing).
            raise InvalidResponse(
                "The credit server's reply could not be decoded (something on the network may have "
                "changed it), so it was refused and nothing was changed. Try again later."
            ) from exc
        offset = _clock_offset_ms(response.headers.get("Date"), (started + time.time()) / 2)
        return Reply(response.status_code, response.headers, body, offset)

    @staticmethod
    def _raise_for_status(reply: Reply) -> None:
        if 200 <= reply.status < 300:
            return
        title = _problem_title(reply.body)
        if reply.status == 401:
            raise AccessExpired()
        if reply.status >= 500:
            raise ServerFailed(
                f"The credit server had a problem ({reply.status}{': ' + title if title else ''}). "
                "Nothing here was changed; try again later."
            )
        raise ServerFailed(
            f"The credit server refused the request ({reply.status}{': ' + title if title else ''})."
        )


def _wait_message(retry_after: str | None) -> str:
    """The 429 at sign-in in words, with the server's wait (Retry-After seconds) rounded up."""
    try:
        seconds = max(1, int(retry_after or ""))
    except ValueError:
        return TooManySignIns.message
    wait = f"{seconds} seconds" if seconds < 90 else f"{-(-seconds // 60)} minutes"
    return f"Too many failed sign-ins for this name. Wait {wait}, then try again (the password was not checked)."


def _seconds(retry_after: str | None) -> float | None:
    """A Retry-After in seconds (the server sends seconds, not a date); None if it is not one."""
    try:
        return max(0.0, float(int(retry_after or "")))
    except ValueError:
        return None


def _cert_id(certificate_id: str) -> str:
    if not isinstance(certificate_id, str) or len(certificate_id) != 32 or any(c not in "0123456789abcdef" for c in certificate_id):
        raise InvalidResponse(f"{certificate_id!r} is not a certificate id.")
    return certificate_id


def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise InvalidResponse(_too_big(max_bytes))
    chunks, total = [], 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > max_bytes:
            raise InvalidResponse(_too_big(max_bytes))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_big(max_bytes: int) -> str:
    return (
        f"The credit server sent a reply larger than {max_bytes // (1024 * 1024) or 1} MB, "
        "so it was refused and nothing was changed. Tell your provider."
    )


def _parse(model: type[M], body: bytes, what: str) -> M:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        where += _naming_activity(body, first["loc"])
        raise InvalidResponse(
            f"The server's {what} is malformed at {where}: {first['msg']}. "
            "It was refused and nothing was changed."
        ) from exc


def _naming_activity(body: bytes, loc: tuple) -> str:
    """' (activity "x")' when the error sits inside a catalog entry that has a readable id."""
    if len(loc) < 2 or loc[0] != "activities" or not isinstance(loc[1], int):
        return ""
    try:
        entry = json.loads(body)["activities"][loc[1]]
        return f" (activity {str(entry['id'])[:80]!r})"
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


def _check_catalog(catalog: protocol.Catalog) -> None:
    seen: set[str] = set()
    for activity in catalog.activities:
        if activity.id in seen:
            raise InvalidResponse(
                f"The server's catalog lists activity {activity.id!r} twice. "
                "It was refused and nothing was changed."
            )
        seen.add(activity.id)


def _problem_title(body: bytes) -> str:
    return _problem_field(body, "title")[:200]


def _problem_type(body: bytes) -> str:
    return _problem_field(body, "type")


def _problem_field(body: bytes, name: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if isinstance(data, dict):
        return str(data.get(name) or "")
    return ""


def _clock_offset_ms(date_header: str | None, local_epoch_s: float) -> int | None:
    if not date_header:
        return None
    try:
        server = parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        return None
    if server.tzinfo is None:
        server = server.replace(tzinfo=timezone.utc)
    local = datetime.fromtimestamp(local_epoch_s, tz=timezone.utc)
    return round((server - local).total_seconds() * 1000)


def _describe(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
            return "its security certificate is not trusted; IT can add the corporate CA in Settings"
        return "connection refused or no network"
    if isinstance(exc, (httpx.ProtocolError, httpx.ReadError, httpx.WriteError, httpx.CloseError)):
        return "the connection broke off"
    return "a network error"


__all__ = ["CreditServerApi", "CatalogReply", "CmeError"]


def _json_object(body: bytes, what: str) -> dict:
    """`body` as a JSON object, or InvalidResponse saying the server's `what` was not kept."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise InvalidResponse(f"The server's {what} is not JSON; it was not kept.") from exc
    if not isinstance(doc, dict):
        raise InvalidResponse(f"The server's {what} is not a JSON object; it was not kept.")
    return doc
