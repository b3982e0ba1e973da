"""Onboarding and housekeeping through the real command line and the real server:
`learner import` (bad rows reported, good rows imported with one-time set-password codes),
`POST /auth/set-password` (a code works once, and not after it expires), and `prune`
(only what has expired goes, at the command and at start)."""

from __future__ import annotations

import csv
import io
import os
import stat
from datetime import timedelta

from sqlalchemy import func, select, update

from creditserver.cli import main
from creditserver.models import AccessToken, CompletionRejection, Learner, RefreshToken, SetPasswordCode, utcnow

from tests.support.servers import data_options

from .conftest import client_for, sign_in

GOOD_PASSWORD = "correct horse battery"

PEOPLE = """username,name,profession,degree,nabp_eprofile_id,birth_mmdd,board_id
  Alice.Adams ,Dr. Alice Adams,physician,MD,,,ABIM-1
bob,Bob Brown,pharmacist,PharmD,1234567,0229,
carol,Carol Cole,pharmacist,PharmD,12AB,1332,
dave,,physician,MD,,,
BOB,Bob Again,physician,,,,
DEMO,Not the demo,physician,,,,
erin,Erin Eve,astronaut,,,,
frank,Frank Fox,nurse,RN,,,,extra
gina,Gina Gray,Nurse_Practitioner,NP,,,
"""


