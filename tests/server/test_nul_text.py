"""Text PostgreSQL cannot store: a NUL (U+0000) in any text a client or an admin sends is
refused with a reason that names the field, never answered with a 5xx; in a completion
batch only the item carrying it is refused, on every retry, and the others are credited.
Run on both backends (`--server-db=postgresql`), where a NUL used to reach the database.
(`learner import`: tests/server/test_onboarding.py.)"""

from __future__ import annotations

import copy
import json

from creditserver.cli import main

from tests.support.activities import activity_doc

from .conftest import bearer, client_for, sign_in, write_folder
from .credit_support import completion, post, signed_in

NUL = "\x00"

# Every free-text field a completion carries, as a path into its JSON.
COMPLETION_TEXTS = [
    ("claim", "credit_type"),
    ("claim", "board_id"),
    ("claim", "licence_state"),
    ("claim", "licence_number"),
    ("evaluation", "texts", "e4"),
    ("evaluation", "commitments", 0),
]
# Fields with a narrow alphabet: refused by their pattern, the field named all the same.
COMPLETION_IDS = [("activity_id",), ("id",), ("claim", "birth_mmdd"), ("attempts", 0, "answers", "q1", 0)]


def with_nul(item: dict, path: tuple) -> dict:
    changed = copy.deepcopy(item)
    inner = changed
    for step in path[:-1]:
        inner = inner[step]
    inner[path[-1]] = f"text{NUL}with a NUL"
    return changed


def assert_refused_naming(reply, field: str) -> None:
    assert reply.status_code == 422, reply.text
    problem = reply.json()
    assert problem["type"] == "https://cme-offline.example/problems/invalid-request"
    assert problem["detail"].startswith(f"body.{field}:") and "NUL" in problem["detail"], problem["detail"]


def test_sign_in_refuses_a_nul_in_the_username_password_or_device_name(server):
    with client_for(server) as api:
        for field in ("username", "password", "device_name"):
            body = {"username": "demo", "password": "demo", "device_name": "laptop", field: f"demo{NUL}"}
            assert_refused_naming(api.post("/auth/token", json=body), field)
        assert sign_in(api)["learner"]["username"] == "demo"  # nothing stuck


def test_refresh_revoke_and_set_password_refuse_a_nul(server):
    with client_for(server) as api:
        token = f"{'r' * 20}{NUL}"
        assert_refused_naming(api.post("/auth/refresh", json={"refresh_token": token}), "refresh_token")
        assert_refused_naming(api.post("/auth/revoke", json={"refresh_token": token}), "refresh_token")
        for field in ("username", "code", "password"):
            body = {"username": "demo", "code": "ABCD-EFGH", "password": "correct horse battery", field: f"x{NUL}y"}
            assert_refused_naming(api.post("/auth/set-password", json=body), field)


def test_an_activity_id_with_a_nul_is_no_activity(server):
    with client_for(server) as api:
        auth = bearer(sign_in(api))
        r = api.get("/activities/demo%00x/signed", headers=auth)
        assert r.status_code == 404 and r.json()["title"] == "No such activity"
        r = api.post("/packs/issue", json={"activity_ids": [f"demo{NUL}"]}, headers=auth)
        assert r.status_code == 422, r.text


def test_a_nul_in_any_text_of_a_completion_refuses_that_item_alone_on_every_retry(credit_server, credit_api):
    auth = signed_in(credit_api, "demo")
    good = completion("credit-test")
    paths = COMPLETION_TEXTS + COMPLETION_IDS
    bad = [with_nul(completion("credit-test"), path) for path in paths]
    batch = [*bad[:3], good, *bad[3:]]

    first = post(credit_api, auth, *batch)
    again = post(credit_api, auth, *batch)  # a client retrying after a lost reply

    for results in (first, again):
        refused = results[:3] + results[4:]
        for path, result in zip(paths, refused, strict=True):
            field = ".".join(str(step) for step in path)
            assert (result["status"], result["reason_code"]) == ("rejected", "invalid"), (field, result)
            assert f"could not be read: {field}" in result["reason"], (field, result["reason"])
            if path in COMPLETION_TEXTS:
                assert "NUL" in result["reason"], result["reason"]
            assert NUL not in result["reason"]
    assert first[3]["status"] == "accepted" and first[3]["certificate_id"]
    assert again[3]["status"] == "duplicate" and again[3]["certificate_id"] == first[3]["certificate_id"]
    mine = credit_api.get("/me/completions", headers=auth).json()["completions"]
    assert [c["id"] for c in mine] == [good["id"]]


def test_publish_refuses_an_activity_with_a_nul_and_names_the_field(server, tmp_path, capsys):
    from tests.support.servers import data_options

    doc = activity_doc("nul-title")
    doc["title"] = f"Hyper{NUL}tension"
    folder = write_folder(tmp_path / "pub", json.dumps(doc))
    capsys.readouterr()
    assert main(["publish", *data_options(server), str(folder)]) == 2
    err = capsys.readouterr().err
    assert "title" in err and "NUL" in err, err
    with client_for(server) as api:
        ids = [a["id"] for a in api.get("/catalog", headers=bearer(sign_in(api))).json()["activities"]]
    assert "nul-title" not in ids

