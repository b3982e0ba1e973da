"""Revoking certificates: the server's Bitstring Status Lists and `GET /status/{n}`.

Every certificate issued since server migration 0003 takes a position in
`credential_status` at issue (`allocate`), and its credential names that bit of list
`position // LIST_BITS` (cmecore.credentials.status_list). `revoke` (the
`cme-credit-server revoke CERT_ID` command) records the time; each list is served at
`/api/v1/status/{n}`, public like the credential itself, as a BitstringStatusListCredential
signed with the same key and suite as the certificates, built from the table at each
request, so a revocation shows at the next fetch. `Cache-Control: max-age` tells caches
how stale a list may get; readers keep the list they fetched and say how old it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from cmecore.credentials import FORM_LEGACY, CredentialCheck, StatusList, check_credential
from cmecore.credentials.eddsa_rdfc import add_proof
from cmecore.credentials.status_list import LIST_BITS, revocation_entry, status_entry, status_list_credential
from cmecore.protocol import API_PREFIX, Problem

from .certificates import public_base_url
from .db import Database
from .keys import ServerKey
from .models import Certificate, CredentialStatusEntry

STATUS_MAX_AGE_S = 300  # how long a cache may keep a list before asking again
# Positions are 32-bit integers in the database: the lists that can hold one.
MAX_LIST_NUMBER = 2**31 // LIST_BITS


def xsd_datetime(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class CredentialIssuer:
    """What signing a credential needs: the key, and the public address its URLs start with."""

    key: ServerKey
    base_url: str  # certificates.public_base_url(request)

    def status_list_url(self, list_number: int) -> str:
        return f"{self.base_url}{API_PREFIX}/status/{list_number}"

    def sign(self, doc: dict[str, Any], created: str) -> dict[str, Any]:
        return add_proof(doc, self.key.private_key, self.key.verification_method, created)


def allocate(s: Session, certificate_ids: list[str], issuer: CredentialIssuer) -> dict[str, dict[str, Any]]:
    """Take the next positions for `certificate_ids`, in one INSERT; each one's
    `credentialStatus` entry, by certificate id.
    Runs in the caller's transaction, so a batch that fails gives its positions back
    (SQLite) or skips them (PostgreSQL's sequence); neither is ever given twice."""
    if not certificate_ids:
        return {}
    rows = s.execute(
        insert(CredentialStatusEntry).returning(CredentialStatusEntry.certificate_id, CredentialStatusEntry.position),
        [{"certificate_id": c} for c in certificate_ids],
    )
    return {cid: status_entry(issuer.status_list_url(pos // LIST_BITS), pos % LIST_BITS) for cid, pos in rows}


class NoSuchCertificate(LookupError):
    pass


@dataclass(frozen=True)
class Revocation:
    certificate_id: str
    revoked_at: datetime
    already: bool  # it was revoked before this call
    in_credential: bool  # its credential names a status list (issued since migration 0003)


def revoke(db: Database, certificate_id: str, now: datetime | None = None) -> Revocation:
    """Mark a certificate revoked (idempotent: a second call keeps the first time).
    A certificate issued before status lists gets a position now, so this server's own
    pages show it revoked; its credential, signed before, names no list."""
    now = now or datetime.now(UTC)
    with db.session() as s:
        if s.get(Certificate, certificate_id) is None:
            raise NoSuchCertificate(certificate_id)
        row = s.execute(select(CredentialStatusEntry).where(CredentialStatusEntry.certificate_id == certificate_id)
                        ).scalar_one_or_none()
        in_credential = row is not None
        if row is None:
            row = CredentialStatusEntry(certificate_id=certificate_id)
            s.add(row)
        already = row.revoked_at is not None
        if not already:
            row.revoked_at = now
        s.flush()
        return Revocation(certificate_id, row.revoked_at, already, in_credential)


def is_revoked(s: Session, certificate_id: str) -> bool:
    """Whether the server has recorded this certificate as revoked."""
    return s.execute(select(CredentialStatusEntry.revoked_at).where(
        CredentialStatusEntry.certificate_id == certificate_id)).scalar_one_or_none() is not None


def signed_status_list(db: Database, issuer: CredentialIssuer, list_number: int, now: datetime) -> dict[str, Any]:
    """List `list_number` as a signed BitstringStatusListCredential (its revoked bits set)."""
    first = list_number * LIST_BITS
    with db.session() as s:
        positions = s.execute(select(CredentialStatusEntry.position).where(
            CredentialStatusEntry.position >= first, CredentialStatusEntry.position < first + LIST_BITS,
            CredentialStatusEntry.revoked_at.is_not(None))).scalars().all()
    created = xsd_datetime(now)
    doc = status_list_credential(issuer.status_list_url(list_number), issuer.key.did, created,
                                 [p - first for p in positions], ttl_ms=STATUS_MAX_AGE_S * 1000)
    return issuer.sign(doc, created)


def check_issued(db: Database, key: ServerKey, certificate_id: str, credential: dict[str, Any],
                 now: datetime | None = None) -> CredentialCheck:
    """`check_credential` as this server answers it (the public verification page): its own
    key, and its current status list read from the database rather than fetched. A legacy
    certificate (no status entry) revoked with `revoke` shows as revoked too."""
    now = now or datetime.now(UTC)
    lists: dict[str, StatusList] = {}
    entry = revocation_entry(credential)
    url = entry.get("statusListCredential") if entry else None
    marker = API_PREFIX + "/status/"
    number = url.rsplit("/", 1)[-1] if isinstance(url, str) and marker in url else ""
    # A number this server never serves (a tampered entry) gives no list: status not known.
    if number.isdigit() and int(number) <= MAX_LIST_NUMBER:
        issuer = CredentialIssuer(key, url[: url.index(marker)])
        lists[url] = StatusList(signed_status_list(db, issuer, int(number), now), now)
    check = check_credential(credential, [key.public_key_b64], lists)
    if check.form == FORM_LEGACY and check.signature_valid:
        with db.session() as s:
            if is_revoked(s, certificate_id):
                return replace(check, revoked=True, status_checked_at=now,
                               reason="This certificate has been revoked by its issuer.")
    return check


router = APIRouter(tags=["certificates"])

ListNumber = Annotated[int, PathParam(ge=0, le=MAX_LIST_NUMBER, description="The list a credential names")]


@router.get("/status/{list_number}", responses={200: {"content": {"application/vc+ld+json": {}}},
                                                 404: {"model": Problem}})
def get_status_list(list_number: ListNumber, request: Request) -> JSONResponse:
    """A revocation list (W3C Bitstring Status List), signed; no sign-in needed."""
    issuer = CredentialIssuer(request.app.state.signing_key, public_base_url(request))
    doc = signed_status_list(request.app.state.db, issuer, list_number, datetime.now(UTC))
    return JSONResponse(doc, headers={"Cache-Control": f"public, max-age={STATUS_MAX_AGE_S}"})
