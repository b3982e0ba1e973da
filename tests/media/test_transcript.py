"""Transcripts as a learner meets them: the right words highlighted at the right moment."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmecore.transcripts.cues import Cue, CueIndex
from desktop.media.transcript import TranscriptError, parse_transcript

DEMO_VTT = Path(__file__).parents[2] / "creditserver" / "demo" / "media" / "home-bp-monitoring.en.vtt"


def write(tmp_path: Path, name: str, text: str) -> bytes:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path.read_bytes()


def test_demo_transcript_parses_with_real_timings():
    transcript = parse_transcript(DEMO_VTT.read_bytes(), "text/vtt", None)
    assert transcript.timed and not transcript.estimated
    assert transcript.cues[0] == Cue(0, 2500, "Welcome. This is a demonstration activity; the trial and data are fictional.")
    starts = [cue.start_ms for cue in transcript.cues]
    assert starts == sorted(starts)
    patina = [cue for cue in transcript.cues if "PATINA" in cue.text]
    assert patina[0].start_ms == 12_500


def test_vtt_markup_is_stripped_and_entities_decoded(tmp_path):
    data = write(tmp_path, "t.vtt", (
        "WEBVTT\n\n"
        "intro\n"
        "00:01.000 --> 00:04.250 align:start position:10%\n"
        "<v Dr. Rivera><b>Start</b> low &amp; <c.loud>go slow</c></v>\n"
        "<i>with</i> thiazides.\n\n"
        "NOTE a comment, not a cue\n\n"
        "01:00:00.000 --> 01:00:02.000\n"
        "An hour in.\n"
    ))
    transcript = parse_transcript(data, "text/vtt; charset=utf-8", None)
    assert transcript.cues == (
        Cue(1000, 4250, "Start low & go slow with thiazides."),
        Cue(3_600_000, 3_602_000, "An hour in."),
    )


@pytest.mark.parametrize(
    ("text", "kept", "line", "words"),
    [
        # A timing that cannot be read drops that cue only ("collect WebVTT cue timings and
        # settings" fails: the block returns no cue); the report names its timing line.
        ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nfine\n\n00:00:0x.000 --> 00:00:03.000\nbad\n",
         [Cue(1000, 2000, "fine")], 6, "timing"),
        # A timing line with no blank line before it ends the cue above and starts its own
        # ("collect a WebVTT block": "-->" on a third line resets position and breaks).
        ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nfine\n00:00:02.000 --> 00:00:03.000\nno gap\n",
         [Cue(1000, 2000, "fine"), Cue(2000, 3000, "no gap")], None, ""),
        # The parser keeps a cue ending before it starts, but the syntax forbids it and a
        # browser never shows it: we drop it and say so.
        ("WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nbackwards\n", [], 3, "ends before it starts"),
    ],
)
def test_malformed_vtt_loses_only_the_bad_cue_and_names_its_line(tmp_path, text, kept, line, words):
    transcript = parse_transcript(write(tmp_path, "bad.vtt", text), "text/vtt", None)
    assert list(transcript.cues) == kept
    if line is None:
        assert transcript.skipped == ()
    else:
        fault = next(skip for skip in transcript.skipped if words in skip.reason)
        assert fault.line == line
        assert str(fault).startswith(f"line {line}:")


def test_a_file_without_the_webvtt_signature_is_refused_naming_line_1(tmp_path):
    text = "1\n00:00:01.000 --> 00:00:02.000\nan SRT file sent as VTT\n"
    with pytest.raises(TranscriptError) as caught:
        parse_transcript(write(tmp_path, "bad.vtt", text), "text/vtt", None)
    assert str(caught.value).startswith("line 1:")
    assert "WEBVTT" in str(caught.value)


def test_srt_parses_and_strips_tags(tmp_path):
    data = write(tmp_path, "t.srt", (
        "1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Hello</i> {\\an8}there\r\n\r\n"
        "2\r\n00:00:02,500 --> 00:00:04,000\r\nSecond\r\nline\r\n\r\n"
    ))
    transcript = parse_transcript(data, "application/x-subrip", None)
    assert transcript.timed and not transcript.estimated
    assert transcript.cues == (Cue(1000, 2500, "Hello there"), Cue(2500, 4000, "Second line"))
    assert parse_transcript(data, "text/srt", None) == transcript


def test_malformed_srt_loses_only_the_bad_block_and_names_its_timing_line(tmp_path):
    data = write(tmp_path, "bad.srt", (
        "1\n00:00:01,000 --> 00:00:02,000\nfine\n\n"
        "2\n00:00:0x,000 --> 00:00:03,000\nbroken\n\n"
        "3\n00:00:04,000 --> 00:00:05,000\nalso fine\n"
    ))
    transcript = parse_transcript(data, "application/x-subrip", None)
    assert transcript.cues == (Cue(1000, 2000, "fine"), Cue(4000, 5000, "also fine"))
    assert [skip.line for skip in transcript.skipped] == [5, 6, 7]  # the whole block, index to text
    assert str(transcript.skipped[1]).startswith("line 6: cannot read the cue timing")


def test_invalid_utf8_becomes_a_replacement_character_not_a_refusal():
    """WebVTT file parsing: "UTF-8 decode" (each invalid sequence becomes U+FFFD)."""
    transcript = parse_transcript(b"WEBVTT\n\n00:01.000 --> 00:02.000\n\xff\xfe bad\n", "text/vtt", None)
    assert transcript.cues == (Cue(1000, 2000, "\ufffd\ufffd bad"),)
    assert transcript.skipped == ()


def test_unknown_type_is_refused():
    with pytest.raises(TranscriptError, match="unsupported"):
        parse_transcript(b"{}", "application/json", None)


PLAIN = (
    "Good morning. Today we talk about home blood pressure monitoring in older adults, "
    "which is often misunderstood and under used in practice even though the evidence "
    "for it is strong and has been for many years now and keeps growing every year. "
    "Why? Because office readings mislead! "
    "and machine transcripts often run on without any punctuation at all for a long "
    "stretch so the estimator has to cut them into chunks by itself to be useful"
)


def test_plain_text_gets_estimated_timings_covering_the_duration(tmp_path):
    duration = 95_000
    transcript = parse_transcript(write(tmp_path, "t.txt", PLAIN), "text/plain", duration)
    cues = transcript.cues
    assert transcript.estimated and not transcript.timed
    assert cues[0].start_ms == 0 and cues[-1].end_ms == duration
    for before, after in zip(cues, cues[1:]):
        assert before.end_ms == after.start_ms  # contiguous
        assert before.start_ms < before.end_ms  # monotonic, every cue gets time
    assert all(len(cue.text.split()) <= 20 for cue in cues)  # long runs are cut up
    assert " ".join(cue.text for cue in cues).split() == PLAIN.split()  # nothing lost
    # Time follows length: the short question gets less time than a long chunk.
    why = next(cue for cue in cues if cue.text == "Why?")
    longest = max(cues, key=lambda cue: len(cue.text))
    assert why.end_ms - why.start_ms < (longest.end_ms - longest.start_ms) / 4


def test_plain_text_without_known_duration_uses_a_speaking_pace():
    transcript = parse_transcript(PLAIN.encode(), "text/plain", None)
    words = len(PLAIN.split())
    assert transcript.cues[-1].end_ms == words * 400


def test_empty_plain_text_has_no_cues():
    assert parse_transcript(b"  \n\n ", "text/plain", 10_000).cues == ()


def test_cue_index_at_boundaries_and_gaps():
    index = CueIndex([Cue(1000, 2000, "one"), Cue(2000, 3000, "two"), Cue(5000, 6000, "three")])
    assert index.index_at(0) is None  # before the first cue: nothing highlighted
    assert index.index_at(999) is None
    assert index.index_at(1000) == 0  # a cue starts exactly at its start time
    assert index.index_at(1999) == 0
    assert index.index_at(2000) == 1  # the next cue takes over at the shared boundary
    assert index.index_at(4000) == 1  # in a gap the previous cue stays highlighted
    assert index.index_at(5000) == 2
    assert index.index_at(10**9) == 2
    assert CueIndex([]).index_at(500) is None


def test_cue_index_find_ignores_case():
    transcript = parse_transcript(DEMO_VTT.read_bytes(), "text/vtt", None)
    index = CueIndex(transcript.cues)
    hits = index.find("patina")
    assert hits and all("PATINA" in transcript.cues[i].text for i in hits)
    assert index.find("   ") == []
    assert index.find("no such words here") == []
