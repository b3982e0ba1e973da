"""Catalog sync: a conditional fetch, validated whole, applied in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from desktop.cache.catalog_store import apply_catalog, record_sync_failure, record_sync_not_modified
from desktop.cache.db import Database
from desktop.cache.library import sync_state
from desktop.sync.account import Account, utcnow
from desktop.sync.api import CatalogReply, CreditServerApi
from desktop.errors import CmeError


@dataclass(frozen=True)
class CatalogSyncResult:
    not_modified: bool
    changed: int
    cursor: int | None
    synced_at: datetime


def sync_catalog(db: Database, api: CreditServerApi, account: Account, server_url: str) -> CatalogSyncResult:
    """Fetch what changed since the last sync and apply it; on failure the cache is untouched."""
    state = sync_state(db, server_url)
    since = state.catalog_cursor if state else None
    etag = state.catalog_etag if state else None
    try:
        reply = _fetch(api, account, since, etag)
        now = utcnow()
        if reply.catalog is None:
            record_sync_not_modified(db, server_url, synced_at=now, clock_offset_ms=reply.clock_offset_ms)
            return CatalogSyncResult(True, 0, since, now)
        changed = apply_catalog(
            db, reply.catalog, server_url=server_url, etag=reply.etag, synced_at=now,
            clock_offset_ms=reply.clock_offset_ms,
        )
        return CatalogSyncResult(False, changed, reply.catalog.cursor, now)
    except CmeError as exc:
        record_sync_failure(db, server_url, str(exc), exc.code, utcnow())
        raise


def _fetch(api: CreditServerApi, account: Account, since: int | None, etag: str | None) -> CatalogReply:
    return account.authorized(lambda token: api.catalog(token, since=since, etag=etag))
