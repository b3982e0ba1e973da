"""What this computer keeps about each credit server: the key that signs its certificates and
activities, and how far its clock is from ours (both on the server's SyncState row)."""

from __future__ import annotations

from desktop.cache import models as m
from desktop.cache.db import Database


def signing_key(db: Database, server_url: str) -> tuple[str, str] | None:
    """(key id, raw Ed25519 public key, base64) kept from sign-in or GET /keys."""
    with db.read() as s:
        st = s.get(m.SyncState, server_url)
        if st is None or not st.signing_public_key:
            return None
        return st.signing_key_id or "", st.signing_public_key


def save_signing_key(db: Database, server_url: str, key_id: str | None, public_key: str) -> None:
    with db.write() as s:
        st = s.get(m.SyncState, server_url)
        if st is None:
            st = m.SyncState(server_url=server_url)
            s.add(st)
        st.signing_key_id = key_id
        st.signing_public_key = public_key


def clock_offset_ms(db: Database, server_url: str | None) -> int | None:
    if server_url is None:
        return None
    with db.read() as s:
        st = s.get(m.SyncState, server_url)
        return st.clock_offset_ms if st else None
