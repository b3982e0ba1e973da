"""After a sync: fetch the revocation lists this computer's certificates name, keep them,
and check every certificate again, offline, against the key and lists kept here.

A list is kept only when it is signed by the server's key (a broken or foreign list never
replaces a good one); a list that cannot be fetched leaves the last one in place, and
certificates keep saying how old that one is. Runs on the sync's worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from desktop.cache.db import Database
from desktop.cache.status_store import credentials_on, kept_status_lists, record_checks, save_status_list
from desktop.errors import CmeError, ServerUnreachable
from desktop.sync.api import CreditServerApi

log = logging.getLogger(__name__)


def refresh_certificate_status(db: Database, api: CreditServerApi, server_url: str, public_key: str,
                               now: Callable[[], datetime]) -> list[str]:
    """Fetch the lists, then record each certificate's check; returns problems in words
    (empty when every list was fetched). ServerUnreachable stops the fetching and is raised."""
    credentials = credentials_on(db, server_url)
    if not credentials:
        return []
    # memory: PyLD (~170 modules, ~18 MB) loads only when a certificate is checked
    from cmecore.credentials import check_credential
    from cmecore.credentials.status_list import revocation_entry  # (the same package)

    urls = sorted({e["statusListCredential"] for _, c in credentials
                   if (e := revocation_entry(c)) and isinstance(e.get("statusListCredential"), str)})
    problems = []
    for url in urls:
        try:
            doc = api.status_list(url)
        except ServerUnreachable:
            raise
        except CmeError as exc:
            problems.append(f"The revocation list could not be fetched ({exc}); the one kept here is used.")
            continue
        if not check_credential(doc, [public_key]).signature_valid:
            log.warning("status list %s: not signed by the server's key; the one kept here stays", url)
            problems.append("The server's revocation list did not verify; the one kept here is used.")
            continue
        save_status_list(db, server_url, url, doc, now())
    recheck_certificates(db, server_url, public_key)
    return problems


def recheck_certificates(db: Database, server_url: str, public_key: str) -> None:
    """Check every certificate kept for `server_url` again with the lists kept here."""
    credentials = credentials_on(db, server_url)
    if not credentials:
        return
    # memory: PyLD (~170 modules, ~18 MB) loads only when a certificate is checked
    from cmecore.credentials import check_credential

    lists = kept_status_lists(db, server_url)
    record_checks(db, [(cert_id, check_credential(credential, [public_key], lists))
                       for cert_id, credential in credentials])
