"""`GET /api/v1/activities/{id}/signed`: the activity as published, signed with the server's key."""

from __future__ import annotations

import json

import httpx

from cmecore import protocol
from cmecore.signatures import verify_activity
from tests.support.activities import DEMO_ID


def token(server) -> str:
    r = httpx.post(server.api_url + "/auth/token",
                   json={"username": "demo", "password": "demo", "device_name": "test"})
    return r.json()["access_token"]


def test_signed_activity_is_the_catalog_json_and_verifies_with_the_published_key(server):
    headers = {"Authorization": f"Bearer {token(server)}"}
    r = httpx.get(f"{server.api_url}/activities/{DEMO_ID}/signed", headers=headers)
    assert r.status_code == 200
    signed = protocol.SignedActivity.model_validate_json(r.content)
    catalog = httpx.get(server.api_url + "/catalog", headers=headers).json()
    assert signed.activity == catalog["activities"][0]  # exactly what the catalog serves
    (key,) = httpx.get(server.api_url + "/keys").json()["keys"]
    assert signed.key_id == key["key_id"]
    assert verify_activity(signed.activity, signed.signature, key["public_key"], signed.key_id)

    changed = json.loads(json.dumps(signed.activity))
    changed["assets"][0]["size"] += 1
    assert not verify_activity(changed, signed.signature, key["public_key"])
    assert not verify_activity(signed.activity, signed.signature, key["public_key"], "0" * 16)
    # a certificate-style signature over the bare activity JSON is not accepted
    from cmecore.signatures import _b64url, canonical_json

    bare = _b64url(server.app.state.signing_key.private_key.sign(canonical_json(signed.activity)))
    assert not verify_activity(signed.activity, bare, key["public_key"])


def test_signed_activity_needs_sign_in_and_an_existing_activity(server):
    r = httpx.get(f"{server.api_url}/activities/{DEMO_ID}/signed")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    headers = {"Authorization": f"Bearer {token(server)}"}
    r = httpx.get(f"{server.api_url}/activities/nope/signed", headers=headers)
    assert r.status_code == 404 and r.json()["title"] == "No such activity"
    server.withdraw(DEMO_ID)
    assert httpx.get(f"{server.api_url}/activities/{DEMO_ID}/signed", headers=headers).status_code == 404


def test_pack_issue_signs_the_revision_time_and_digests_and_refuses_withdrawn_ones(server):
    from cmecore.pack_issue import IssuedPack, PackIssue
    from cmecore.signatures import activity_digest, verify_pack_issue

    url = f"{server.api_url}/packs/issue"
    assert httpx.post(url, json={"activity_ids": [DEMO_ID]}).status_code == 401
    headers = {"Authorization": f"Bearer {token(server)}"}
    r = httpx.post(url, json={"activity_ids": [DEMO_ID]}, headers=headers)
    assert r.status_code == 200
    issued = IssuedPack.model_validate_json(r.content)
    (key,) = httpx.get(server.api_url + "/keys").json()["keys"]
    assert verify_pack_issue(issued.issue, issued.signature, key["public_key"], issued.key_id)
    issue = PackIssue.model_validate(issued.issue)
    catalog = httpx.get(server.api_url + "/catalog", headers=headers).json()
    assert issue.catalog_revision == catalog["cursor"]
    [item] = issue.activities
    assert (item.id, item.sha256) == (DEMO_ID, activity_digest(issued.activities[0].activity))
    # an activity signature does not pass as an issue signature, nor the other way round
    assert not verify_pack_issue(issued.activities[0].activity, issued.activities[0].signature, key["public_key"])
    assert not verify_activity(issued.issue, issued.signature, key["public_key"])

    assert httpx.post(url, json={"activity_ids": []}, headers=headers).status_code == 422
    server.withdraw(DEMO_ID)
    r = httpx.post(url, json={"activity_ids": [DEMO_ID]}, headers=headers)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
