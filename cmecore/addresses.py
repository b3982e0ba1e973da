"""Which hosts are this computer: the one rule behind "plain http:// only to loopback",
shared by the desktop (server, proxy and download addresses) and the credit server (its
media base URL, its LRS address)."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str | None) -> bool:
    """Whether `host` names this computer: `localhost`, 127.0.0.0/8 or ::1 (brackets allowed)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
