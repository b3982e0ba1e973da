"""WebVTT read as browsers read it, and SRT as tolerantly: a corpus of small files.

Each file in vtt_corpus/ has a sidecar .json written by hand from the W3C WebVTT parsing
rules (https://www.w3.org/TR/webvtt1/#parsing; the rule is quoted in its "spec" field),
not from our parser's output: the cues a learner sees (start ms, end ms, plain text),
the line numbers reported as not read, or "rejected" when the file is refused whole
(only a WebVTT file without its signature is).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmecore.transcripts.cues import TranscriptRejected
from cmecore.transcripts.subrip import read_subrip
from cmecore.transcripts.text import decode_text
from cmecore.transcripts.webvtt import UnreadableTiming, collect_timestamp, read_webvtt
from desktop.errors import TranscriptError
from desktop.media.transcript import parse_transcript

CORPUS = Path(__file__).parent / "vtt_corpus"
FILES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".vtt", ".srt"))
READERS = {".vtt": (read_webvtt, "text/vtt"), ".srt": (read_subrip, "application/x-subrip")}


def expected(path: Path) -> dict:
    return json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))


def test_the_corpus_covers_both_formats_and_every_file_has_its_expectation():
    assert len([p for p in FILES if p.suffix == ".vtt"]) >= 50
    assert len([p for p in FILES if p.suffix == ".srt"]) >= 10
    assert all(p.with_suffix(".json").is_file() for p in FILES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_corpus_file_reads_as_the_spec_says(path):
    """The cues, the lines not read, or the refusal, as the sidecar's spec rule says."""
    want = expected(path)
    read, _media_type = READERS[path.suffix]
    text = decode_text(path.read_bytes())
    if want.get("rejected"):
        with pytest.raises(TranscriptRejected) as caught:
            read(text)
        assert str(caught.value).startswith("line 1: not a WebVTT file"), want["spec"]
        return
    transcript = read(text)
    assert [[c.start_ms, c.end_ms, c.text] for c in transcript.cues] == want["cues"], want["spec"]
    assert [skip.line for skip in transcript.skipped] == want["skipped"], want["spec"]
    assert all(skip.reason and "\n" not in skip.reason for skip in transcript.skipped)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_app_reads_the_corpus_the_same_way(path):
    """parse_transcript (the desktop entry) gives the same cues; a refusal is a TranscriptError."""
    want = expected(path)
    _read, media_type = READERS[path.suffix]
    if want.get("rejected"):
        with pytest.raises(TranscriptError, match=r"^line 1: "):
            parse_transcript(path.read_bytes(), media_type)
        return
    transcript = parse_transcript(path.read_bytes(), media_type)
    assert transcript.timed and not transcript.estimated
    assert [[c.start_ms, c.end_ms, c.text] for c in transcript.cues] == want["cues"]


def test_skipped_lines_say_why_and_point_at_the_line_at_fault():
    transcript = read_webvtt(decode_text((CORPUS / "timing-sixty-seconds.vtt").read_bytes()))
    timing, text = transcript.skipped
    assert str(timing) == "line 3: cannot read the cue timing: minutes and seconds must be below 60"
    assert str(text) == "line 4: part of the cue at line 3, which could not be read"
    outside = read_webvtt(decode_text((CORPUS / "text-outside-cues.vtt").read_bytes())).skipped
    assert [s.reason for s in outside] == ["text outside any cue (no timing line before it)"] * 2


@pytest.mark.parametrize(
    ("stamp", "ms"),
    [
        ("00:01.000", 1_000),
        ("59:59.999", 3_599_999),
        ("0:00:01.000", 1_000),
        ("00:00:01.000", 1_000),
        ("123:04:05.006", ((123 * 60 + 4) * 60 + 5) * 1000 + 6),
        ("00000000000000000001:00:00.000", 3_600_000),
    ],
)
def test_webvtt_timestamps_the_spec_accepts(stamp, ms):
    """collect a WebVTT timestamp: "If string is not exactly two characters in length, or if
    value1 is greater than 59, let most significant units be hours" — so hours may have one
    digit or many; minutes and seconds exactly two, fraction exactly three."""
    assert collect_timestamp(stamp, 0) == (ms, len(stamp))


@pytest.mark.parametrize(
    "stamp",
    ["00:00:60.000", "00:60:00.000", "60:00.000", "0:00.000", "00:1.000", "00:01.00", "00:01.0000",
     "00:01,000", "00:01.0x00", "1:2:3.000", "-00:01.000", " 00:01.000", "\u0660\u0660:01.000", ""],
)
def test_webvtt_timestamps_the_spec_refuses(stamp):
    """collect a WebVTT timestamp: "If value2 is greater than 59 or if value3 is greater
    than 59, return an error"; a field of other than two digits (or a fraction of other
    than three) is an error; "ASCII digits" only, and no leading whitespace (the caller
    skips it)."""
    with pytest.raises(UnreadableTiming, match="cannot read the cue timing"):
        collect_timestamp(stamp, 0)
