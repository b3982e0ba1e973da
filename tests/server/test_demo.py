"""The demo activity: valid, self-consistent, fictional, and safe to load twice."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import av
import pytest

from creditserver.demo import DEMO_ACTIVITY_ID, DEMO_FOLDER, KEPT_WHILE_DAYS_LEFT, demo_dates, load_demo
from cmecore.protocol import Catalog
from cmecore.rules.availability import availability, last_day
from tests.support.activities import today

from .conftest import bearer, client_for, sign_in


@pytest.fixture
def demo_activity(api, auth):
    catalog = Catalog.model_validate_json(api.get("/catalog", headers=auth).content)
    [activity] = catalog.activities
    return activity


def _vtt_end_seconds(text: str) -> float:
    ends = re.findall(r"--> (\d+):(\d\d):(\d\d)\.(\d{3})", text)
    h, m, s, ms = map(int, ends[-1])
    return h * 3600 + m * 60 + s + ms / 1000


def test_demo_activity_carries_the_front_matter_the_rules_require(demo_activity):
    a = demo_activity
    assert a.id == DEMO_ACTIVITY_ID
    assert "the trial and data are fictional" in a.description
    assert len(a.providers) == 2  # joint providership
    assert len(a.faculty) == 2 and all(f.credentials and f.affiliation and f.bio for f in a.faculty)
    assert {d.role for d in a.disclosures} >= {"faculty", "planner"} and all(d.mitigated for d in a.disclosures)
    assert a.off_label_statement and a.commercial_support
    assert len(a.objectives) == 3 and all(2 <= len(o.children) <= 3 for o in a.objectives)
    dates = demo_dates(today())  # set when the server loaded it, from that day
    assert (a.release_date, a.review_date, a.termination_date) == (dates.release, dates.review, dates.termination)
    by_profession = {s.profession: s for s in a.accreditation}
    assert set(by_profession) == {"physician", "physician_assistant", "nurse_practitioner", "nurse", "pharmacist"}
    assert by_profession["physician"].max_credits == 0.5
    assert "AMA PRA Category 1" in by_profession["physician"].credit_type
    pharmacist = by_profession["pharmacist"]
    assert pharmacist.uan == "0000-9999-26-001-H01-P" and pharmacist.activity_type == "knowledge"
    assert pharmacist.contact_hours == 0.5
    assert by_profession["nurse"].contact_hours == 0.5
    assert a.transcript_machine_generated is True
    assert a.participation.min_watched_share == 0.8


def _ever(start: date, days: int):
    return (start + timedelta(days=n) for n in range(days))


def test_the_demo_runs_whatever_day_a_server_loads_it():
    """Released some months before, reviewed since, ending a year or more ahead within the
    3-year enduring limit; the same day gives the same dates (every day of five years, leap
    days and year ends included)."""
    for day in _ever(date(2027, 12, 1), 5 * 366):
        d = demo_dates(day)
        assert d == demo_dates(day)
        assert d.release.day == 1 and 120 <= (day - d.release).days <= 153, day  # 4 months before this month's first
        assert d.release < d.review <= day, day
        assert last_day(d.release, d.review, d.termination) == d.termination >= day + timedelta(days=2 * 365 - 31), day
        assert availability(d.release, d.review, d.termination, datetime(day.year, day.month, day.day, 12, tzinfo=UTC)).available, day


def _catalog_entry(server):
    with client_for(server) as client:
        [activity] = Catalog.model_validate_json(client.get("/catalog", headers=bearer(sign_in(client))).content).activities
    return activity


def test_a_demo_server_keeps_its_dates_while_a_year_is_left_then_moves_them_on(server):
    """A restart on a later day publishes nothing new (no new version: the learner's
    acknowledged disclosures stand) until the demo has less than a year to run."""
    db, store = server.app.state.db, server.app.state.media
    first = _catalog_entry(server)
    moves_on = first.termination_date - timedelta(days=KEPT_WHILE_DAYS_LEFT - 1)

    load_demo(db, store, today=moves_on - timedelta(days=1))
    assert _catalog_entry(server) == first

    load_demo(db, store, today=moves_on)
    moved = _catalog_entry(server)
    new = demo_dates(moves_on)
    assert (moved.release_date, moved.review_date, moved.termination_date) == (new.release, new.review, new.termination)
    assert moved.version == first.version + 1 and moved.title == first.title


def test_demo_assessment_and_evaluation(demo_activity):
    quiz = demo_activity.assessment
    assert quiz is not None
    assert (quiz.passing_score, quiz.attempts_allowed, quiz.shuffle_options) == (75, None, True)
    assert len(quiz.questions) == 5
    assert sum(q.kind == "multiple" for q in quiz.questions) == 1
    for q in quiz.questions:
        assert q.rationale
        assert set(q.correct) <= {o.id for o in q.options}
    assert {e.kind for e in demo_activity.evaluation} == {"rating", "text", "commitment"}


def test_demo_video_lasts_as_long_as_the_transcript(api, auth, demo_activity, tmp_path):
    assets = {a.kind: a for a in demo_activity.assets if a.kind != "summary"}
    video = api.get(assets["video"].url.removeprefix("/api/v1"), headers=auth).content
    vtt = api.get(assets["transcript"].url.removeprefix("/api/v1"), headers=auth).text
    path = tmp_path / "demo.mp4"
    path.write_bytes(video)

    with av.open(str(path)) as container:
        duration = container.duration / av.time_base
        assert container.streams.video[0].codec_context.name == "h264"
    assert 30 <= duration <= 60
    assert len(video) <= 1_000_000
    assert abs(duration - _vtt_end_seconds(vtt)) < 0.5
    assert assets["transcript"].timed is True
    assert 20 <= vtt.count("-->") <= 40
    assert "PATINA" in vtt  # learners search the transcript for the trial's name


def test_demo_summaries_are_markdown_and_html(demo_activity):
    summaries = sorted(a.media_type for a in demo_activity.assets if a.kind == "summary")
    assert summaries == ["text/html", "text/markdown"]


def test_demo_learners_sign_in(api):
    demo = sign_in(api, "demo", "demo")["learner"]
    assert (demo["profession"], demo["degree"], demo["display_name"]) == ("physician", "MD", "Dr. Dana Demo")
    assert demo["board_id"]
    pharm = sign_in(api, "pharm", "demo")["learner"]
    assert (pharm["profession"], pharm["degree"]) == ("pharmacist", "PharmD")


def test_loading_the_demo_twice_duplicates_nothing(start_server):
    from sqlalchemy import select

    from creditserver.models import Learner

    first = start_server()
    with client_for(first) as client:
        before = client.get("/catalog", headers=bearer(sign_in(client))).json()
    first.stop()
    second = start_server(again=first)
    with client_for(second) as client:
        tokens = sign_in(client)
        after = client.get("/catalog", headers=bearer(tokens)).json()
        assert after == before  # same cursor, same single activity, same version
    with second.app.state.db.session() as s:
        usernames = list(s.scalars(select(Learner.username).order_by(Learner.username)))
    assert usernames == ["demo", "pharm"]


def test_demo_folder_is_a_valid_publish_folder():
    doc = json.loads((DEMO_FOLDER / "activity.json").read_text(encoding="utf-8"))
    for asset in doc["assets"]:
        assert (DEMO_FOLDER / asset["path"]).is_file()
