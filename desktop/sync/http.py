"""The one place an HTTP client is built: TLS always verified, proxies from policy or the OS.

The OS trust store is used through truststore, so hospitals whose proxy re-signs TLS
with a corporate CA work once IT has installed that CA; an extra PEM bundle can be added
from settings. There is deliberately no way to turn verification off.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import truststore

from desktop import __version__

USER_AGENT = f"CME-Offline/{__version__}"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, read=30.0)


def tls_context(extra_ca_bundle: str | Path | None = None) -> ssl.SSLContext:
    ctx = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if extra_ca_bundle:
        ctx.load_verify_locations(cafile=str(extra_ca_bundle))
    return ctx


def build_client(
    base_url: str,
    *,
    extra_ca_bundle: str | Path | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    proxy: str | None = None,
) -> httpx.Client:
    """`proxy`: an explicit proxy URL (machine policy or settings) for every request; without
    it the environment (HTTPS_PROXY, NO_PROXY) and the OS settings apply. PAC files are not read."""
    return httpx.Client(
        base_url=base_url,
        verify=tls_context(extra_ca_bundle),
        timeout=timeout,
        proxy=proxy or None,
        trust_env=True,  # HTTPS_PROXY / NO_PROXY and the OS proxy settings (an explicit proxy wins)
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
    )
