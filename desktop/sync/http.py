"""The one place an HTTP client is built: TLS always verified, proxies from policy or the OS;
and the one place that sees every request to the credit server succeed or fail.

The OS trust store is used through truststore, so hospitals whose proxy re-signs TLS
with a corporate CA work once IT has installed that CA; an extra PEM bundle can be added
from settings. There is deliberately no way to turn verification off.

Whether the server can be reached is learnt from real traffic, not guessed: every client
built here tells its `on_reach(bool)` after each request to the server's own host. A reply
that began (its status line and headers arrived, even with an error status) proves the
server was reached: True, and a body that then breaks off changes nothing (the caller
treats the cut as an error to resume or retry; the next request tells again). Only a
request that got no reply at all (no connection, refused, no answer in time, cut before
the headers) tells False. So a download cut every few megabytes stays "online", and a
stopped server shows as offline at its first failed request. API calls, downloads,
delivery, sign-in and probes all go through it, so the status bar follows the last request
whoever made it. Requests to other hosts (a download redirected to a CDN) say nothing
about the credit server and are not told.

A connection kept open between requests may be closed by the server (or a proxy) just as a
request goes out on it: the request then fails before any reply arrives, though nothing
is wrong. So a request that fails that way on a reused connection is sent once more, on a
new one, when sending it twice is harmless: a GET, HEAD, PUT, DELETE or OPTIONS, or a POST
marked IDEMPOTENT (the completions, which the server keeps once each by id). A failure on
a new connection, or once any of the reply has come, is the caller's to handle. Idle
connections are given up after KEEPALIVE_EXPIRY_S, well before the credit server closes
them (creditserver/serving.py KEEP_ALIVE_S = 75 s), so the race is rare in the first place.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import truststore

from desktop import __version__
from desktop.ca_bundle import read_ca_bundle

log = logging.getLogger(__name__)

USER_AGENT = f"CME-Offline/{__version__}"
_CA_WARNED: set[str] = set()
DEFAULT_TIMEOUT = httpx.Timeout(10.0, read=30.0)
KEEPALIVE_EXPIRY_S = 30.0  # below the server's keep-alive (module docstring)
# A request extension: `extensions={IDEMPOTENT: True}` marks a POST as safe to send twice.
IDEMPOTENT = "cme.idempotent"
_REPEATABLE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


def tls_context(extra_ca_bundle: str | Path | None = None) -> ssl.SSLContext:
    """The OS trust store, plus the extra CA bundle if it can be used. One that cannot (gone,
    not PEM) is left out with a log line: certificates are still checked, against the OS
    store alone, and the server's own error says what failed."""
    ctx = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if extra_ca_bundle:
        try:
            ctx.load_verify_locations(cadata=read_ca_bundle(extra_ca_bundle))
        except ValueError as exc:
            if str(exc) not in _CA_WARNED:  # once per process, not once per client built
                _CA_WARNED.add(str(exc))
                log.warning("%s; using the operating system's certificate store only", exc)
    return ctx


def build_client(
    base_url: str,
    *,
    extra_ca_bundle: str | Path | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    proxy: str | None = None,
    on_reach: Callable[[bool], None] | None = None,
) -> ReportingClient:
    """`proxy`: an explicit proxy URL (machine policy or settings) for every request; without
    it the environment (HTTPS_PROXY, NO_PROXY) and the OS settings apply. PAC files are not read.
    `on_reach`: told whether each request to the server got through (module docstring)."""
    return ReportingClient(
        on_reach=on_reach,
        base_url=base_url,
        verify=tls_context(extra_ca_bundle),
        timeout=timeout,
        proxy=proxy or None,
        trust_env=True,  # HTTPS_PROXY / NO_PROXY and the OS proxy settings (an explicit proxy wins)
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20,  # httpx's defaults
                            keepalive_expiry=KEEPALIVE_EXPIRY_S),
    )


class ReportingClient(httpx.Client):
    """An httpx.Client that tells `on_reach` how each request to its base URL's host went."""

    def __init__(self, *, on_reach: Callable[[bool], None] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.on_reach = on_reach

    def send(self, request: httpx.Request, **kwargs) -> httpx.Response:
        seen = _ConnectionTrace(request.extensions.get("trace"))
        try:
            response = self._send_once_more_if_stale(request, seen, **kwargs)
        except httpx.TransportError as exc:
            # A reply that began shows the server was reached, however its body ended.
            self._tell(_failed_url(exc, request), seen.reply_started)
            raise
        self._tell(response.url, True)
        return response

    def _send_once_more_if_stale(self, request: httpx.Request, seen: _ConnectionTrace, **kwargs) -> httpx.Response:
        """Send; if a kept-open connection turns out closed before any reply, once more (module docstring)."""
        try:
            with _traced(request, seen):
                return super().send(request, **kwargs)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            if seen.new_connection or seen.reply_started or not _repeatable(request):
                raise
            log.info("%s %s: the kept-open connection was closed (%s); sending it again", request.method,
                     request.url.path, type(exc).__name__)
        with _traced(request, seen):
            return super().send(request, **kwargs)

    def _tell(self, url: httpx.URL, reached: bool) -> None:
        if self.on_reach is None or (url.host, url.port) != (self.base_url.host, self.base_url.port):
            return
        try:
            self.on_reach(reached)
        except Exception:  # a listener's bug must not turn into a failed request
            log.exception("telling whether the server was reached failed")


class _ConnectionTrace:
    """httpcore's trace hook for one request: whether it opened a new connection, and
    whether the reply's head arrived. Passes every event on to the caller's own hook."""

    def __init__(self, outer: Callable[[str, dict], None] | None) -> None:
        self.outer = outer
        self.new_connection = False
        self.reply_started = False

    def __call__(self, event: str, info: dict) -> None:
        if event.endswith((".connect_tcp.started", ".connect_unix_socket.started")):
            self.new_connection = True
        elif event.endswith(".receive_response_headers.complete"):
            self.reply_started = True
        if self.outer is not None:
            self.outer(event, info)


@contextmanager
def _traced(request: httpx.Request, seen: _ConnectionTrace) -> Iterator[None]:
    """`seen` as the request's trace hook while it is sent; the caller's own hook after."""
    request.extensions["trace"] = seen
    try:
        yield
    finally:
        if seen.outer is None:
            del request.extensions["trace"]
        else:
            request.extensions["trace"] = seen.outer


def _repeatable(request: httpx.Request) -> bool:
    """Whether sending `request` twice is harmless, and its body can be sent again."""
    safe = request.method in _REPEATABLE_METHODS or request.extensions.get(IDEMPOTENT) is True
    return safe and isinstance(request.stream, httpx.ByteStream)


def _failed_url(exc: httpx.TransportError, request: httpx.Request) -> httpx.URL:
    """The URL that failed: after a redirect, not the one first asked for."""
    try:
        return exc.request.url
    except RuntimeError:  # raised before a request was attached
        return request.url
