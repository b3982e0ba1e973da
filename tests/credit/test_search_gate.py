"""Rule 1 in search: a learner who has not acknowledged an activity's disclosures finds no
word of its transcript or summaries through search, as none through the Watch or Summaries
tabs; the result says the content opens after the disclosures. Learners on one computer
share the index, so each sees only what they themselves acknowledged. Real server on
loopback, real downloads, real SQLite (FTS5)."""

from __future__ import annotations

from desktop.services.library import KIND_LOCKED, LOCKED_SNIPPET
from tests.support.activities import DEMO_ID
from tests.support.cli import run_cli

WORD = "orthostatic"  # said in the demo talk (0:42) and written in its key clinical summary


def _content_text(hits) -> str:
    return " ".join(f"{h.snippet} {h.label or ''}" for h in hits).casefold()


def test_search_shows_transcript_and_summary_text_only_to_the_learner_who_acknowledged(server, make_services):
    services = make_services(server.url)
    pat = services.sign_in("pharm", "demo")
    dana = services.sign_in("demo", "demo")  # Pat stays signed in; Dana is at the keyboard
    services.sync()
    services.acknowledge_disclosures(DEMO_ID)  # Dana's acknowledgement, not Pat's
    services.enqueue_downloads([DEMO_ID])
    assert services.run_downloads().ok  # the transcript and summary are indexed on arrival

    dana_hits = services.search(WORD)
    assert {"transcript", "summary"} <= {h.kind for h in dana_hits}, dana_hits
    assert WORD in _content_text(dana_hits)
    assert any(h.time_ms is not None for h in dana_hits)

    services.switch_learner(pat.id, "demo")
    pat_hits = services.search(WORD)
    assert [h.kind for h in pat_hits] == [KIND_LOCKED], pat_hits  # one result for the activity, no text
    (locked,) = pat_hits
    assert locked.activity_id == DEMO_ID and locked.time_ms is None and locked.label is None
    assert WORD not in _content_text(pat_hits)
    assert "open after you read and acknowledge the disclosures" in locked.snippet
    # The catalog's own words (the title) are still found, and the content still is not.
    patina = services.search("PATINA")
    assert [h.kind for h in patina] == ["title", KIND_LOCKED], patina

    services.switch_learner(dana.id, "demo")
    assert WORD in _content_text(services.search(WORD))  # Dana still sees hers

    services.switch_learner(pat.id, "demo")
    services.acknowledge_disclosures(DEMO_ID)  # Pat reads the disclosures: now the text shows
    assert {"transcript", "summary"} <= {h.kind for h in services.search(WORD)}


def downloaded_and_read(make_services, server):
    """The demo learner signed in, the demo downloaded and its disclosures acknowledged."""
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    services.sync()
    services.acknowledge_disclosures(DEMO_ID)
    services.enqueue_downloads([DEMO_ID])
    assert services.run_downloads().ok
    return services


def test_no_one_signed_in_finds_titles_but_no_content(server, make_services):
    services = downloaded_and_read(make_services, server)
    services.sign_out()

    hits = services.search("PATINA")
    assert [h.kind for h in hits] == ["title", KIND_LOCKED], hits
    assert all(h.time_ms is None for h in hits)


def test_a_summary_hit_does_not_repeat_the_summary_title_its_place_shows(server, make_services):
    services = downloaded_and_read(make_services, server)
    titles = {title for title, _body in services.summaries(DEMO_ID)}  # as the Summaries tab titles them

    (hit,) = [h for h in services.search(WORD) if h.kind == "summary"]
    assert hit.label in titles and f"[{WORD}]" in hit.snippet, hit  # the matched word, in bold
    # "blood pressure" is in the title itself: it finds the summary (the title is indexed with
    # its text), and the snippet shows the text after the title, not the title a second time.
    hits = [h for h in services.search("blood pressure") if h.kind == "summary"]
    assert hits
    for hit in hits + [h for h in services.search("PATINA") if h.kind == "summary"]:
        assert hit.label in titles, hit
        assert not hit.snippet.replace("[", "").replace("]", "").startswith("Key clinical summary"), hit
        assert hit.label.casefold() not in hit.snippet.replace("[", "").replace("]", "").casefold(), hit


def test_the_cli_search_obeys_the_same_gate(server, make_services, data_dir, monkeypatch, capsys):
    services = make_services(server.url)
    pat = services.sign_in("pharm", "demo")
    services.sign_in("demo", "demo")
    services.sync()
    services.acknowledge_disclosures(DEMO_ID)
    services.enqueue_downloads([DEMO_ID])
    assert services.run_downloads().ok
    d = ["--data-dir", str(data_dir), "--server", server.url]

    code, out, err = run_cli(monkeypatch, capsys, "search", WORD, *d)
    assert code == 0, err
    assert f"[0:42] Check [{WORD}] readings" in out  # Dana's: the cue, at the transcript's time

    services.switch_learner(pat.id, "demo")
    code, out, err = run_cli(monkeypatch, capsys, "search", WORD, *d)
    assert code == 0, err
    assert out.strip() == f"{DEMO_ID} [{KIND_LOCKED}] {LOCKED_SNIPPET}" and WORD not in out.casefold()
