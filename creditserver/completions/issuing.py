"""What an accepted completion leaves behind: the certificate, its credential (signed just
after the answer: creditserver/signing.py), and the rows that record the completion with
every attempt and the evaluation.

A certificate is a snapshot (rule 7): it shows the credits claimed, the accreditation
statement for the learner's profession and, for pharmacists, the UAN and the CPE Monitor
note; later changes to the activity never touch it. The credential is an Open Badges 3.0
`OpenBadgeCredential` issued by the accredited provider, with a W3C Data Integrity proof
(eddsa-rdfc-2022) by the server's Ed25519 key and a revocation status entry
(cmecore.credentials), so anyone can check it without the server. Credentials issued
before carry the old proof (cmecore.signatures) and still verify.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cmecore.credentials.openbadge import IssuerProfile, open_badge_credential
from cmecore.protocol import (
    API_PREFIX,
    CPE_MONITOR_NOTE,
    AccreditationStatement,
    Activity,
    CertificateRecord,
    CompletionIn,
    CompletionResult,
    CompletionStatus,
    LearnerProfile,
    Profession,
)
from cmecore.rules.claims import is_ama

from ..signing import Pending
from ..status_lists import CredentialIssuer
from .judging import Graded


@dataclass
class Accepted:
    """An accepted item: its answer and the rows that record it, as plain values for one
    bulk INSERT per table (batch.py). The certificate row is made once the batch has taken
    revocation positions for all its certificates at once (`certificate_row`)."""

    item: CompletionIn
    record: CertificateRecord
    credential: dict[str, Any]  # unsigned, without its revocation entry yet
    issued: str
    result: CompletionResult
    result_json: str  # the answer as stored, without its index in the batch
    completion: dict[str, Any]
    attempts: list[dict[str, Any]]
    evaluations: list[dict[str, Any]]

    def certificate_row(self, learner: LearnerProfile, issuer: CredentialIssuer, status: dict[str, Any],
                        now: datetime) -> dict[str, Any]:
        """The certificate, its credential left unsigned (signed just after the answer:
        creditserver/signing.py, finishing.py) with its revocation entry `status` (its last
        member, as unsigned_credential places it)."""
        credential = {**self.credential, "credentialStatus": status}
        return {
            "id": self.record.id,
            "completion_id": str(self.item.id),
            "learner_id": learner.id,
            "issued_at": now,
            "record_json": self.record.model_dump_json(),
            "credential_json": None,
            "pending_json": Pending(credential, self.issued, issuer.base_url).to_json(),
            "completion_date": self.record.completion_date,
        }


def accept(item: CompletionIn, body: dict[str, Any], content_hash: str, act: Activity, graded: Graded,
           learner: LearnerProfile, issuer: CredentialIssuer, now: datetime) -> Accepted:
    """The answer and the rows of a completion that passed every rule (judging.py)."""
    statement = graded.statement
    assert statement is not None
    record = certificate_record(item, act, statement, learner, now)
    issued = _iso(now)
    credential = unsigned_credential(record, act, statement, learner.id, item.completed_at_corrected, issuer, None,
                                     issued)
    result = CompletionResult(
        index=0,
        id=item.id,
        status=CompletionStatus.accepted,
        server_score=graded.score,
        passed=True,
        certificate_id=record.id,
        credits_awarded=item.claim.credits_claimed,
        credit_type=statement.credit_type,
    )
    result_json = result.model_dump_json(exclude={"index"})
    return Accepted(
        item=item, record=record, credential=credential, issued=issued, result=result, result_json=result_json,
        completion=_completion_row(item, body, content_hash, act, graded, statement, result_json, learner, now),
        attempts=_attempt_rows(item, graded), evaluations=_evaluation_rows(item),
    )


def certificate_record(
    item: CompletionIn, act: Activity, statement: AccreditationStatement, learner: LearnerProfile, now: datetime
) -> CertificateRecord:
    """What the certificate shows (rule 7): the credits claimed, and contact hours where they
    apply, with the activity's own accreditation and credit designation statements."""
    claim = item.claim
    cert_id = uuid.uuid4().hex
    pharmacist = claim.profession == Profession.pharmacist
    contact_hours = None
    if pharmacist:
        contact_hours = statement.contact_hours if statement.contact_hours is not None else claim.credits_claimed
    elif not is_ama(statement):
        contact_hours = claim.credits_claimed
    return CertificateRecord(
        id=cert_id,
        completion_id=item.id,
        issued_at=now,
        learner_name=learner.display_name,
        profession=claim.profession,
        providers=act.providers,
        activity_id=act.id,
        activity_version=act.version,
        activity_title=act.title,
        format=act.format,
        completion_date=item.completed_at_corrected.astimezone(UTC).date(),
        credits_claimed=claim.credits_claimed,
        credit_type=statement.credit_type,
        contact_hours=contact_hours,
        uan=statement.uan if pharmacist else None,
        cpe_monitor_note=CPE_MONITOR_NOTE if pharmacist else None,
        learner_degree=learner.degree,
        accredited_provider=statement.provider,
        accreditation_statement=act.accreditation_statement,
        designation_statement=statement.statement,
        nabp_eprofile_id=claim.nabp_eprofile_id if pharmacist else None,
        signatory=act.signatory,
        pdf_url=f"{API_PREFIX}/certificates/{cert_id}",
        credential_url=f"{API_PREFIX}/certificates/{cert_id}.json",
    )


