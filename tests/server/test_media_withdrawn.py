"""`GET /media/{sha256}` of a withdrawn activity's files: refused (403, problem+json) to a
learner with no completion for it, still served to one who completed it, and always served
while another, live activity uses the same file. Real server over loopback."""

from __future__ import annotations

import hashlib

from cmecore.protocol import ProblemType

from tests.support.activities import activity_doc

from .conftest import CREDIT_ACTIVITY, write_folder
from .credit_support import completion, post, signed_in

VIDEO = bytes(range(256)) * 40  # credit-test's stand-in video (tests/server/conftest.py)
VIDEO_SHA = hashlib.sha256(VIDEO).hexdigest()


def test_withdrawn_media_only_for_learners_who_completed_it(credit_server, credit_api, tmp_path):
    demo = signed_in(credit_api, "demo")
    pharm = signed_in(credit_api, "pharm")
    [done] = post(credit_api, demo, completion(CREDIT_ACTIVITY))
    assert done["status"] == "accepted"
    assert credit_api.get(f"/media/{VIDEO_SHA}", headers=pharm).status_code == 200  # live: everyone

    credit_server.withdraw(CREDIT_ACTIVITY)

    refused = credit_api.get(f"/media/{VIDEO_SHA}", headers=pharm)
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"] == ProblemType.activity_withdrawn and problem["status"] == 403
    assert "withdrawn" in problem["detail"]
    assert credit_api.head(f"/media/{VIDEO_SHA}", headers=pharm).status_code == 403
    assert credit_api.get(f"/media/{VIDEO_SHA}", headers={"Range": "bytes=0-9", **pharm}).status_code == 403
    served = credit_api.get(f"/media/{VIDEO_SHA}", headers=demo)
    assert served.status_code == 200 and served.content == VIDEO
    assert credit_api.get(f"/media/{VIDEO_SHA}").status_code == 401  # sign-in still comes first

    # The same file in a live activity is served to everyone again.
    doc = activity_doc("still-here", assets=[{"path": "talk.mp4", "title": "Talk"}])
    credit_server.publish(write_folder(tmp_path / "still-here", doc, files={"talk.mp4": VIDEO}), videos_as_is=True)
    assert credit_api.get(f"/media/{VIDEO_SHA}", headers=pharm).status_code == 200
    credit_server.withdraw("still-here")
    assert credit_api.get(f"/media/{VIDEO_SHA}", headers=pharm).status_code == 403
