"""`cme-credit-server report`: accepted completions with what ACCME PARS and NABP CPE Monitor need.

One row per credited completion. `reportable` is true only when the learner consented to
reporting in that claim (rule 8) and the credit has somewhere to go: physicians' AMA PRA
credit to PARS / CME Passport, pharmacists' ACPE credit to CPE Monitor. (ACCME's learner
reporting is for physician learners; a PA's or NP's AMA PRA credit goes nowhere from here.)
Pharmacy credit must reach CPE Monitor within 60 days of participation (rule 6): rows are
flagged `due_soon` from day 30 and `late` after day 60, counted from the completion date.
The accreditor files themselves are written from these rows by report_files.py.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import date

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cmecore.profile import BOARD_ID, CLAIM_IDS, LICENCE_NUMBER, LICENCE_STATE
from cmecore.protocol import AccreditationStatement, Activity, CertificateRecord, Profession

from .db import Database
from .models import ActivityRecord, ActivityVersion, Certificate, Completion, Learner, utcnow

CPE_DEADLINE_DAYS = 60
CPE_WARN_DAYS = 30


@dataclass(frozen=True)
class ReportRow:
    completion_id: str
    certificate_id: str
    learner_id: str
    learner_name: str
    username: str
    profession: str
    degree: str
    board_id: str
    licence_state: str
    licence_number: str
    nabp_eprofile_id: str
    birth_mmdd: str
    activity_id: str
    activity_version: int
    activity_title: str
    providers: str
    uan: str
    accme_activity_id: str  # the activity's id in PARS (physicians' AMA PRA credit), "" when it has none
    completion_date: str
    credits: float
    contact_hours: float | None
    credit_type: str
    reporting_consent: bool
    report_to: str  # "PARS", "CPE Monitor" or "" (nowhere: a statement of participation)
    reportable: bool
    days_since_completion: int
    report_by: str  # pharmacy: completion date + 60 days
    due_soon: bool
    late: bool
    received_at: str


FIELDS = list(ReportRow.__dataclass_fields__)


def build_report(db: Database, since: date | None = None, until: date | None = None,
                 today: date | None = None) -> list[ReportRow]:
    """Every credited completion from `since` to `until` (completion dates, both included)."""
    today = today or utcnow().date()
    rows: list[ReportRow] = []
    with db.session() as s:
        statements = _Statements(s)
        query = (
            select(Completion, Learner, Certificate)
            .join(Learner, Learner.id == Completion.learner_id)
            .join(Certificate, Certificate.completion_id == Completion.id)
            .where(Completion.passed.is_(True))
            .order_by(Certificate.completion_date, Completion.received_at, Completion.id)
        )
        if since is not None:
            query = query.where(Certificate.completion_date >= since)
        if until is not None:
            query = query.where(Certificate.completion_date <= until)
        for c, learner, cert in s.execute(query).all():
            record = CertificateRecord.model_validate_json(cert.record_json)
            statement = statements.find(c.activity_id, c.activity_version, c.profession)
            if c.profession == Profession.pharmacist:
                report_to = "CPE Monitor"
            elif c.profession == Profession.physician and "AMA PRA Category 1" in c.credit_type:
                report_to = "PARS"
            else:
                report_to = ""
            age = (today - record.completion_date).days
            pharmacy = report_to == "CPE Monitor"
            rows.append(
                ReportRow(
                    completion_id=c.id,
                    certificate_id=cert.id,
                    learner_id=learner.id,
                    learner_name=record.learner_name,
                    username=learner.username,
                    profession=c.profession,
                    degree=learner.degree,
                    **reported_ids(c, learner),
                    activity_id=c.activity_id,
                    activity_version=c.activity_version,
                    activity_title=record.activity_title,
                    providers=" and ".join(record.providers),
                    uan=record.uan or (statement.uan if statement else None) or "",
                    accme_activity_id=(statement.accme_activity_id if statement else None) or "",
                    completion_date=record.completion_date.isoformat(),
                    credits=c.credits_claimed,
                    contact_hours=record.contact_hours,
                    credit_type=c.credit_type,
                    reporting_consent=c.reporting_consent,
                    report_to=report_to,
                    reportable=bool(c.reporting_consent and report_to),
                    days_since_completion=age,
                    report_by=(
                        date.fromordinal(record.completion_date.toordinal() + CPE_DEADLINE_DAYS).isoformat()
                        if pharmacy
                        else ""
                    ),
                    due_soon=pharmacy and CPE_WARN_DAYS <= age <= CPE_DEADLINE_DAYS,
                    late=pharmacy and age > CPE_DEADLINE_DAYS,
                    received_at=c.received_at.isoformat().replace("+00:00", "Z"),
                )
            )
    return rows


class _Statements:
    """The accreditation statement a completion was credited under, from the version the
    learner completed; an id that version lacks (an ACCME activity id, a UAN) is taken from
    the newest version, as PARS and ACPE register the activity, not our content versions."""

    def __init__(self, s: Session) -> None:
        self._s = s
        self._docs: dict[tuple[str, int | None], Activity | None] = {}

    def find(self, activity_id: str, version: int, profession: str) -> AccreditationStatement | None:
        taken = self._statement(self._activity(activity_id, version), profession)
        newest = self._statement(self._activity(activity_id, None), profession)
        if taken is None or newest is None:
            return taken or newest
        return taken.model_copy(update={
            "accme_activity_id": taken.accme_activity_id or newest.accme_activity_id,
            "uan": taken.uan or newest.uan,
        })

    def _activity(self, activity_id: str, version: int | None) -> Activity | None:
        key = (activity_id, version)
        if key not in self._docs:
            if version is None:
                found = self._s.get(ActivityRecord, activity_id)
            else:
                found = self._s.get(ActivityVersion, (activity_id, version)) or self._s.get(ActivityRecord, activity_id)
            try:
                self._docs[key] = Activity.model_validate_json(found.json_text) if found is not None else None
            except ValidationError:  # an activity stored before today's rules: report without its ids
                self._docs[key] = None
        return self._docs[key]

    @staticmethod
    def _statement(activity: Activity | None, profession: str) -> AccreditationStatement | None:
        if activity is None:
            return None
        return next((st for st in activity.accreditation if st.profession == profession), None)


def reported_ids(claim: Completion, learner: Learner) -> dict[str, str]:
    """The ids reported with a credit (cmecore.profile.CLAIM_IDS), "" where there is none.

    They come from the claim. A board or licence the claim left out is taken from the
    profile; the NABP e-Profile ID and birth MMDD never are: they are reported only as the
    learner sent them with this claim and its consent (rule 8).
    """
    ids = {f.name: getattr(claim, f.name) or "" for f in CLAIM_IDS}
    for f in (BOARD_ID, LICENCE_STATE, LICENCE_NUMBER):
        ids[f.name] = ids[f.name] or getattr(learner, f.name) or ""
    return ids


def to_json(rows: list[ReportRow]) -> str:
    return json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2)


def to_csv(rows: list[ReportRow]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in asdict(r).items()})
    return out.getvalue()


def to_text(rows: list[ReportRow]) -> str:
    if not rows:
        return "no accepted completions\n"
    lines = []
    for r in rows:
        flags = []
        if r.reportable:
            flags.append(f"report to {r.report_to}")
        elif r.report_to:
            flags.append("NOT reportable (no consent)")
        if r.late:
            flags.append(f"LATE (due {r.report_by})")
        elif r.due_soon:
            flags.append(f"due by {r.report_by}")
        lines.append(
            f"{r.completion_date}  {r.learner_name} ({r.profession})  {r.activity_id}  "
            f"{r.credits:g} {r.credit_type}{'  UAN ' + r.uan if r.uan else ''}  [{', '.join(flags) or 'no reporting'}]"
        )
    reportable = sum(r.reportable for r in rows)
    late = sum(r.late for r in rows)
    lines.append(f"{len(rows)} completions, {reportable} reportable, {late} late")
    return "\n".join(lines) + "\n"
