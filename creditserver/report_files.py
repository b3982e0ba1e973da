"""The files the accreditors take: ACCME PARS learner completions and NABP CPE Monitor credit.

`report --pars FILE.txt` writes physicians' AMA PRA credit as a tab-delimited text file for
PARS's learner batch upload; `report --cpe-monitor FILE.csv` writes pharmacists' ACPE credit
with the fields CPE Monitor matches on. Only reportable rows (report.py: the learner
consented in that claim, rule 8) are candidates. A record that lacks a field the
accreditor needs is refused, with one `Refusal` naming the learner, the activity and the
fields; the others are written. docs/reporting.md gives the columns, their formats, where
they come from and what in them is our reading rather than the accreditor's own words.

Both files are written owner-only (cmecore.private_files): they hold birth dates and
licence numbers. Every value is one line of plain text (`field_text`): a tab, newline or
other control character a learner typed into their name becomes a space, so no value can
start a new column or record and the PARS file needs no quoting at all.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cmecore.private_files import open_private

from .report import ReportRow

# PARS: tab-delimited, one header row, CRLF line ends (as Excel saves "Text (Tab delimited)").
PARS_COLUMNS: tuple[str, ...] = (
    "ACCME Activity ID",
    "Learner First Name",
    "Learner Last Name",
    "Birth Month",
    "Birth Day",
    "Licensing State",
    "State License Number",
    "Certifying Board",
    "Certifying Board ID",
    "Completion Date",
    "AMA PRA Category 1 Credits",
    "Record Action",
)
PARS_ADD = "Add"
# CPE Monitor: CSV named as ACPE's CPE Monitor web service names its parameters, plus the
# participant type and the contact hours (see docs/reporting.md).
CPE_MONITOR_COLUMNS: tuple[str, ...] = (
    "epid",
    "date_of_birth",
    "uan",
    "date_of_participation",
    "participant_type",
    "contact_hours",
)
PHARMACIST = "P"  # participant type; pharmacy technicians ("T") are not a profession here

# What is stripped from a certificate name to find the first and last name PARS matches on.
_HONORIFICS = {"dr", "prof", "professor", "mr", "mrs", "ms", "mx", "miss"}
# Only letters no surname is: "Do" and "Pa" are family names as often as degrees.
_DEGREES = {"md", "mbbs", "mbchb", "phd", "pharmd", "rph", "pa-c", "rn", "aprn", "dnp", "mph", "facp", "faafp", "facs"}
_SURNAME_PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "la", "le", "ter", "ten",
                      "dos", "das", "bin", "al", "el", "st", "st."}
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}
# "ABIM-123456", "ABIM 123456", "ABIM: 123456": the board's letters, then its id for the learner.
_BOARD_ID = re.compile(r"^([A-Za-z]{2,10})\s*[-:#\s]\s*([A-Za-z0-9][A-Za-z0-9-]*)$")


@dataclass(frozen=True)
class Refusal:
    """A reportable record left out of a file because it lacks what the accreditor needs."""

    row: ReportRow
    missing: tuple[str, ...]  # plain words, each naming the field to fill in

    def message(self, target: str) -> str:
        r = self.row
        return (f"{target}: refused {r.username} ({r.learner_name}), activity {r.activity_id}, "
                f"completed {r.completion_date}: missing {'; '.join(self.missing)}")


@dataclass(frozen=True)
class WrittenFile:
    target: str  # "PARS" or "CPE Monitor"
    path: Path
    written: int
    refused: tuple[Refusal, ...]
    late: tuple[ReportRow, ...]  # written, but past CPE Monitor's 60 days (rule 6)

    def summary(self) -> str:
        text = f"{self.target}: wrote {_records(self.written)} to {self.path}"
        if self.refused:
            text += f"; refused {_records(len(self.refused))} (see the messages above)"
        return text


def _records(n: int) -> str:
    return f"{n} record{'' if n == 1 else 's'}"


def field_text(value: object) -> str:
    """`value` as one line of text: control characters and runs of white space become one space."""
    text = "".join(" " if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 else c for c in str(value))
    return " ".join(text.split())


def split_name(name: str) -> tuple[str, str]:
    """The (first, last) name in a certificate name: "Dr. Dana Q. Demo, MD" → ("Dana Q.", "Demo").

    PARS matches a learner on first and last name, but the profile keeps one name as
    printed; this takes off honorifics and degrees, keeps particles ("van", "de") and
    suffixes ("Jr") with the last word, and gives the rest as the first name. An empty
    part means it could not tell (a one-word name); the record is then refused, not guessed."""
    words = field_text(name).split(",")[0].split()
    while words and words[0].lower().rstrip(".") in _HONORIFICS:
        words = words[1:]
    while words and words[-1].lower().replace(".", "") in _DEGREES:
        words = words[:-1]
    if len(words) < 2:
        return (words[0] if words else "", "")
    cut = len(words) - 1
    if words[cut].lower().rstrip(".") in _SUFFIXES and cut > 1:
        cut -= 1
    while cut > 1 and words[cut - 1].lower() in _SURNAME_PARTICLES:
        cut -= 1
    return " ".join(words[:cut]), " ".join(words[cut:])


def board_and_id(board_id: str) -> tuple[str, str]:
    """("ABIM", "123456") from "ABIM-123456"; ("", "") when the text names no board."""
    found = _BOARD_ID.match(field_text(board_id))
    return (found.group(1).upper(), found.group(2)) if found else ("", "")


def _us_date(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.month:02d}/{d.day:02d}/{d.year:04d}"


def _number(x: float) -> str:
    return f"{x:g}"


def pars_record(row: ReportRow) -> tuple[list[str], list[str]]:
    """The PARS columns for `row`, and what it lacks (empty: it can be written)."""
    first, last = split_name(row.learner_name)
    board, board_member_id = board_and_id(row.board_id)
    state, licence = field_text(row.licence_state).upper(), field_text(row.licence_number)
    mmdd = row.birth_mmdd
    missing = []
    if not row.accme_activity_id:
        missing.append(f"the ACCME activity id (accme_activity_id in the physician accreditation statement of "
                       f"{row.activity_id}: add it and publish again)")
    if not (first and last):
        missing.append(f"a first and a last name (the name on the certificate, {field_text(row.learner_name)!r}, "
                       "does not show both)")
    if len(mmdd) != 4:
        missing.append("the birth month and day (birth_mmdd, sent with the claim)")
    if not (state and licence) and not (board and board_member_id):
        missing.append("a licence (licence_state and licence_number) or a certifying board id (board_id, written "
                       "as the board and the id, e.g. 'ABIM 123456')")
    if row.credits <= 0:
        missing.append("credits (none were claimed)")
    values = [row.accme_activity_id, first, last, mmdd[:2], mmdd[2:], state if licence else "",
              licence if state else "", board, board_member_id, _us_date(row.completion_date),
              _number(row.credits), PARS_ADD]
    return [field_text(v) for v in values], missing


def cpe_monitor_record(row: ReportRow) -> tuple[list[str], list[str]]:
    """The CPE Monitor columns for `row`, and what it lacks (empty: it can be written)."""
    hours = row.contact_hours if row.contact_hours is not None else row.credits
    missing = []
    if not row.nabp_eprofile_id:
        missing.append("the NABP e-Profile ID (nabp_eprofile_id, sent with the claim)")
    if len(row.birth_mmdd) != 4:
        missing.append("the birth month and day (birth_mmdd, sent with the claim)")
    if not row.uan:
        missing.append(f"the ACPE UAN (uan in the pharmacist accreditation statement of {row.activity_id}: add it "
                       "and publish again)")
    if hours <= 0:
        missing.append("contact hours (none were claimed)")
    values = [row.nabp_eprofile_id, row.birth_mmdd, row.uan, row.completion_date, PHARMACIST, _number(hours)]
    return [field_text(v) for v in values], missing


def _tab_delimited(columns: Sequence[str], records: Iterable[Sequence[str]]) -> str:
    return "".join("\t".join(values) + "\r\n" for values in (columns, *records))


def _comma_separated(columns: Sequence[str], records: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(records)
    return out.getvalue()


@dataclass(frozen=True)
class ReportFormat:
    target: str  # "PARS" / "CPE Monitor": ReportRow.report_to of the rows it takes
    columns: tuple[str, ...]
    record: Callable[[ReportRow], tuple[list[str], list[str]]]
    render: Callable[[Sequence[str], Iterable[Sequence[str]]], str]


PARS = ReportFormat("PARS", PARS_COLUMNS, pars_record, _tab_delimited)
CPE_MONITOR = ReportFormat("CPE Monitor", CPE_MONITOR_COLUMNS, cpe_monitor_record, _comma_separated)


def write_report_file(fmt: ReportFormat, rows: Iterable[ReportRow], path: Path) -> WrittenFile:
    """Write the reportable `rows` for `fmt.target` to `path` (replaced if there, owner-only,
    UTF-8); the rows lacking a field are refused and named in the result."""
    records, refused, late = [], [], []
    for row in rows:
        if not (row.reportable and row.report_to == fmt.target):
            continue
        values, missing = fmt.record(row)
        if missing:
            refused.append(Refusal(row, tuple(missing)))
            continue
        records.append(values)
        if row.late:
            late.append(row)
    data = fmt.render(fmt.columns, records).encode("utf-8")
    fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return WrittenFile(fmt.target, Path(path), len(records), tuple(refused), tuple(late))
