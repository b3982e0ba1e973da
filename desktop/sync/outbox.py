"""Delivering finished activities: the outbox, per learner, in batches; then certificates.

Each completion was written to the outbox in the same transaction as the claim, with a
client-made UUID the server treats as an idempotency key, so a retry after a crash or a
lost reply never credits twice (the server answers `duplicate`, counted as delivered).

- Items go per learner, with that learner's own access token: several learners may have
  items waiting on one workstation. A learner who signed out keeps theirs until they sign
  in again (noted, not an error).
- A batch the server answered: accepted and duplicate -> accepted; rejected -> rejected
  with the server's reason, kept on the completion and shown to the learner. Either way
  the item leaves the outbox in the same transaction that records the answer.
- A batch that failed (no network, timeout, 5xx, an unreadable reply): every item stays,
  with `tries`, `last_error` and `next_attempt_at` (exponential backoff) in the database,
  so retries survive restarts. A "Sync now" may ignore the backoff (`retry_now`).
- After acceptance the certificate is fetched and cached (record, PDF, signed JSON) and
  its signature verified offline against the key kept from sign-in (else `GET /keys`).
  During a deadline rush the server may answer that it is still preparing a PDF (503
  `certificate-not-ready`, errors.CertificateNotReady): not an error, and the server was
  reached. The signed credential is kept (it verifies now), the PDF is left for a later
  sync, the others still come, and the report says when to ask again (`retry_after_s`,
  the server's Retry-After), which the courier honours (services/syncing.py).
- Then the revocation lists the certificates name are fetched and every certificate is
  checked again against them (certificate_status.py), so a revoked one shows after this sync.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cmecore import protocol
from desktop.cache import credit_store, outbox_store
from desktop.cache.db import Database
from desktop.cache.learners import learners_on
from desktop.cache.server_state import save_signing_key, signing_key
from desktop.errors import (
    CertificateNotReady,
    CmeError,
    KeyringUnavailable,
    NotSignedIn,
    ServerUnreachable,
    SignInRequired,
)
from desktop.learning.records import OutboxReport
from desktop.sync.account import Account, utcnow
from desktop.sync.api import CreditServerApi
from desktop.sync.certificate_status import refresh_certificate_status

log = logging.getLogger(__name__)

DEFAULT_BATCH = 200  # the server takes up to protocol.MAX_COMPLETION_BATCH (500)


def deliver(
    db: Database,
    api: CreditServerApi,
    account: Account,
    server_url: str,
    *,
    batch_size: int = DEFAULT_BATCH,
    retry_now: bool = False,
    fetch_certificates: bool = True,
    now: Callable[[], datetime] = utcnow,
) -> OutboxReport:
    batch_size = max(1, min(batch_size, protocol.MAX_COMPLETION_BATCH))
    due = outbox_store.due_outbox(db, server_url, now(), ignore_backoff=retry_now)
    by_learner: dict[str, list[outbox_store.OutboxEntry]] = {}
    for entry in due:
        by_learner.setdefault(entry.learner_id, []).append(entry)
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0, "requests": 0, "certificates": 0, "preparing": 0}
    retry_after: float | None = None  # the longest wait the server asked for, for a PDF it is preparing
    errors: list[str] = []
    notes: list[str] = []
    unreachable = False  # stop sending: the server cannot be reached
    offline = False  # the report says so (the caller's `online`), whichever step found it
    learners = {row.id: row for row in learners_on(db, server_url, list(by_learner))}
    with_token: set[str] = set()  # learners a token could be had for
    for learner_id, entries in by_learner.items():
        if unreachable:
            break
        who = learners.get(learner_id)
        name = who.username if who else learner_id
        try:
            account.access_token(learner_id)
        except (SignInRequired, NotSignedIn, KeyringUnavailable):
            notes.append(f"{len(entries)} completion(s) of {name} wait until {name} signs in again on this computer.")
            continue
        except ServerUnreachable as exc:
            errors.append(str(exc))
            outbox_store.record_failure(db, [e.completion_id for e in entries], str(exc), now())
            offline = True
            break
        except CmeError as exc:
            errors.append(str(exc))
            outbox_store.record_failure(db, [e.completion_id for e in entries], str(exc), now())
            continue
        with_token.add(learner_id)
        for start in range(0, len(entries), batch_size):
            batch = entries[start : start + batch_size]
            ids = [e.completion_id for e in batch]
            try:
                result = _post(api, account, learner_id, [e.payload for e in batch], counts)
            except (SignInRequired, NotSignedIn):
                notes.append(f"{len(entries) - start} completion(s) of {name} wait until {name} signs in again.")
                break
            except ServerUnreachable as exc:
                outbox_store.record_failure(db, ids, str(exc), now())
                errors.append(str(exc))
                unreachable = offline = True
                break
            except CmeError as exc:  # the server failed or answered nonsense: kept for the next try
                outbox_store.record_failure(db, ids, str(exc), now())
                errors.append(str(exc))
                break
            answered: list[tuple[str, protocol.CompletionResult]] = []
            mismatch = []
            for entry, r in zip(batch, result.results, strict=True):
                if r.id is not None and str(r.id) != entry.completion_id:
                    mismatch.append(entry.completion_id)
                    continue
                answered.append((entry.completion_id, r))
            outbox_store.record_results(db, answered, now())
            if mismatch:
                msg = "The server's answer did not match what was sent; those completions will be sent again."
                outbox_store.record_failure(db, mismatch, msg, now())
                errors.append(msg)
            for _, r in answered:
                if r.status == protocol.CompletionStatus.duplicate:
                    counts["duplicate"] += 1
                    counts["accepted"] += 1
                elif r.status == protocol.CompletionStatus.accepted:
                    counts["accepted"] += 1
                else:
                    counts["rejected"] += 1
    if fetch_certificates and not unreachable:
        for learner_id in _learners_with_missing_certificates(db, server_url, by_learner, with_token):
            try:
                account.access_token(learner_id)
            except CmeError:
                continue  # no token to be had now: fetched at a later sync
            try:
                fetched = fetch_missing_certificates(db, api, account, server_url, learner_id, now)
            except CmeError as exc:
                fetched = FetchedCertificates(0, error=exc)
            counts["certificates"] += fetched.arrived
            counts["preparing"] += fetched.preparing
            if fetched.retry_after_s is not None:
                retry_after = max(retry_after or 0.0, fetched.retry_after_s)
            if (exc := fetched.error) is not None:
                errors.append(f"A certificate could not be fetched yet ({exc}); it will be fetched at the next sync.")
                if isinstance(exc, ServerUnreachable):
                    offline = True
                    break
    if counts["preparing"]:  # no error: said once, in the one wording (the CLI prints notes)
        n = counts["preparing"]
        notes.append(f"{n} certificate{'s' * (n != 1)} not on this computer yet. {CertificateNotReady.message}")
    if fetch_certificates and not offline:
        offline = _refresh_status(db, api, server_url, now, errors) or offline
    delivered = counts["accepted"] + counts["rejected"]
    return OutboxReport(
        delivered=delivered,
        accepted=counts["accepted"],
        duplicate=counts["duplicate"],
        rejected=counts["rejected"],
        remaining=outbox_store.count_pending(db, server_url=server_url),
        errors=errors,
        notes=notes,
        requests=counts["requests"],
        unreachable=offline,
        certificates=counts["certificates"],
        certificates_preparing=counts["preparing"],
        retry_after_s=retry_after if counts["preparing"] else None,
    )


def _refresh_status(db: Database, api: CreditServerApi, server_url: str, now: Callable[[], datetime],
                    errors: list[str]) -> bool:
    """Fetch the revocation lists and check the certificates again; True if the server could not be reached."""
    try:
        key = server_key(db, api, server_url)
        if key is not None:
            errors.extend(refresh_certificate_status(db, api, server_url, key[1], now))
    except ServerUnreachable as exc:
        errors.append(f"The revocation lists could not be fetched ({exc}); the ones kept here are used.")
        return True
    except CmeError as exc:
        errors.append(f"The revocation lists could not be fetched ({exc}); the ones kept here are used.")
    return False


def _post(api: CreditServerApi, account: Account, learner_id: str, payloads: list[dict],
          counts: dict[str, int]) -> protocol.CompletionBatchResult:
    def post(token: str) -> protocol.CompletionBatchResult:
        counts["requests"] += 1
        return api.post_completions(token, payloads)

    return account.authorized(post, learner_id)


def _learners_with_missing_certificates(db: Database, server_url: str, by_learner: dict, with_token: set) -> list[str]:
    ids = set(by_learner) | with_token
    for row in learners_on(db, server_url):
        if row.signed_in:
            ids.add(row.id)
    return [i for i in sorted(ids) if credit_store.missing_certificates(db, i)]


def server_key(db: Database, api: CreditServerApi, server_url: str, *, refresh: bool = False) -> tuple[str, str] | None:
    """(key id, public key) for verifying credentials: the one kept from sign-in, else GET /keys."""
    kept = signing_key(db, server_url)
    if kept is not None and not refresh:
        return kept
    keys = api.keys()
    key = keys.keys[0]
    save_signing_key(db, server_url, key.key_id, key.public_key)
    return key.key_id, key.public_key


@dataclass(frozen=True)
class FetchedCertificates:
    arrived: int  # certificates now kept whole on this computer (PDF and signed credential)
    preparing: int = 0  # PDFs the server is still preparing (a rush): kept for a later sync
    retry_after_s: float | None = None  # the longest Retry-After the server gave for them (None: none given)
    error: CmeError | None = None  # what stopped the fetching part way (what came before it is kept and counted)


def fetch_missing_certificates(
    db: Database, api: CreditServerApi, account: Account, server_url: str, learner_id: str,
    now: Callable[[], datetime] = utcnow,
) -> FetchedCertificates:
    """Fetch and cache the certificates of this learner's accepted claims not yet here. A PDF
    the server is still preparing (CertificateNotReady) is left for a later sync; its signed
    credential is kept now (so the claim can be verified and saved as signed already)."""
    missing = credit_store.missing_certificates(db, learner_id)
    if not missing:
        return FetchedCertificates(0)
    mine = account.authorized(api.my_completions, learner_id)
    records = {c.certificate.id: c.certificate for c in mine.completions if c.certificate is not None}
    key = server_key(db, api, server_url)
    fetched = preparing = 0
    retry_after: float | None = None
    busy: CertificateNotReady | None = None  # the server said it is still preparing PDFs: ask no more this time
    for _completion_id, cert_id in missing:
        record = records.get(cert_id)
        if record is None:
            continue
        try:
            pdf, key = _fetch_certificate(db, api, account, server_url, learner_id, record, key, now, busy)
        except CertificateNotReady as exc:  # its signed credential is kept (_fetch_certificate)
            busy = exc
            preparing += 1
            if exc.retry_after is not None:
                retry_after = max(retry_after or 0.0, exc.retry_after)
        except CmeError as exc:  # the ones before stay kept, and the ones the server is preparing counted
            return FetchedCertificates(fetched, preparing, retry_after, exc)
        else:
            fetched += pdf is not None
    return FetchedCertificates(fetched, preparing, retry_after)


def _fetch_certificate(db: Database, api: CreditServerApi, account: Account, server_url: str, learner_id: str,
                       record: protocol.CertificateRecord, key: tuple[str, str] | None,
                       now: Callable[[], datetime], busy: CertificateNotReady | None = None,
                       ) -> tuple[bytes | None, tuple[str, str] | None]:
    """Fetch one certificate (its PDF, and its signed credential unless kept verified) and keep
    it; (the PDF, the server's key as last read). A PDF the server is still preparing: the
    credential is kept and CertificateNotReady raised after. `busy`: the server already said
    so for another certificate in this run (a rush: its Retry-After holds for all), so its
    PDF is not asked for now, only its credential if not kept."""
    from cmecore.credentials import check_credential  # memory: PyLD (~170 modules, ~18 MB) only when one is checked

    cert_id = record.id
    not_ready: CertificateNotReady | None = busy
    pdf = None
    if busy is None:
        try:
            pdf = account.authorized(lambda token: api.certificate_pdf(token, cert_id), learner_id)
        except CertificateNotReady as exc:
            not_ready = exc
    kept = credit_store.get_certificate(db, learner_id, cert_id)
    if kept is not None and kept.credential is not None and kept.verified:
        if busy is not None:
            raise busy  # nothing new to keep
        credential = kept.credential  # kept at a sync that had to leave the PDF for later
    else:
        credential = account.authorized(lambda token: api.certificate_credential(token, cert_id), learner_id)
    verified = bool(key) and check_credential(credential, [key[1]]).signature_valid
    if not verified:
        # The server may have a new key since sign-in: ask once more before saying no.
        key = server_key(db, api, server_url, refresh=True)
        verified = bool(key) and check_credential(credential, [key[1]]).signature_valid
    if not verified:
        log.warning("certificate %s: signature does not verify against the server's key", cert_id)
    credit_store.store_certificate(db, learner_id, record, pdf, credential, verified, now())
    if not_ready is not None:
        raise not_ready
    return pdf, key
