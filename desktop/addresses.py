"""Which server and proxy addresses the app will use: the one rule for policy, settings and
`--server`, and for where a download may be fetched from (`may_download_from`).

A learner's password and records go to the credit server, so its address must be
`https://` — plain `http://` only for this computer itself (localhost, 127.0.0.0/8, ::1:
the built-in demo, a test server), where nothing crosses a network. A user name or password
written into an address (`https://user:pass@host`) would sit in `settings.json` and be
printed wherever the address is; it is refused: sign-in secrets live in the OS keyring, and
a proxy's password in the OS proxy settings (or `HTTPS_PROXY`). Wherever an address is
printed anyway, `desktop.logs.redact` hides such a part.

Standard library only (policy and settings load before anything heavy).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from cmecore.addresses import is_loopback
from desktop.errors import BadServerAddress, CleartextRefused, CredentialsInAddress
from desktop.logs import redact

PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


def check_server_address(url: str) -> str:
    """The credit server's address, normalised (`https://cme.example.org/` and
    `https://cme.example.org` name one server).

    Raises BadServerAddress when it is not an http(s) address with a host,
    CredentialsInAddress when it holds a user name or password, CleartextRefused for
    `http://` to a host other than this computer (all ConfigErrors).
    """
    url = url.strip().rstrip("/")
    parts = _split(url)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadServerAddress(
            f"That server address is not valid: it must start with https:// (got {redact(repr(url))}). "
            "It should look like https://cme.example.org"
        )
    _refuse_credentials(url, parts, "server")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise CleartextRefused(
            f"The server address {redact(url)} starts with http://, which would send your password and "
            "records unencrypted over the network. Use the https:// address your provider gave you "
            "(http:// is accepted only for this computer: localhost, 127.0.0.1 or ::1)."
        )
    return url


def check_proxy_address(url: str) -> str:
    """An explicit proxy's address (http, https, socks5, socks5h), stripped. A proxy may be
    `http://` on the network (HTTPS goes through it end to end), but holds no password.
    Raises BadServerAddress or CredentialsInAddress."""
    url = url.strip()
    parts = _split(url)
    if parts is None or parts.scheme not in PROXY_SCHEMES or not parts.hostname:
        raise BadServerAddress(
            f"That proxy address is not valid (got {redact(repr(url))}): it must look like "
            "http://proxy.example.org:8080", code="bad-proxy-address")
    _refuse_credentials(url, parts, "proxy")
    return url


def may_download_from(url: str) -> bool:
    """Whether a file may be fetched from `url`: an asset's absolute address, or where the
    server redirects a download (a static server, a CDN). The server's rule: `https://`, or
    `http://` to this computer only; no user name or password in it."""
    parts = _split(url)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return False
    return parts.scheme == "https" or is_loopback(parts.hostname)


def _split(url: str):
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        return None
    return parts


def _refuse_credentials(url: str, parts, what: str) -> None:
    if parts.username is None and parts.password is None and "@" not in parts.netloc:
        return
    where = ("the sign-in is kept in this computer's keyring after you sign in" if what == "server"
             else "give the proxy's user name and password in the operating system's proxy settings or HTTPS_PROXY")
    raise CredentialsInAddress(
        f"The {what} address {redact(url)} has a user name or password in it, which would be stored and "
        f"shown in plain text. Remove the part before the @: {where}."
    )
