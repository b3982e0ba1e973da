"""Sign-in, refresh, sign-out and the learner profile, over real HTTP."""

from __future__ import annotations

from cmecore.protocol import LearnerProfile, Problem, TokenResponse

from .conftest import bearer, sign_in

PROBLEMS = "https://cme-offline.example/problems/"


def test_sign_in_returns_tokens_and_the_learner_profile(api):
    tokens = TokenResponse.model_validate(sign_in(api, "pharm", "demo"))

    assert tokens.refresh_token and tokens.access_token != tokens.refresh_token
    assert tokens.expires_in == 900  # 15 minutes by default
    assert tokens.learner.profession == "pharmacist"
    # Pharmacists' CPE Monitor reporting needs these two fields (DOMAIN rule 6).
    assert tokens.learner.nabp_eprofile_id == "1234567"
    assert tokens.learner.birth_mmdd == "0315"

    me = api.get("/me", headers=bearer(tokens.model_dump()))
    assert me.status_code == 200
    assert LearnerProfile.model_validate(me.json()) == tokens.learner


def test_wrong_password_is_a_plain_401_problem(api):
    r = api.post("/auth/token", json={"username": "demo", "password": "not the password"})

    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    problem = Problem.model_validate(r.json())
    assert problem.title == "Wrong username or password"
    assert problem.type == PROBLEMS + "invalid-credentials"
    # An unknown user looks exactly the same: no hint which usernames exist.
    r2 = api.post("/auth/token", json={"username": "nobody", "password": "not the password"})
    assert (r2.status_code, r2.json()) == (401, r.json())


def test_me_without_or_with_a_bad_token_is_401_with_a_bearer_challenge(api):
    for headers in ({}, {"Authorization": "Bearer not-a-real-token-at-all"}):
        r = api.get("/me", headers=headers)
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert r.json()["type"] == PROBLEMS + "unauthorized"


def test_expired_access_token_is_refreshed_without_a_new_refresh_token(server, api):
    tokens = sign_in(api)
    server.expire_access_tokens()

    r = api.get("/me", headers=bearer(tokens))
    assert r.status_code == 401
    assert r.json()["type"] == PROBLEMS + "token-expired"
    assert r.headers["www-authenticate"].startswith("Bearer")

    refreshed = api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    body = TokenResponse.model_validate(refreshed.json())
    assert body.refresh_token is None  # refresh tokens are not rotated
    assert body.learner.username == "demo"
    assert api.get("/me", headers=bearer(refreshed.json())).status_code == 200
    # The same refresh token keeps working.
    assert api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 200


def test_revoke_signs_out_the_refresh_token_and_its_access_tokens(api):
    tokens = sign_in(api)
    other_device = sign_in(api)

    r = api.post("/auth/revoke", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 204 and r.content == b""

    assert api.get("/me", headers=bearer(tokens)).status_code == 401
    again = api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 401
    assert again.json()["type"] == PROBLEMS + "token-revoked"
    # Another sign-in of the same learner is unaffected.
    assert api.get("/me", headers=bearer(other_device)).status_code == 200


def test_unknown_or_server_revoked_refresh_tokens_are_token_revoked(server, api):
    r = api.post("/auth/refresh", json={"refresh_token": "x" * 43})
    assert r.status_code == 401 and r.json()["type"] == PROBLEMS + "token-revoked"

    tokens = sign_in(api)
    server.revoke_all_refresh_tokens()
    r = api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401 and r.json()["type"] == PROBLEMS + "token-revoked"
    assert api.get("/me", headers=bearer(tokens)).status_code == 401


def test_short_access_ttl_is_reported_to_the_client(start_server):
    from .conftest import client_for

    with client_for(start_server(access_ttl_s=60)) as client:
        assert sign_in(client)["expires_in"] == 60


def test_tokens_and_passwords_are_stored_only_as_hashes(server, api):
    tokens = sign_in(api)
    stored = "\n".join(str(value) for value in every_stored_value(server))  # on either backend
    assert tokens["access_token"] not in stored
    assert tokens["refresh_token"] not in stored
    assert "$argon2id$" in stored


def every_stored_value(server):
    """Every value in every table of the server's database, read through SQLAlchemy."""
    from sqlalchemy import select

    from creditserver.models import Base

    with server.app.state.db.session() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)):
                yield from row

