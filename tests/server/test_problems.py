"""Every error is RFC 9457 problem+json, whatever produced it."""

from __future__ import annotations

from cmecore.protocol import Problem, ServerInfo

PROBLEMS = "https://cme-offline.example/problems/"


def _problem(r, status: int) -> Problem:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = Problem.model_validate(r.json())
    assert problem.status == status and problem.title
    return problem


def test_info_needs_no_sign_in_and_reports_the_time(api):
    r = api.get("/info")
    info = ServerInfo.model_validate(r.json())
    assert info.api_version == 1
    assert info.time.tzinfo is not None
    assert "date" in r.headers  # clients keep the server's clock offset


def test_unknown_path_is_a_404_problem(api):
    assert _problem(api.get("/no-such-endpoint"), 404).type == PROBLEMS + "not-found"


def test_wrong_method_is_a_405_problem_with_allow(api):
    r = api.delete("/info")
    assert _problem(r, 405).type == PROBLEMS + "method-not-allowed"
    assert "GET" in r.headers["allow"]


def test_invalid_body_is_a_422_problem_naming_the_field(api):
    r = api.post("/auth/token", json={"username": "demo"})
    problem = _problem(r, 422)
    assert problem.type == PROBLEMS + "invalid-request"
    assert "body.password" in problem.detail
    assert r.json()["errors"][0]["loc"] == "body.password"


def test_malformed_json_is_a_422_problem(api):
    r = api.post("/auth/token", content=b"{not json", headers={"content-type": "application/json"})
    assert _problem(r, 422).type == PROBLEMS + "invalid-request"


def test_unhandled_error_is_a_500_problem_without_internals(server, api):
    def boom():
        raise RuntimeError("secret internal detail")

    server.app.add_api_route("/api/v1/boom", boom)
    r = api.get("/boom")
    problem = _problem(r, 500)
    assert problem.type == PROBLEMS + "server-error"
    assert "secret internal detail" not in r.text
    assert server.request_log[-1].status == 500


def test_openapi_docs_are_served(api, server):
    import httpx

    schema = httpx.get(server.url + "/openapi.json").json()
    assert "/api/v1/catalog" in schema["paths"]
    assert "/api/v1/media/{sha256}" in schema["paths"]
    assert httpx.get(server.url + "/docs").status_code == 200


def test_every_problem_type_is_documented():
    from pathlib import Path

    from cmecore.protocol import ProblemType

    doc = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")
    for problem_type in ProblemType:
        assert f"`{problem_type.value.rsplit('/', 1)[1]}`" in doc, problem_type
