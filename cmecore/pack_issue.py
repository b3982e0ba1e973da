"""What a content pack's issue says, as the credit server signs it (`POST /packs/issue`).

A pack made from a catalog at revision N must not pass for a newer one: a client that
learnt at revision M that an activity was withdrawn refuses that activity from any pack
issued at a revision up to M. So the server signs the revision and the time of issue
together with the digest of every activity the pack holds (cmecore.signatures), and the
client checks both before believing either. Pure pydantic, like cmecore.protocol.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, Field, StringConstraints

from cmecore.protocol import ActivityId, KeyId, Model, Sha256, SignedActivity

MAX_PACK_ACTIVITIES = 2000


class PackIssueItem(Model):
    id: ActivityId
    version: Annotated[int, Field(ge=0)]
    sha256: Sha256  # cmecore.signatures.activity_digest of the activity JSON in the pack


class PackIssue(Model):
    """The signed part: the catalog revision the pack was made at, when, and exactly what it holds."""

    catalog_revision: Annotated[int, Field(ge=0)]
    issued_at: AwareDatetime
    activities: Annotated[list[PackIssueItem], Field(min_length=1, max_length=MAX_PACK_ACTIVITIES)]


class PackIssueRequest(Model):
    activity_ids: Annotated[list[ActivityId], Field(min_length=1, max_length=MAX_PACK_ACTIVITIES)]


class IssuedPack(Model):
    """`POST /packs/issue`: the activities as published, each signed, and the issue over all of
    them, read in one transaction. `issue` stays raw JSON: what was signed is what is kept."""

    issue: dict[str, Any]
    key_id: KeyId
    signature: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{80,100}$")]
    activities: Annotated[list[SignedActivity], Field(min_length=1, max_length=MAX_PACK_ACTIVITIES)]
