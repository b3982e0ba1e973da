"""Search a clinician can trust: the marked words are the ones that matched, every hit says
where it is, and a misheard drug name in a machine transcript is still found (after the
exact mentions)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from cmecore.transcripts.cues import Cue
from desktop.cache.db import open_database
from desktop.cache.search import index_summaries, index_transcript, remove_activity, search
from desktop.media.summary import render_summary
from desktop.media.transcript import parse_transcript
from tests.cache.test_search import activity, apply
from tests.fuzz.settings import FUZZ

DEMO = Path(__file__).parents[2] / "creditserver" / "demo" / "media"
MARKED = re.compile(r"\[([^\]]*)\]")


@pytest.fixture
def titled_demo(db):
    """The demo activity with a description, its transcript, and each summary under its own title."""
    apply(db, activity("demo-bp", "Home Blood-Pressure Monitoring in Older Adults",
                       "What home readings add for adults over 70"))
    index_transcript(db, "demo-bp", parse_transcript((DEMO / "home-bp-monitoring.en.vtt").read_bytes(),
                                                     "text/vtt", None).cues)
    index_summaries(db, "demo-bp", [
        ("Measuring blood pressure at home", render_summary((DEMO / "summary-technique.md").read_bytes(),
                                                            "text/markdown")),
        ("What the PATINA trial illustrates", render_summary((DEMO / "summary-patina.html").read_bytes(),
                                                             "text/html")),
    ])
    return db


def marked(hit) -> list[str]:
    return MARKED.findall(hit.snippet)


def test_a_six_letter_word_marks_only_itself_not_words_sharing_its_start(titled_demo):
    hits = search(titled_demo, "PATINA")
    assert hits
    for hit in hits:
        assert marked(hit) and {w.casefold() for w in marked(hit)} == {"patina"}, hit.snippet
    index_transcript(titled_demo, "demo-bp", [Cue(0, 1_000, "PATINA enrolled patients over seventy")])
    assert [h.snippet for h in search(titled_demo, "PATINA") if h.kind == "transcript"] == [
        "[PATINA] enrolled patients over seventy"]


def test_marks_follow_the_stemmer_and_the_prefix_being_typed(titled_demo):
    for hit in search(titled_demo, "patient"):  # porter: "patients" and "patient's" are forms of it
        assert {w.casefold() for w in marked(hit)} <= {"patient", "patients"}, hit.snippet
    prefixed = search(titled_demo, "hyperten")
    assert prefixed and all(w.casefold().startswith("hyperten") for h in prefixed for w in marked(h))


def test_each_hit_says_where_it_is(titled_demo):
    kinds = {h.kind: h for h in search(titled_demo, "home")}
    assert set(kinds) == {"title", "summary", "transcript"}
    assert kinds["title"].time_ms is None and kinds["title"].label is None
    assert isinstance(kinds["transcript"].time_ms, int)
    summaries = {h.label for h in search(titled_demo, "home") if h.kind == "summary"}
    assert summaries == {"Measuring blood pressure at home", "What the PATINA trial illustrates"}

    description = search(titled_demo, "readings add")
    assert [(h.kind, h.label, h.time_ms) for h in description if h.kind != "transcript"] == [
        ("description", None, None)]
    assert "[readings] [add]" in description[0].snippet


def test_a_word_in_both_title_and_description_is_one_title_hit(db):
    apply(db, activity("a1", "Anticoagulation", "Anticoagulation in atrial fibrillation, anticoagulation after stroke"))
    assert [(h.kind, h.snippet) for h in search(db, "anticoagulation")] == [("title", "[Anticoagulation]")]


def test_a_summary_hit_names_its_own_summary(titled_demo):
    only = [h for h in search(titled_demo, "thiazide") if h.kind == "summary"]
    assert [h.label for h in only] == ["What the PATINA trial illustrates"]


def test_a_misheard_drug_name_is_found_after_the_exact_mentions(db):
    apply(db, activity("her2", "HER2-positive breast cancer"), activity("other", "Renal dosing"))
    index_transcript(db, "her2", [
        Cue(1_000, 2_000, "trastuzumab is given every three weeks"),
        Cue(5_000, 6_000, "tristuzumab with pertuzumab improved survival"),  # the recogniser misheard it
        Cue(9_000, 10_000, "cardiac monitoring on trastuzumab"),
    ])
    index_transcript(db, "other", [Cue(0, 1_000, "trastuzumabs are biosimilars now")])
    hits = search(db, "trastuzumab")
    times = [h.time_ms for h in hits if h.activity_id == "her2"]
    assert sorted(times[:2]) == [1_000, 9_000] and times[2] == 5_000  # exact first, the near spelling after
    near = next(h for h in hits if h.time_ms == 5_000)
    assert near.near and marked(near) == ["tristuzumab"]
    assert all(not h.near for h in hits if h.time_ms != 5_000)
    assert [h.time_ms for h in search(db, "tristuzumab") if not h.near] == [5_000]


def test_word_forms_meet_in_both_directions(db):
    apply(db, activity("a1", "Consent"), activity("a2", "Trials"))
    index_transcript(db, "a1", [Cue(0, 1_000, "This PERTAIN to older adults")])
    index_transcript(db, "a2", [Cue(0, 1_000, "It pertains to the randomized cohort")])
    assert {h.activity_id for h in search(db, "Pertains")} == {"a1", "a2"}
    assert {h.activity_id for h in search(db, "PERTAIN")} == {"a1", "a2"}
    randomised = search(db, "randomised")  # British spelling, one letter from the American
    assert [(h.activity_id, h.near, marked(h)) for h in randomised] == [("a2", True, ["randomized"])]


def test_short_words_are_never_widened_to_near_spellings(db):
    apply(db, activity("a1", "Statins"))
    index_transcript(db, "a1", [Cue(0, 1_000, "the station was closed")])
    assert [h.kind for h in search(db, "statin")] == ["title"]  # "station" is not near "statin": too short


def test_reindexing_keeps_the_vocabulary_in_step(db):
    apply(db, activity("a1", "Oncology"))
    index_transcript(db, "a1", [Cue(0, 1_000, "tristuzumab dosing")])
    assert search(db, "trastuzumab")
    index_transcript(db, "a1", [Cue(0, 1_000, "nothing relevant any more")])
    assert search(db, "trastuzumab") == []
    with db.read() as session:
        words = set(session.scalars(text("SELECT word FROM search_words")))
    assert "tristuzumab" not in words and {"nothing", "oncology"} <= words


@pytest.mark.parametrize("query", [
    "Ménière", "MENIERE", "straße", "日本語", "🩺 trastuzumab", "e\u0301", "\u200b", "ℌ𝔢𝔩𝔩𝔬", "a\ud7ffb",
    "trastuzumab" * 40, "x" * 9 + '"', "NEAR(trastuzumab", "tristuzumab*", "'\"\\%_[]",
])
def test_unicode_and_odd_input_never_raise(titled_demo, query):
    assert isinstance(search(titled_demo, query), list)


def test_accents_fold_both_ways(db):
    apply(db, activity("a1", "Vertigo"))
    index_transcript(db, "a1", [Cue(0, 1_000, "Ménière disease")])
    assert [h.time_ms for h in search(db, "meniere")] == [0]
    assert [h.time_ms for h in search(db, "MÉNIÈRE")] == [0]


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory):
    db = open_database(tmp_path_factory.mktemp("fuzz") / "cache.sqlite3")
    apply(db, activity("a1", "Trastuzumab and [brackets]"))
    index_transcript(db, "a1", [Cue(0, 1_000, 'trastuzumab [sic] "quoted" AND OR NOT * ^ : ( )')])
    yield db
    db.close()


@FUZZ
@given(st.text(max_size=80))
def test_any_typed_text_returns_a_list(fuzz_db, query):
    hits = search(fuzz_db, query)
    assert isinstance(hits, list)
    for hit in hits:  # brackets in the text itself never pass for marks
        assert hit.snippet.count("[") == hit.snippet.count("]")


def test_replacing_one_transcript_leaves_the_others_whole(db):
    apply(db, activity("a1", "One"), activity("a2", "Two"))
    index_transcript(db, "a1", [Cue(0, 1_000, "lisinopril first"), Cue(1_000, 2_000, "then amlodipine")])
    index_transcript(db, "a2", [Cue(0, 1_000, "amlodipine ankle swelling")])
    index_transcript(db, "a1", [Cue(5_000, 6_000, "amlodipine only")])
    assert sorted((h.activity_id, h.time_ms) for h in search(db, "amlodipine")) == [("a1", 5_000), ("a2", 0)]
    assert search(db, "lisinopril") == []
    with db.write() as session:
        remove_activity(session, "a1")
    assert [(h.activity_id, h.time_ms) for h in search(db, "amlodipine")] == [("a2", 0)]
