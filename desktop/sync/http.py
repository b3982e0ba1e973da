"""The one place an HTTP client is built: TLS always verified, proxies from policy or the OS;
and the one place that sees every request to the credit server succeed or fail.

The OS trust store is used through truststore, so hospitals whose proxy re-signs TLS
with a corporate CA work once IT has installed that CA; an extra PEM bundle can be added
from settings. There is deliberately no way to turn verification off.

Whether the server can be reached is learnt from real traffic, not guessed: every client
built here tells its `on_reach(bool)` after each request to the server's own host (any
answer, even an error status: True; a network failure, including a reply cut off
mid-body: False). API calls, downloads, delivery, sign-in and probes all go through it,
so the status bar follows the last request whoever made it. Requests to other hosts (a
download redirected to a CDN) say nothing about the credit server and are not told.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import truststore

from desktop import __version__
from desktop.ca_bundle import read_ca_bundle

log = logging.getLogger(__name__)

USER_AGENT = f"CME-Offline/{__version__}"
_CA_WARNED: set[str] = set()
DEFAULT_TIMEOUT = httpx.Timeout(10.0, read=30.0)


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
    )


class ReportingClient(httpx.Client):
    """An httpx.Client that tells `on_reach` how each request to its base URL's host went."""

    def __init__(self, *, on_reach: Callable[[bool], None] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.on_reach = on_reach

    def send(self, request: httpx.Request, **kwargs) -> httpx.Response:
        try:
            response = super().send(request, **kwargs)
        except httpx.TransportError as exc:
            self._tell(_failed_url(exc, request), False)
            raise
        self._tell(response.url, True)
        if kwargs.get("stream"):  # the body is read later: a break in it is a failure too
            response.stream = _ReportingStream(response.stream, lambda: self._tell(response.url, False))
        return response

    def _tell(self, url: httpx.URL, reached: bool) -> None:
        if self.on_reach is None or (url.host, url.port) != (self.base_url.host, self.base_url.port):
            return
        try:
            self.on_reach(reached)
        except Exception:  # a listener's bug must not turn into a failed request
            log.exception("telling whether the server was reached failed")


class _ReportingStream(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream, broke: Callable[[], None]):
        self.stream = stream
        self.broke = broke

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.stream
        except httpx.TransportError:
            self.broke()
            raise

    def close(self) -> None:
        self.stream.close()


def _failed_url(exc: httpx.TransportError, request: httpx.Request) -> httpx.URL:
    """The URL that failed: after a redirect, not the one first asked for."""
    try:
        return exc.request.url
    except RuntimeError:  # raised before a request was attached
        return request.url
