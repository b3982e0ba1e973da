"""A certificate's credential is signed after the answer: what is stored until then, and the
one way anything reads the signed credential (`signed_credential_json`).

POST /completions answers as soon as a completion is judged and stored with its certificate
(record, id, revocation position): the credential's proof, canonicalisation and Ed25519,
about a third of a completion's CPU, is made just after, by the server's finisher
(creditserver/finishing.py). Until then the row's `credential_json` is NULL and its
`pending_json` holds the unsigned credential with the proof's time and the server's public
address (`pending_document`). Whoever needs the credential first, the finisher or a request
(the credential's URL, the verification page, a learner's app), signs it and stores it with
an UPDATE that only a still-unsigned row matches; the proof is deterministic (same document,
same time, same key: Ed25519 signs the same bytes the same way), and anyway everyone reads
back the one stored, so no client ever sees an unsigned credential or two different ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from cmecore.credentials.eddsa_rdfc import add_proof

from .db import Database
from .keys import ServerKey
from .models import Certificate


@dataclass(frozen=True)
class Pending:
    """What finishing a certificate needs (its row's `pending_json`)."""

    credential: dict[str, Any]  # the OpenBadgeCredential, no proof yet
    created: str  # the proof's time: the time of issue, as the credential's validFrom
    base_url: str  # the server's public address at issue (the PDF's verification URL starts with it)

    def to_json(self) -> str:
        return json.dumps({"credential": self.credential, "created": self.created, "base_url": self.base_url},
                          ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Pending:
        doc = json.loads(text)
        return cls(doc["credential"], doc["created"], doc["base_url"])


def credential_text(credential: dict[str, Any]) -> str:
    """A credential as stored and served (compact UTF-8 JSON)."""
    return json.dumps(credential, ensure_ascii=False, separators=(",", ":"))


class SigningKeyChanged(RuntimeError):
    """The credential names another issuer key than the server holds now (signing-key.pem
    replaced after issue, or a host with its own key on a shared database): signing it now
    would give a credential that never verifies, so it stays unsigned until the key is back."""


def sign_pending(key: ServerKey, pending: Pending) -> str:
    """The credential with its eddsa-rdfc-2022 proof by the server's key, as stored."""
    issuer = pending.credential.get("issuer", {}).get("id")
    if issuer != key.did:
        raise SigningKeyChanged(f"the credential was issued by {issuer}, but this server's signing key is {key.did}: "
                                "put back the signing key it was issued with to sign it")
    return credential_text(add_proof(pending.credential, key.private_key, key.verification_method, pending.created))


def credential_of(db: Database, key: ServerKey, cert: Certificate) -> str:
    """The signed credential of a certificate read from the database (signed now if not yet)."""
    credential = cert.credential_json or signed_credential_json(db, key, cert.id)
    assert credential is not None  # certificates are never deleted but with their learner
    return credential


def signed_credential_json(db: Database, key: ServerKey, certificate_id: str) -> str | None:
    """The certificate's signed credential as stored (None: no such certificate). One not
    signed yet is signed now and stored, unless someone stored it first: the stored one is
    returned either way."""
    with db.session() as s:
        row = s.execute(select(Certificate.credential_json, Certificate.pending_json)
                        .where(Certificate.id == certificate_id)).one_or_none()
    if row is None:
        return None
    if row.credential_json is not None:
        return row.credential_json
    return store_signed(db, certificate_id, sign_pending(key, Pending.from_json(row.pending_json)))


def store_signed(db: Database, certificate_id: str, signed: str) -> str:
    """Store `signed` unless the row holds a signed credential already; the one stored."""
    with db.session() as s:
        s.execute(update(Certificate).where(Certificate.id == certificate_id, Certificate.credential_json.is_(None))
                  .values(credential_json=signed))
        stored = s.execute(select(Certificate.credential_json).where(Certificate.id == certificate_id)).scalar_one()
    return stored
