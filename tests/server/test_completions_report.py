"""`cme-credit-server report`: the fields PARS and CPE Monitor need, consent (rule 8), the 60-day window (rule 6)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from creditserver.cli import main

from tests.support.activities import WRONG, today
from tests.support.servers import data_options

from .conftest import CREDIT_ACTIVITY
from .credit_support import claim_for, completion, post, publish_copies, signed_in


def run_report(capsys, server, *args: str) -> str:
    capsys.readouterr()
    assert main(["report", *data_options(server), *args]) == 0
    return capsys.readouterr().out


def test_report_lists_accepted_completions_with_pars_and_cpe_fields_rules_6_and_8(credit_server, credit_api, tmp_path, capsys):
    late_id, soon_id = publish_copies(credit_server, tmp_path, "pharm", 2, release=today() - timedelta(days=200))
    doctor = signed_in(credit_api, "demo")
    pharm = signed_in(credit_api, "pharm")
    now = datetime.now(UTC)
    [ok] = post(credit_api, doctor, completion(CREDIT_ACTIVITY))
    results = post(
        credit_api, pharm,
        completion(CREDIT_ACTIVITY, claim=claim_for("pharmacist", reporting_consent=False)),
        completion(late_id, profession="pharmacist", completed=now - timedelta(days=70)),
        completion(soon_id, profession="pharmacist", completed=now - timedelta(days=35)),
    )
    assert ok["status"] == "accepted" and [r["status"] for r in results] == ["accepted"] * 3
    # A failed one is not reported.
    credit_server.add_learner("fay", "pw", profession="physician", display_name="Dr. Fay")
    post(credit_api, signed_in(credit_api, "fay", "pw"), completion(CREDIT_ACTIVITY, answers=[WRONG]))

    rows = json.loads(run_report(capsys, credit_server, "--json"))

    assert len(rows) == 4
    by = {(r["username"], r["activity_id"]): r for r in rows}
    doc = by[("demo", CREDIT_ACTIVITY)]
    assert doc["learner_name"] == "Dr. Dana Demo" and doc["profession"] == "physician"
    assert (doc["board_id"], doc["licence_state"], doc["licence_number"], doc["birth_mmdd"]) == (
        "ABIM-000000", "MA", "DEMO-0001", "0704")
    assert (doc["credits"], doc["credit_type"], doc["report_to"]) == (0.5, "AMA PRA Category 1 Credit", "PARS")
    assert doc["reporting_consent"] is True and doc["reportable"] is True and doc["late"] is False
    assert doc["activity_title"].startswith("Home Blood-Pressure Monitoring")
    assert doc["completion_date"] == (now - timedelta(hours=1)).date().isoformat()

    no_consent = by[("pharm", CREDIT_ACTIVITY)]
    assert no_consent["reporting_consent"] is False and no_consent["reportable"] is False
    assert (no_consent["nabp_eprofile_id"], no_consent["birth_mmdd"]) == ("1234567", "0315")
    assert no_consent["uan"] == "0000-9999-26-001-H01-P" and no_consent["contact_hours"] == 0.5
    assert no_consent["report_to"] == "CPE Monitor"

    late = by[("pharm", late_id)]
    assert late["reportable"] is True and late["late"] is True and late["days_since_completion"] == 70
    soon = by[("pharm", soon_id)]
    assert soon["late"] is False and soon["due_soon"] is True
    assert soon["report_by"] == ((now - timedelta(days=35)).date() + timedelta(days=60)).isoformat()


def test_report_csv_and_since(credit_server, credit_api, tmp_path, capsys):
    [old_id] = publish_copies(credit_server, tmp_path, "old", 1, release=today() - timedelta(days=200))
    pharm = signed_in(credit_api, "pharm")
    post(credit_api, pharm, completion(old_id, profession="pharmacist", completed=datetime.now(UTC) - timedelta(days=90)))
    post(credit_api, pharm, completion(CREDIT_ACTIVITY, profession="pharmacist"))

    rows = list(csv.DictReader(io.StringIO(run_report(capsys, credit_server, "--csv"))))
    recent = list(csv.DictReader(io.StringIO(run_report(
        capsys, credit_server, "--csv", "--since", (today() - timedelta(days=10)).isoformat()))))
    text = run_report(capsys, credit_server)

    assert [r["activity_id"] for r in rows] == [old_id, CREDIT_ACTIVITY]
    assert rows[0]["late"] == "True" and rows[0]["nabp_eprofile_id"] == "1234567"
    assert [r["activity_id"] for r in recent] == [CREDIT_ACTIVITY]
    assert "LATE" in text and "2 completions, 2 reportable, 1 late" in text
