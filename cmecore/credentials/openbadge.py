"""A certificate as an Open Badges 3.0 `OpenBadgeCredential` (unsigned; eddsa_rdfc signs it).

Every field is a term of the W3C credentials v2 or the OB 3.0 context, so an RDF proof
covers all of it (`jsonld.undefined_terms` is empty; the tests hold every issued credential
to the published OB 3.0 AchievementCredential JSON schema too). Where the CME record has
no OB property of its own it uses the nearest one OB defines:

- issuer: the accredited provider whose credit designation applies (`statement.provider`),
  as a Profile whose id is the server key's did:key (the proof's controller), with the
  server's public address as `url` and the activity's accreditation (or joint providership)
  statement as `description`;
- the learner: `identifier` entries (IdentityObject): the name as printed, the learner's id
  on this server salted and hashed (sha256$…), and for pharmacists the NABP e-Profile ID;
  the profession as the subject's `role`;
- credits: `creditsEarned`, and a `result` per amount (the credit type, and contact hours
  where they apply) described by the achievement's `resultDescription`;
- the activity: the Achievement (designation statement as `description`, the UAN as
  `humanCode`, the format as a `tag`, the version as `version`); the CPE Monitor note as
  the credential's `description`.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cmecore.protocol import AccreditationStatement, Activity, CertificateRecord

from .jsonld import CREDENTIALS_V2, OB_V3P0

OB_SCHEMA_URL = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
CREDIT_RESULT = "ext:CmeCredits"
CONTACT_HOURS_RESULT = "ext:ContactHours"


@dataclass(frozen=True)
class IssuerProfile:
    """Who issues: the accredited provider, identified by the signing key's did:key."""

    id: str  # did:key:z6Mk… (multikey.did_key)
    name: str
    url: str | None = None  # the credit server's public address
    description: str = ""  # the accreditation / joint providership statement

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": ["Profile"], "name": self.name}
        if self.url:
            out["url"] = self.url
        if self.description:
            out["description"] = self.description
        return out


def identity_hash(value: str, salt: str) -> str:
    """OB 3.0 IdentityHash: "sha256$" and the hex SHA-256 of the value with the salt appended."""
    return "sha256$" + hashlib.sha256((value + salt).encode("utf-8")).hexdigest()


def _identity(kind: str, value: str, salt: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "IdentityObject", "identityType": kind, "hashed": salt is not None,
                           "identityHash": identity_hash(value, salt) if salt is not None else value}
    if salt is not None:
        out["salt"] = salt
    return out


def _criteria(act: Activity) -> str:
    passing = act.assessment.passing_score if act.assessment else None
    steps = ["Review the disclosures", "take part in the activity"]
    if passing is not None:
        steps.append(f"pass the post-test ({passing}%)")
    if act.evaluation:
        steps.append("complete the evaluation")
    steps.append("claim credit")
    return ", ".join(steps) + "."


def _amount(value: float) -> str:
    return f"{value:g}"


def open_badge_credential(cert: CertificateRecord, act: Activity, statement: AccreditationStatement,
                          learner_id: str, completed: datetime, issuer: IssuerProfile, issued: str,
                          credential_status: dict[str, Any] | None, salt: str | None = None) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential for certificate `cert` (issued: XML Schema dateTime)."""
    activity_urn = f"urn:cme-offline:activity:{act.id}:v{act.version}"
    credit_rd = f"{activity_urn}:result:credits"
    hours_rd = f"{activity_urn}:result:contact-hours"
    descriptions = [{"id": credit_rd, "type": ["ResultDescription"], "name": cert.credit_type,
                     "resultType": CREDIT_RESULT}]
    results = [{"type": ["Result"], "resultDescription": credit_rd, "value": _amount(cert.credits_claimed)}]
    if cert.contact_hours is not None:
        descriptions.append({"id": hours_rd, "type": ["ResultDescription"], "name": "Contact hours",
                             "resultType": CONTACT_HOURS_RESULT})
        results.append({"type": ["Result"], "resultDescription": hours_rd, "value": _amount(cert.contact_hours)})
    achievement: dict[str, Any] = {
        "id": activity_urn,
        "type": ["Achievement"],
        "achievementType": "CertificateOfCompletion",
        "name": act.title,
        "description": statement.statement,
        "criteria": {"narrative": _criteria(act)},
        "creditsAvailable": statement.max_credits,
        "creator": issuer.as_json(),
        "resultDescription": descriptions,
        "tag": [act.format],
        "version": str(act.version),
    }
    if cert.uan:
        achievement["humanCode"] = cert.uan
    identifiers = [_identity("name", cert.learner_name),
                   _identity("systemId", learner_id, salt or secrets.token_hex(16))]
    if cert.nabp_eprofile_id:
        identifiers.append(_identity("ext:NabpEprofileId", cert.nabp_eprofile_id))
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": identifiers,
        "role": cert.profession.value,
        "activityEndDate": completed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "creditsEarned": cert.credits_claimed,
        "result": results,
        "achievement": achievement,
    }
    doc: dict[str, Any] = {
        "@context": [CREDENTIALS_V2, OB_V3P0],
        "id": f"urn:uuid:{uuid.UUID(hex=cert.id)}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{cert.credit_type}: {cert.activity_title}",
        "issuer": issuer.as_json(),
        "validFrom": issued,
        "awardedDate": issued,
        "credentialSubject": subject,
        "credentialSchema": [{"id": OB_SCHEMA_URL, "type": "JsonSchema"}],
    }
    if cert.cpe_monitor_note:
        doc["description"] = cert.cpe_monitor_note
    if credential_status is not None:
        doc["credentialStatus"] = credential_status
    return doc
