"""`GET /catalog[?since=cursor]`: the catalog, assembled from the stored activity JSON.

Each activity row carries the catalog revision at which it was last published or
withdrawn. The `cursor` in a response is the current revision; a client sends it back
as `since` to get only what changed after it. The ETag is `"catalog-<revision>"`, so
`If-None-Match` with the last ETag answers 304 without a body when nothing changed.

A full catalog (no `since`) also lists every withdrawn id, so a client that starts from
scratch still learns what was withdrawn and refuses it from an older content pack.

The activity JSON is served as stored (it was validated when published) and is not
validated again here; that keeps catalog responses cheap and lets tests inject a
malformed activity to check that clients refuse it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from cmecore.pack_issue import IssuedPack, PackIssueRequest
from cmecore.protocol import ACTIVITY_ID_PATTERN, Catalog, Problem, SignedActivity
from cmecore.signatures import activity_digest, sign_activity, sign_pack_issue

from .auth import BearerToken, current_learner, learner_for_token
from .db import Database, current_revision
from .models import ActivityRecord
from .one_trip import one_trip
from .problems import ProblemError

router = APIRouter(tags=["catalog"])


def catalog_etag(revision: int) -> str:
    return f'"catalog-{revision}"'


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag.startswith("W/"):
            tag = tag[2:]  # If-None-Match uses the weak comparison
        if tag == etag:
            return True
    return False


@router.get(
    "/catalog",
    response_model=Catalog,
    responses={
        200: {"model": Catalog},
        304: {"description": "Not modified since the ETag given in If-None-Match (no body)."},
        401: {"model": Problem},
    },
)
@one_trip
def get_catalog(
    request: Request,
    token: BearerToken,
    since: Annotated[int | None, Query(ge=0, description="The cursor of an earlier catalog response.")] = None,
) -> Response:
    db: Database = request.app.state.db
    with db.session() as s:
        learner_for_token(s, token)  # in the catalog's own transaction (one trip: one_trip.py)
        revision = current_revision(s)
        etag = catalog_etag(revision)
        headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
        if _etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        full = since is None or since > revision
        query = select(ActivityRecord.id, ActivityRecord.withdrawn, ActivityRecord.json_text).order_by(
            ActivityRecord.revision, ActivityRecord.id
        )
        if not full:
            query = query.where(ActivityRecord.revision > since)
        rows = s.execute(query).all()

    live = [r.json_text for r in rows if not r.withdrawn]
    withdrawn = [r.id for r in rows if r.withdrawn]
    body = (
        f'{{"cursor":{revision},"full":{"true" if full else "false"},'
        f'"activities":[{",".join(live)}],"withdrawn":{json.dumps(withdrawn)}}}'
    )
    return Response(body.encode(), media_type="application/json", headers=headers)


@router.get(
    "/activities/{activity_id}/signed",
    response_model=SignedActivity,
    responses={401: {"model": Problem}, 404: {"model": Problem}},
    dependencies=[Depends(current_learner)],
)
def get_signed_activity(request: Request, activity_id: str) -> SignedActivity:
    """One published activity's JSON exactly as the catalog serves it, signed with the
    server's Ed25519 key (the key of `GET /keys`), for content packs checked offline."""
    db: Database = request.app.state.db
    with db.session() as s:
        # An id no activity can have is not looked up (PostgreSQL refuses a NUL in it).
        rec = s.get(ActivityRecord, activity_id) if re.fullmatch(ACTIVITY_ID_PATTERN, activity_id) else None
        text = rec.json_text if rec is not None and not rec.withdrawn else None
    if text is None:
        raise ProblemError(404, "No such activity", detail="There is no published activity with this id.")
    activity = json.loads(text)
    key = request.app.state.signing_key
    return SignedActivity(activity=activity, key_id=key.key_id, signature=sign_activity(activity, key.private_key))


@router.post(
    "/packs/issue",
    response_model=IssuedPack,
    responses={401: {"model": Problem}, 404: {"model": Problem}, 422: {"model": Problem}},
)
def issue_pack(request: Request, body: PackIssueRequest, learner=Depends(current_learner)) -> IssuedPack:
    """The published activities named, each signed, and the pack's issue signed over all of
    them: the catalog revision and time it is made at and each activity's digest
    (cmecore.pack_issue). Read in one transaction, so the revision is the one they were read at."""
    ids = list(dict.fromkeys(body.activity_ids))
    db: Database = request.app.state.db
    with db.session() as s:
        revision = current_revision(s)
        rows = {r.id: r for r in s.execute(select(ActivityRecord).where(ActivityRecord.id.in_(ids))).scalars()}
        texts = {i: rows[i].json_text for i in ids if i in rows and not rows[i].withdrawn}
    missing = [i for i in ids if i not in texts]
    if missing:
        raise ProblemError(404, "No such activity",
                           detail=f"There is no published activity with the id {missing[0]!r} (withdrawn or never published).")
    key = request.app.state.signing_key
    activities = [json.loads(texts[i]) for i in ids]
    issue = {
        "catalog_revision": revision,
        "issued_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "activities": [{"id": a["id"], "version": a["version"], "sha256": activity_digest(a)} for a in activities],
    }
    return IssuedPack(
        issue=issue, key_id=key.key_id, signature=sign_pack_issue(issue, key.private_key),
        activities=[SignedActivity(activity=a, key_id=key.key_id, signature=sign_activity(a, key.private_key))
                    for a in activities],
    )
