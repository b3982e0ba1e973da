"""The current credit server: its address, and (built on first use) the HTTP client, the API
client and the `Account` that hands out access tokens for it.

Every service that talks to the server gets this one object, so a new server address or new
TLS/proxy settings take effect everywhere at once: `reset()` drops the client and the next
use builds a fresh one. `networked(call)` runs one network operation at a time.

`online` is what the last request to the server showed, whoever made it: every client
built here reports each request's outcome (sync/http.py) to `reached`, which keeps the
flag and tells `on_online_change` listeners when it flips — the status bar, and the
courier that probes while offline and sends waiting claims when the server is back.
Listeners are called on the thread that made the request.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from typing import TypeVar

import httpx

from desktop.cache.db import Database
from desktop.errors import NoServerConfigured, ServerUnreachable
from desktop.services.config import ConfigService
from desktop.sync.account import Account
from desktop.sync.api import CreditServerApi
from desktop.sync.credentials import TokenVault
from desktop.sync.http import DEFAULT_TIMEOUT, ReportingClient, build_client

log = logging.getLogger(__name__)

T = TypeVar("T")


class Connection:
    def __init__(self, db: Database, config: ConfigService):
        self.db = db
        self.config = config  # the server address and the TLS, proxy and size settings, read on each build
        self._online: bool | None = None  # None: not tried since start
        self._online_lock = threading.Lock()
        # Told `online` (True/False) when it flips, on the thread whose request flipped it.
        self.on_online_change: list[Callable[[bool], None]] = []
        self.lock = threading.Lock()  # one network operation at a time (sync, sign-in, delivery)
        self._http: httpx.Client | None = None
        self._api: CreditServerApi | None = None
        self._account: Account | None = None

    @property
    def online(self) -> bool | None:
        """Whether the last request to the server got through (None: none made to this server
        since start or since its address changed)."""
        return self._online

    def reached(self, reached: bool) -> None:
        """A request to the server was answered (True, even if the reply then broke off) or got no
        reply at all (False)."""
        with self._online_lock:
            flipped = self._online != reached
            self._online = reached
        if not flipped:
            return
        for listener in list(self.on_online_change):
            try:
                listener(reached)
            except Exception:  # one listener's bug must not fail the request or hide the flip from others
                log.exception("a listener for the connection state failed")

    @property
    def server_url(self) -> str | None:
        return self.config.server_url

    def require_server(self) -> str:
        if not self.server_url:
            raise NoServerConfigured()
        return self.server_url

    def api(self) -> CreditServerApi:
        if self._api is None:
            self._http = self.new_client()
            self._api = CreditServerApi(self._http, max_catalog_bytes=self.config.settings.max_catalog_mb * 1024 * 1024)
        return self._api

    def account(self) -> Account:
        """Sign-in and access tokens for the current server; NoServerConfigured without one."""
        if self._account is None:
            server = self.require_server()
            self._account = Account(self.db, self.api(), TokenVault(server), server, device_name())
        return self._account

    def new_client(self, timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.Client:
        """A fresh HTTP client for the current server with the effective CA bundle and proxy
        (downloads and prefetch use their own, with their own timeouts); the caller closes it."""
        settings = self.config.settings
        server = self.require_server()
        return build_client(
            server, extra_ca_bundle=settings.extra_ca_bundle, proxy=settings.proxy, timeout=timeout,
            on_reach=self.reached_for(server),
        )

    def reached_for(self, server: str) -> Callable[[bool], None]:
        """`reached`, for requests to `server` only: a request to an address the app has since
        left (a sync still finishing after the server was changed) says nothing about the new one."""
        def reached(ok: bool) -> None:
            if server == self.server_url:
                self.reached(ok)
        return reached

    def use_http_client(self, client: httpx.Client) -> None:
        """Talk to the server through `client` from now on (e.g. one with other timeouts)."""
        self.reset()
        if isinstance(client, ReportingClient) and client.on_reach is None:
            client.on_reach = self.reached
        self._http = client
        self._api = CreditServerApi(client)

    def networked(self, call: Callable[[], T]) -> T:
        """Run one network operation (sync, sign-in, delivery) while no other runs. `online`
        follows its requests by itself; a ServerUnreachable it raises says offline too."""
        with self.lock:
            server = self.server_url
            try:
                return call()
            except ServerUnreachable:
                self.reached_for(server)(False)
                raise

    def reset(self, changed: set[str] | None = None) -> None:
        """Drop the HTTP client, API and account (a new server or new settings): rebuilt on next use.
        A new server address also forgets `online` (None until a request to it answers): what
        the old server did says nothing about the new one. No listener is told of that: None
        is not a flip, and the next request's outcome is (from None, either way)."""
        if self._http is not None:
            self._http.close()
        self._http = self._api = self._account = None
        if changed and "server_url" in changed:
            with self._online_lock:
                self._online = None

    close = reset


def device_name() -> str:
    return f"CME Offline on {socket.gethostname()}"[:200]
