"""The earning-credit routes: `POST /completions` (a batch) and `GET /me/completions`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field
from sqlalchemy import select

from cmecore.protocol import (
    MAX_COMPLETION_BATCH,
    CertificateRecord,
    CompletionBatch,
    CompletionBatchResult,
    CompletionStatus,
    MyCompletion,
    MyCompletions,
    Problem,
)

from ..auth import BearerToken, CurrentLearner, learner_for_token
from ..certificates import public_base_url
from ..db import Database
from ..models import Certificate, Completion
from ..one_trip import one_trip
from ..status_lists import CredentialIssuer
from .batch import process_batch

router = APIRouter(tags=["completions"])


class _RawBatch(BaseModel):
    # Items stay raw JSON here and are validated one by one as protocol.CompletionIn.
    completions: Annotated[list[Any], Field(min_length=1, max_length=MAX_COMPLETION_BATCH)]


@router.post(
    "/completions",
    response_model=CompletionBatchResult,
    responses={401: {"model": Problem}, 422: {"model": Problem, "description": "The body is not a batch (or too long)."}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompletionBatch"}}},
        }
    },
)
@one_trip
def post_completions(body: _RawBatch, request: Request, token: BearerToken) -> CompletionBatchResult:
    """Deliver finished activities (a batch of `CompletionIn`); the answer has one result per item, in order."""
    db: Database = request.app.state.db
    issuer = CredentialIssuer(request.app.state.signing_key, public_base_url(request))
    finisher = request.app.state.finisher
    # The token is checked first, in the batch's own transaction (one trip: creditserver/one_trip.py).
    results = process_batch(db, body.completions, lambda s: learner_for_token(s, token), issuer,
                            request.app.state.completion_settings, finisher.while_issuing)
    # The answer goes now; the credentials are signed and the PDFs rendered just after (finishing.py).
    finisher.submit([r.certificate_id for r in results if r.status == CompletionStatus.accepted and r.certificate_id])
    counts = {st: sum(1 for r in results if r.status == st) for st in CompletionStatus}
    return CompletionBatchResult(
        results=results,
        accepted=counts[CompletionStatus.accepted],
        duplicate=counts[CompletionStatus.duplicate],
        rejected=counts[CompletionStatus.rejected],
    )


@router.get("/me/completions", response_model=MyCompletions, responses={401: {"model": Problem}})
def my_completions(request: Request, learner: CurrentLearner) -> MyCompletions:
    """The signed-in learner's credited completions, oldest first, each with its certificate."""
    db: Database = request.app.state.db
    with db.session() as s:
        rows = s.execute(
            select(Completion, Certificate.record_json)
            .outerjoin(Certificate, Certificate.completion_id == Completion.id)
            .where(Completion.learner_id == learner.id)
            .order_by(Completion.received_at, Completion.id)
        ).all()
        out = [
            MyCompletion(
                id=c.id,
                activity_id=c.activity_id,
                activity_version=c.activity_version,
                completed_at_corrected=c.completed_at_corrected,
                received_at=c.received_at,
                server_score=c.server_score,
                passed=c.passed,
                credits_awarded=c.credits_claimed,
                credit_type=c.credit_type,
                reporting_consent=c.reporting_consent,
                certificate=CertificateRecord.model_validate_json(record) if record else None,
            )
            for c, record in rows
        ]
    return MyCompletions(completions=out)


def install_schemas(app: FastAPI) -> None:
    """Make the CompletionBatch schema part of the OpenAPI document (the POST above refers to it)."""

    def openapi():
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        batch = CompletionBatch.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in batch.pop("$defs", {}).items():
            components.setdefault(name, sub)
        components["CompletionBatch"] = batch
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
