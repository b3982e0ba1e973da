"""The rules an activity must keep to be published, beyond what its protocol model checks.

`refusal(activity, today=…, allow_expired=…)` names the first broken rule in one line,
field first ("assessment.questions.2.correct: …"), or returns None. The rules: every
answer key names options of its question, and a single-answer question has exactly one;
question, option and evaluation ids are unique; the activity ends after it is released
(and has not ended already, unless `allow_expired`); one accreditation statement per
profession; pharmacist contact hours equal the credits (ACPE counts credit in contact
hours) and no statement offers more credit than the activity's estimated time; a
passing score between 1 and 100; a minimum watch share only when there is a video.

`warnings(activity)` names what the activity may be published without but what reporting
needs (docs/reporting.md): the ACCME activity id of a physician statement of AMA PRA credit
(`report --pars`) and the UAN of a pharmacist statement (`report --cpe-monitor`). A
provider often gets them after the first publish, so they warn and do not refuse.

Why here and not as validators on `protocol.Activity`: the client validates a catalog as
one document and refuses all of it when one activity is invalid. Tightening the shared
model would make every client refuse a catalog that still serves an activity published
before these rules; and "has ended" depends on the day, which a model must not. So the
server refuses broken activities at the door, and clients keep reading what is there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from cmecore.protocol import Activity, AssetKind, Profession
from cmecore.rules.availability import enduring_limit
from cmecore.rules.claims import is_ama

ACTIVITY_FILE = "activity.json"
MINUTES_PER_CREDIT = 60  # AMA PRA Category 1 and ACPE: one credit (contact hour) per 60 minutes
CREDIT_STEP = 0.25  # credit is designated in quarter hours


def refusal(activity: Activity, *, today: date, allow_expired: bool = False) -> str | None:
    """The first rule `activity` breaks, as one line naming the field and the rule; None when it keeps them all."""
    for problem in _problems(activity, today, allow_expired):
        return f"{ACTIVITY_FILE}: {problem}"
    return None


def warnings(activity: Activity) -> list[str]:
    """What reporting will lack for `activity`, one line each naming the field and the report."""
    found = []
    for i, s in enumerate(activity.accreditation):
        if s.profession == Profession.physician and is_ama(s) and not s.accme_activity_id:
            found.append(
                f"{ACTIVITY_FILE}: accreditation.{i}.accme_activity_id: missing; physicians' credit for this activity "
                "cannot be written to the PARS file (`report --pars`) until you add the activity's ACCME activity id "
                "from PARS and publish again")
        if s.profession == Profession.pharmacist and not s.uan:
            found.append(
                f"{ACTIVITY_FILE}: accreditation.{i}.uan: missing; pharmacists' credit for this activity cannot be "
                "written to the CPE Monitor file (`report --cpe-monitor`) until you add the activity's ACPE UAN "
                "and publish again")
    return found


def _problems(act: Activity, today: date, allow_expired: bool) -> Iterator[str]:
    yield from _assessment(act)
    yield from _duplicates(((f"evaluation.{i}.id", q.id) for i, q in enumerate(act.evaluation)), "evaluation question")
    yield from _dates(act, today, allow_expired)
    yield from _statements(act)
    yield from _participation(act)


def _duplicates(ids: Iterable[tuple[str, str]], what: str) -> Iterator[str]:
    seen: dict[str, str] = {}
    for where, value in ids:
        if value in seen:
            yield f"{where}: {what} id {value!r} is also used at {seen[value]}; {what} ids must be unique"
            return
        seen[value] = where


def _assessment(act: Activity) -> Iterator[str]:
    test = act.assessment
    if test is None:
        return
    if not 1 <= test.passing_score <= 100:
        yield f"assessment.passing_score: must be between 1 and 100 percent (got {test.passing_score})"
    yield from _duplicates(((f"assessment.questions.{i}.id", q.id) for i, q in enumerate(test.questions)), "question")
    for i, q in enumerate(test.questions):
        where = f"assessment.questions.{i}"
        options = [o.id for o in q.options]
        yield from _duplicates(((f"{where}.options.{j}.id", o) for j, o in enumerate(options)), "option")
        for answer in q.correct:
            if answer not in options:
                yield (f"{where}.correct: names option {answer!r}, which question {q.id!r} does not have "
                       f"(its options: {', '.join(options)})")
        if len(set(q.correct)) != len(q.correct):
            yield f"{where}.correct: lists an option twice; each correct option is named once"
        if q.kind == "single" and len(q.correct) != 1:
            yield (f"{where}.correct: a single-answer question has exactly one correct option (it has "
                   f"{len(q.correct)}); make it kind 'multiple' or keep one")


def _dates(act: Activity, today: date, allow_expired: bool) -> Iterator[str]:
    if act.termination_date <= act.release_date:
        yield (f"termination_date: {act.termination_date} is not after release_date {act.release_date}; "
               "an activity must end after it is released")
    if act.review_date is not None and act.review_date < act.release_date:
        yield f"review_date: {act.review_date} is before release_date {act.release_date}; a review follows the release"
    if allow_expired:
        return
    if act.termination_date < today:
        yield (f"termination_date: {act.termination_date} has passed, so no learner could earn credit; "
               "set a later date, or publish with --allow-expired to keep it readable")
    elif (limit := enduring_limit(act.release_date, act.review_date)) < today:
        yield (f"review_date: the activity's enduring period ended on {limit} (3 years after its release or last "
               "review); review it and set review_date, or publish with --allow-expired")


def _statements(act: Activity) -> Iterator[str]:
    seen: dict[Profession, int] = {}
    estimated_hours = _quarter_hours(act.estimated_minutes)
    for i, s in enumerate(act.accreditation):
        where = f"accreditation.{i}"
        if s.profession in seen:
            yield (f"{where}.profession: {s.profession.value!r} already has a statement (accreditation."
                   f"{seen[s.profession]}); one statement per profession")
        seen.setdefault(s.profession, i)
        if s.profession == Profession.pharmacist and s.contact_hours is not None and abs(s.contact_hours - s.max_credits) > 1e-9:
            yield (f"{where}.contact_hours: {s.contact_hours:g} differs from max_credits {s.max_credits:g}; "
                   "pharmacy credit is counted in contact hours, so the two must be equal")
        offered = s.contact_hours if s.contact_hours is not None else s.max_credits
        if act.estimated_minutes and offered > estimated_hours + 1e-9:
            yield (f"{where}.max_credits: {offered:g} is more than the activity's estimated time allows "
                   f"({act.estimated_minutes} minutes: at most {estimated_hours:g}, one credit per hour in quarter hours)")


def _quarter_hours(minutes: int) -> float:
    """Credit for `minutes` of learning: one per hour, rounded to the nearest quarter."""
    return round(minutes / MINUTES_PER_CREDIT / CREDIT_STEP) * CREDIT_STEP


def _participation(act: Activity) -> Iterator[str]:
    share = act.participation.min_watched_share
    if share > 0 and not any(a.kind == AssetKind.video for a in act.assets):
        yield (f"participation.min_watched_share: {share:g} asks learners to watch a video, but the activity has "
               "no video asset; set it to 0 or add the video")
