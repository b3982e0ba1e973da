"""`cme-credit-server report --pars/--cpe-monitor`: the files the accreditors take (rule 8:
only consenting learners), read back as PARS and CPE Monitor would read them."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from creditserver.cli import main
from creditserver.report_files import CPE_MONITOR_COLUMNS, PARS_COLUMNS, board_and_id, field_text, split_name
from creditserver.runner import RunningServer

from tests.support.activities import activity_doc

from .conftest import CREDIT_ACTIVITY, write_folder
from tests.support.servers import data_options

from .credit_support import claim_for, completion, post, signed_in

DOCS = Path(__file__).parents[2] / "docs" / "reporting.md"

# The columns as docs/reporting.md documents them; the files must match them exactly.
PARS_HEADER = [
    "ACCME Activity ID", "Learner First Name", "Learner Last Name", "Birth Month", "Birth Day", "Licensing State",
    "State License Number", "Certifying Board", "Certifying Board ID", "Completion Date",
    "AMA PRA Category 1 Credits", "Record Action",
]
CPE_HEADER = ["epid", "date_of_birth", "uan", "date_of_participation", "participant_type", "contact_hours"]
DEMO_ACCME_ID = "999999999"  # the demo activity's (fictional) ACCME activity id
DEMO_UAN = "0000-9999-26-001-H01-P"


def report(capsys, server: RunningServer, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["report", *data_options(server), *args])
    out, err = capsys.readouterr()
    return code, out, err


def pars_rows(path: Path) -> list[list[str]]:
    """The PARS file as a tab-delimited reader sees it: CRLF records, no quoting, header first."""
    text = path.read_bytes().decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "") and "\r" not in text.replace("\r\n", "")
    rows = list(csv.reader(text.split("\r\n")[:-1], delimiter="\t", quoting=csv.QUOTE_NONE))
    assert all(len(r) == len(PARS_HEADER) for r in rows), rows
    return rows


def cpe_rows(path: Path) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8"), newline=""))
    rows = list(reader)
    assert reader.fieldnames == CPE_HEADER
    return rows


def us(d: date) -> str:
    return d.strftime("%m/%d/%Y")


def without_ids(activity_id: str) -> dict:
    """The demo activity with neither its ACCME activity id nor its UAN."""
    doc = activity_doc(activity_id)
    for statement in doc["accreditation"]:
        statement.pop("accme_activity_id", None)
        statement.pop("uan", None)
    return doc


def owner_only(path: Path) -> bool:
    return stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_files_hold_each_consenting_record_and_refuse_incomplete_ones_by_name(credit_server, credit_api, tmp_path, capsys):
    server, api = credit_server, credit_api
    no_ids = "no-ids"
    folder_warnings = server.publish(_folder(tmp_path, without_ids(no_ids)), allow_expired=True).warnings
    assert any("accreditation.0.accme_activity_id: missing" in w for w in folder_warnings), folder_warnings
    assert any("accreditation.4.uan: missing" in w for w in folder_warnings), folder_warnings

    learners = {  # username: (display name, profession, claim overrides)
        "zoe": ("Zoë van der Berg, MD", "physician", {"board_id": None}),
        "tabby": ("Li\tWei\nChen", "physician", {"licence_state": None, "licence_number": None,
                                                 "board_id": "abim 123456"}),
        "nob": ("Nora Nobirth", "physician", {"birth_mmdd": None}),
        "cher": ("Cher", "physician", {}),
        "quiet": ("Quinn Quiet", "physician", {"reporting_consent": False}),
        "pa": ("Pat Assistant", "physician_assistant", {}),
        "pharm2": ("Phil Pharm", "pharmacist", {"reporting_consent": False}),
    }
    for username, (name, profession, overrides) in learners.items():
        server.add_learner(username, "pw", profession=profession, display_name=name)
        claim = claim_for(profession, **overrides)
        [result] = post(api, signed_in(api, username, "pw"), completion(CREDIT_ACTIVITY, claim=claim))
        assert result["status"] == "accepted", (username, result)
    doctor, pharmacist = signed_in(api, "demo"), signed_in(api, "pharm")
    results = [*post(api, doctor, completion(CREDIT_ACTIVITY), completion(no_ids)),
               *post(api, pharmacist, completion(CREDIT_ACTIVITY, profession="pharmacist"),
                     completion(no_ids, profession="pharmacist"))]
    assert [r["status"] for r in results] == ["accepted"] * 4
    done = (datetime.now(UTC) - timedelta(hours=1)).date()
    pars, cpe = tmp_path / "out" / "pars.txt", tmp_path / "out" / "cpe.csv"
    pars.parent.mkdir()

    code, out, err = report(capsys, server, "--pars", str(pars), "--cpe-monitor", str(cpe))

    assert code == 2, err
    [header, *rows] = pars_rows(pars)
    assert header == PARS_HEADER
    by_last = {r[2]: r for r in rows}
    assert sorted(by_last) == ["Chen", "Demo", "van der Berg"]  # consenting physicians with what PARS needs
    assert by_last["Demo"] == [DEMO_ACCME_ID, "Dana", "Demo", "07", "04", "MA", "DEMO-0001", "ABIM", "000000",
                               us(done), "0.5", "Add"]
    assert by_last["van der Berg"][:9] == [DEMO_ACCME_ID, "Zoë", "van der Berg", "07", "04", "MA", "DEMO-0001", "", ""]
    assert by_last["Chen"][:9] == [DEMO_ACCME_ID, "Li Wei", "Chen", "07", "04", "", "", "ABIM", "123456"]
    assert cpe_rows(cpe) == [{
        "epid": "1234567", "date_of_birth": "0315", "uan": DEMO_UAN, "date_of_participation": done.isoformat(),
        "participant_type": "P", "contact_hours": "0.5"}]
    assert owner_only(pars) and owner_only(cpe)

    refusals = [line for line in err.splitlines() if "refused" in line and "records" not in line]
    assert len(refusals) == 4, err
    assert _one(refusals, "PARS: refused demo (Dr. Dana Demo), activity no-ids", "accme_activity_id")
    assert _one(refusals, "PARS: refused nob (Nora Nobirth), activity credit-test", "birth_mmdd")
    assert _one(refusals, "PARS: refused cher (Cher), activity credit-test", "a first and a last name")
    assert _one(refusals, "CPE Monitor: refused pharm (Pat Pharm), activity no-ids", "ACPE UAN")
    assert all(f"completed {done.isoformat()}" in line for line in refusals)
    for silent in ("quiet", "pa", "pharm2"):  # no consent, or nothing to report to: not a refusal
        assert f"refused {silent} " not in err
    assert "PARS: wrote 3 records" in out and "refused 3 records" in out
    assert "CPE Monitor: wrote 1 record " in out and "refused 1 record " in out


def _one(lines: list[str], start: str, field: str) -> bool:
    return sum(start in line and field in line for line in lines) == 1


def _folder(tmp_path: Path, doc: dict) -> Path:
    """A publish folder for `doc` (no media, so no watching asked)."""
    return write_folder(tmp_path / f"pub-{doc['id']}", {**doc, "participation": {"min_watched_share": 0.0}}, files={})


def test_a_complete_run_exits_0_replaces_a_wider_file_and_keeps_to_the_dates(credit_server, credit_api, tmp_path, capsys):
    post(credit_api, signed_in(credit_api, "demo"), completion(CREDIT_ACTIVITY))
    done = (datetime.now(UTC) - timedelta(hours=1)).date()
    pars = tmp_path / "pars.txt"
    pars.write_text("an older report\n")
    os.chmod(pars, 0o644)

    code, out, err = report(capsys, credit_server, "--pars", str(pars), "--until",
                            (done - timedelta(days=1)).isoformat())
    assert (code, err) == (0, "")
    assert pars_rows(pars) == [PARS_HEADER] and owner_only(pars)
    assert out == f"PARS: wrote 0 records to {pars}\n"  # the files alone: no listing on stdout

    code, out, err = report(capsys, credit_server, "--pars", str(pars), "--since", done.isoformat(),
                            "--until", done.isoformat(), "--json")
    assert (code, err) == (0, "")
    assert [r[1:3] for r in pars_rows(pars)[1:]] == [["Dana", "Demo"]]
    assert '"accme_activity_id": "999999999"' in out and "PARS: wrote 1 record to" in out

    code, _out, err = report(capsys, credit_server, "--since", "2026-02-01", "--until", "2026-01-01")
    assert code == 2 and "--until 2026-01-01 is before --since 2026-02-01" in err


def test_publish_warns_when_an_activity_lacks_what_reporting_needs(tmp_path, capsys):
    folder = _folder(tmp_path, without_ids("warned"))
    capsys.readouterr()
    assert main(["publish", "--data-dir", str(tmp_path / "data"), str(folder)]) == 0
    out, err = capsys.readouterr()
    assert "published warned version 1" in out
    assert err.count("warning: ") == 2, err
    assert "accreditation.0.accme_activity_id: missing" in err and "report --pars" in err
    assert "accreditation.4.uan: missing" in err and "report --cpe-monitor" in err


def test_the_documented_columns_are_the_columns_written():
    text = DOCS.read_text(encoding="utf-8")
    assert _columns(text, "PARS learner file") == PARS_HEADER == list(PARS_COLUMNS)
    assert _columns(text, "CPE Monitor file") == CPE_HEADER == list(CPE_MONITOR_COLUMNS)


def _columns(text: str, heading: str) -> list[str]:
    """The column names in the first table under `## heading` (first cell of each row, in backquotes)."""
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| *\d+ *\| *`([^`]+)`", section, flags=re.MULTILINE)


@pytest.mark.parametrize(("name", "first", "last"), [
    ("Dr. Dana Demo", "Dana", "Demo"),
    ("Dana Q. Demo, MD, FACP", "Dana Q.", "Demo"),
    ("Prof Zoë van der Berg", "Zoë", "van der Berg"),
    ("Martin Luther King Jr.", "Martin Luther", "King Jr."),
    ("Minh Do", "Minh", "Do"),  # a family name, not the degree
    ("Ana María García-López PharmD", "Ana María", "García-López"),
    ("Zoë Łukasiewicz-Ångström", "Zoë", "Łukasiewicz-Ångström"),
    ("Cher", "Cher", ""),
    ("Dr.", "", ""),
])
def test_a_certificate_name_gives_the_first_and_last_name_pars_matches_on(name, first, last):
    assert split_name(name) == (first, last)


def test_values_are_one_line_and_board_ids_name_their_board():
    assert field_text("Li\tWei\r\nChen\x00 \u2028 Jr") == "Li Wei Chen Jr"
    assert board_and_id("ABIM-000000") == ("ABIM", "000000")
    assert board_and_id("aba: 12-345") == ("ABA", "12-345")
    assert board_and_id("123456") == ("", "")