def credit_cli(capsys, *args: str) -> tuple[int, str, str]:
    """`cme-credit-server ARGS` in this process; returns (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def import_file(server, tmp_path, text: str, *options: str) -> tuple[int, str, str, dict[str, str]]:
    """`learner import` of `text` into the running server's data folder; returns the exit code,
    stdout, stderr and the codes written, by username."""
    source = tmp_path / "people.csv"
    source.write_text(text, encoding="utf-8")
    codes = tmp_path / "codes.csv"
    code, out, err = credit_cli(server.capsys, "learner", "import", *data_options(server),
                             "--codes", str(codes), *options, str(source))
    issued = {}
    if codes.exists():
        issued = {row["username"]: row["code"] for row in csv.DictReader(io.StringIO(codes.read_text(encoding="utf-8")))}
    return code, out, err, issued


def set_password(api, username: str, code: str, password: str = GOOD_PASSWORD):
    return api.post("/auth/set-password", json={"username": username, "code": code, "password": password})


def test_import_reports_each_bad_row_imports_the_good_ones_and_a_code_sets_the_password_once(
        server, tmp_path, capsys):
    server.capsys = capsys
    code, out, err, issued = import_file(server, tmp_path, PEOPLE)

    assert code == 2
    assert "imported 3 learners" in out
    assert sorted(issued) == ["alice.adams", "bob", "gina"]  # normalised like `learner add`
    assert stat.S_IMODE(os.stat(tmp_path / "codes.csv").st_mode) == 0o600
    lines = err.splitlines()
    for expected in ("row 4, nabp_eprofile_id:", "row 4, birth_mmdd:", "row 5, display_name: must not be empty",
                     "row 6, username: 'bob' is already on row 3", "row 7, username: 'demo' is already a learner",
                     "row 8, profession:", "row 9: has more cells"):
        assert any(expected in line for line in lines), (expected, err)
    assert "6 rows not imported" in err

    with client_for(server) as api:
        # Imported with no password: nothing signs in until the learner sets one.
        assert api.post("/auth/token", json={"username": "bob", "password": "", "device_name": "t"}).status_code == 422
        assert api.post("/auth/token", json={"username": "bob", "password": "!", "device_name": "t"}).status_code == 401

        typed = issued["bob"].lower().replace("-", " ")  # case, spaces and dashes as typed do not matter
        assert set_password(api, "Bob", typed).status_code == 204
        tokens = sign_in(api, "bob", GOOD_PASSWORD)
        assert tokens["learner"]["display_name"] == "Bob Brown"
        assert tokens["learner"]["nabp_eprofile_id"] == "1234567" and tokens["learner"]["birth_mmdd"] == "0229"

        again = set_password(api, "bob", issued["bob"], "another long password")
        assert again.status_code == 400 and "already used or expired" in again.json()["detail"]
        sign_in(api, "bob", GOOD_PASSWORD)  # the used code changed nothing

        assert set_password(api, "gina", issued["alice.adams"]).status_code == 400  # another learner's code
        short = set_password(api, "gina", issued["gina"], "short")
        assert short.status_code == 400 and "at least 12 characters" in short.json()["detail"]
        assert set_password(api, "gina", issued["gina"]).status_code == 204  # the refused tries used nothing
        assert sign_in(api, "gina", GOOD_PASSWORD)["learner"]["profession"] == "nurse_practitioner"


def test_an_expired_code_is_refused(server, tmp_path, capsys):
    server.capsys = capsys
    code, _out, _err, issued = import_file(server, tmp_path, "username,display_name,profession\nhal,Hal Hill,nurse\n",
                                           "--code-days", "1")
    assert code == 0 and list(issued) == ["hal"]
    with server.app.state.db.session() as s:
        s.execute(update(SetPasswordCode).values(expires_at=utcnow() - timedelta(seconds=1)))

    with client_for(server) as api:
        refused = set_password(api, "hal", issued["hal"])
        assert refused.status_code == 400 and "expired" in refused.json()["detail"]
        assert api.post("/auth/token", json={"username": "hal", "password": GOOD_PASSWORD,
                                             "device_name": "t"}).status_code == 401


def test_a_file_with_an_unknown_column_is_refused_whole_and_leaves_no_codes_file(server, tmp_path, capsys):
    server.capsys = capsys
    code, _out, err, issued = import_file(server, tmp_path, "username,display_name,profession,shoe_size\nivy,Ivy,nurse,7\n")

    assert code == 2 and "unknown column 'shoe_size'" in err
    assert not (tmp_path / "codes.csv").exists() and issued == {}
    with server.app.state.db.session() as s:
        assert s.execute(select(Learner).where(Learner.username == "ivy")).first() is None


def _count(server, column) -> int:
    with server.app.state.db.session() as s:
        return s.execute(select(func.count(column))).scalar_one()


def _rejection(learner_id: str, days_ago: int) -> CompletionRejection:
    return CompletionRejection(learner_id=learner_id, reason_code="test", reason="a test record", body_json="",
                               received_at=utcnow() - timedelta(days=days_ago))


def test_prune_removes_only_expired_tokens_and_rejection_records_older_than_asked(server, capsys):
    with client_for(server) as api:
        old = sign_in(api)
        server.expire_access_tokens()  # the first sign-in's access token has expired
        live = sign_in(api)
        learner_id = live["learner"]["id"]
        with server.app.state.db.session() as s:  # and the first sign-in's refresh token too
            s.execute(update(RefreshToken).where(RefreshToken.id == select(func.min(RefreshToken.id)).scalar_subquery())
                      .values(expires_at=utcnow() - timedelta(days=1)))
            s.add_all([_rejection(learner_id, 100), _rejection(learner_id, 40), _rejection(learner_id, 10)])

        code, out, _err = credit_cli(capsys, "prune", *data_options(server), "--rejection-days", "30")

        assert code == 0
        assert "pruned 1 expired access tokens, 1 expired refresh tokens" in out
        assert "2 old rejection records and 0 xAPI statements" in out
        assert _count(server, AccessToken.id) == 1 and _count(server, RefreshToken.id) == 1
        assert _count(server, CompletionRejection.id) == 1
        assert api.get("/me", headers={"Authorization": f"Bearer {live['access_token']}"}).status_code == 200
        assert api.post("/auth/refresh", json={"refresh_token": live["refresh_token"]}).status_code == 200
        assert api.post("/auth/refresh", json={"refresh_token": old["refresh_token"]}).status_code == 401


def test_the_server_prunes_at_start(start_server):
    first = start_server()
    with client_for(first) as api:
        learner_id = sign_in(api)["learner"]["id"]
    first.expire_access_tokens()
    with first.app.state.db.session() as s:
        s.add_all([_rejection(learner_id, 100), _rejection(learner_id, 10)])
    first.stop()

    again = start_server(again=first)

    assert _count(again, AccessToken.id) == 0
    assert _count(again, RefreshToken.id) == 1  # its refresh token lives on: the device refreshes
    assert _count(again, CompletionRejection.id) == 1


def test_a_header_naming_a_column_twice_or_missing_a_required_one_is_refused(server, tmp_path, capsys):
    server.capsys = capsys
    code, _out, err, _issued = import_file(server, tmp_path, "username,name,display_name,profession\njo,Jo,Jo,nurse\n")
    assert code == 2 and "names a column twice" in err

    (tmp_path / "codes.csv").unlink(missing_ok=True)
    code, _out, err, _issued = import_file(server, tmp_path, "username,profession\njo,nurse\n")
    assert code == 2 and "no 'display_name' column" in err


def test_learner_code_gives_a_new_code_and_the_earlier_one_stops_working(server, capsys):
    """For a learner whose code was lost or expired, or who forgot their password."""
    server.add_learner("Kim", "the old password", profession="nurse", display_name="Kim Kent")
    where = data_options(server)

    def new_code(*options: str) -> str:
        code, out, _err = credit_cli(capsys, "learner", "code", *where, *options)
        assert code == 0 and out.startswith("kim (Kim Kent): set-password code "), out
        return out.split("set-password code ", 1)[1].split(",", 1)[0]

    lost = new_code("kim")
    again = new_code("--code-days", "2", "KIM ")
    with client_for(server) as api:
        assert set_password(api, "kim", lost).status_code == 400  # the earlier code no longer works
        assert set_password(api, "kim", again).status_code == 204
        assert sign_in(api, "kim", GOOD_PASSWORD)["learner"]["display_name"] == "Kim Kent"
        assert api.post("/auth/token", json={"username": "kim", "password": "the old password",
                                             "device_name": "t"}).status_code == 401

    code, _out, err = credit_cli(capsys, "learner", "code", *where, "nobody")
    assert code == 2 and "there is no learner 'nobody' here" in err


def test_import_refuses_a_row_with_a_nul_and_imports_the_others(server, tmp_path, capsys):
    server.capsys = capsys
    people = "username,name,profession\nnora,Nora\x00 North,nurse\nol\x00iver,Oliver,nurse\npaul,Paul Park,nurse\n"
    code, out, err, issued = import_file(server, tmp_path, people)
    assert code == 2 and "imported 1 learners" in out, (out, err)
    assert sorted(issued) == ["paul"]
    assert "row 2, display_name: must not contain a NUL character" in err
    assert "row 3, username: must not contain a NUL character" in err