def unsigned_credential(
    cert: CertificateRecord, act: Activity, statement: AccreditationStatement, learner_id: str, completed: datetime,
    issuer: CredentialIssuer, credential_status: dict[str, Any] | None, issued: str,
) -> dict[str, Any]:
    """The certificate as an Open Badges 3.0 credential issued by the accredited provider,
    to be signed (eddsa-rdfc-2022, the server's key, at `issued`) after the answer: signing.py."""
    profile = IssuerProfile(id=issuer.key.did, name=statement.provider, url=issuer.base_url,
                            description=act.accreditation_statement)
    return open_badge_credential(cert, act, statement, learner_id, completed, profile, issued, credential_status)


def _completion_row(item: CompletionIn, body: dict[str, Any], content_hash: str, act: Activity, graded: Graded,
                    statement: AccreditationStatement, result_json: str, learner: LearnerProfile,
                    now: datetime) -> dict[str, Any]:
    """The completion with its claim, the ids the claim carries and the reporting consent (rules 6, 8)."""
    claim = item.claim
    return dict(
        id=str(item.id),
        learner_id=learner.id,
        activity_id=act.id,
        activity_version=act.version,
        content_hash=content_hash,
        body_json=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        result_json=result_json,
        received_at=now,
        disclosures_acknowledged_at=item.disclosures_acknowledged_at,
        started_at=item.started_at,
        completed_at=item.completed_at,
        completed_at_corrected=item.completed_at_corrected,
        watched_share=item.watched_share,
        server_score=graded.score,
        passed=True,
        profession=claim.profession.value,
        credit_type=statement.credit_type,
        credits_claimed=claim.credits_claimed,
        attested_minutes=claim.attested_minutes,
        reporting_consent=claim.reporting_consent,
        nabp_eprofile_id=claim.nabp_eprofile_id,
        birth_mmdd=claim.birth_mmdd,
        board_id=claim.board_id,
        licence_state=claim.licence_state,
        licence_number=claim.licence_number,
    )


def _attempt_rows(item: CompletionIn, graded: Graded) -> list[dict[str, Any]]:
    """Every attempt as submitted, with the server's grade beside the device's (rule 4)."""
    grades: list[tuple[float | None, bool | None]] = list(graded.attempt_scores) or [(None, None)] * len(item.attempts)
    return [
        dict(
            id=str(a.id),
            completion_id=str(item.id),
            number=a.number,
            started_at=a.started_at,
            submitted_at=a.submitted_at,
            answers_json=json.dumps(a.answers, sort_keys=True, separators=(",", ":")),
            local_score=a.local_score,
            local_passed=a.local_passed,
            server_score=score,
            server_passed=ok,
        )
        for a, (score, ok) in zip(item.attempts, grades, strict=True)
    ]


def _evaluation_rows(item: CompletionIn) -> list[dict[str, Any]]:
    ev = item.evaluation
    if ev is None:
        return []
    return [
        dict(
            completion_id=str(item.id),
            ratings_json=json.dumps(ev.ratings, sort_keys=True, separators=(",", ":")),
            texts_json=json.dumps(ev.texts, sort_keys=True, ensure_ascii=False, separators=(",", ":")),
            commitments_json=json.dumps(ev.commitments, ensure_ascii=False, separators=(",", ":")),
            reminder_weeks=ev.reminder_weeks,
        )
    ]


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
