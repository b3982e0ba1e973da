"""Fuzzing transcript parsing: any bytes, labelled VTT, SRT or plain text, either parse into
cues in time order or are refused with a TranscriptError that names a line; nothing else."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from desktop.media.transcript import TranscriptError, parse_transcript
from tests.fuzz.settings import FUZZ

MEDIA_TYPES = ["text/vtt", "application/x-subrip", "text/srt", "text/plain", "text/vtt; charset=utf-8"]
LINE_MESSAGE = re.compile(r"^line \d+: \S")


def stamp(draw, sep: str) -> str:
    kind = draw(st.sampled_from(["ok", "ok", "ok", "short", "hours", "junk"]))
    h, m, s, ms = (draw(st.integers(0, 120)), draw(st.integers(0, 70)), draw(st.integers(0, 70)),
                   draw(st.integers(0, 1200)))
    if kind == "ok":
        return f"{h:02d}:{m % 60:02d}:{s % 60:02d}{sep}{ms % 1000:03d}"
    if kind == "short":
        return f"{m:02d}:{s:02d}{sep}{ms:03d}"
    if kind == "hours":
        return f"{draw(st.integers(0, 10**12))}:{m:02d}:{s:02d}{sep}{ms:03d}"
    return draw(st.text(alphabet="0123456789:.,- >", max_size=16))


@st.composite
def vtt_files(draw) -> bytes:
    lines = [draw(st.sampled_from(["WEBVTT", "WEBVTT - title", "\ufeffWEBVTT", "WEBVT", ""]))]
    if draw(st.booleans()):
        lines += ["", draw(st.sampled_from(["NOTE a note", "STYLE", "REGION", "Kind: captions"]))]
    for i in range(draw(st.integers(0, 6))):
        lines.append("" if draw(st.integers(0, 9)) else "x")
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from([str(i + 1), f"cue-{i}", "a --> b"])))
        lines.append(f"{stamp(draw, '.')} {draw(st.sampled_from(['-->', '->', '-- >']))} {stamp(draw, '.')}"
                     + draw(st.sampled_from(["", " align:start position:10%", " line:0"])))
        for _ in range(draw(st.integers(0, 3))):
            lines.append(draw(st.text(max_size=40).filter(lambda t: "\n" not in t and "\r" not in t))
                         or draw(st.sampled_from(["<v Dr>Hi</v>", "&amp; &lt;b&gt;", "<c.x>word</c>", "-->"])))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return mutate(draw, newline.join(lines).encode("utf-8"))


@st.composite
def srt_files(draw) -> bytes:
    blocks = []
    for i in range(draw(st.integers(0, 6))):
        index = draw(st.sampled_from([str(i + 1), str(i), "x", ""]))
        timing = f"{stamp(draw, ',')} {draw(st.sampled_from(['-->', '->']))} {stamp(draw, ',')}"
        text = [draw(st.text(max_size=40).filter(lambda t: "\n" not in t and "\r" not in t))
                for _ in range(draw(st.integers(0, 3)))]
        blocks.append("\n".join([index, timing, *text]))
    sep = draw(st.sampled_from(["\n\n", "\r\n\r\n", "\n\n\n", "\n"]))
    return mutate(draw, sep.join(blocks).encode("utf-8"))


def mutate(draw, data: bytes) -> bytes:
    """Sometimes damage the file: flip, drop or insert a few bytes, or cut it short."""
    for _ in range(draw(st.integers(0, 2))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "drop", "insert", "truncate", "none", "none"]))
        if op == "flip":
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
        elif op == "drop":
            data = data[:at] + data[at + 1:]
        elif op == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
        elif op == "truncate":
            data = data[:at]
    return data


transcripts = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=400).map(lambda t: t.encode("utf-8")),
    vtt_files(),
    srt_files(),
)


def check(data: bytes, media_type: str, duration_ms: int | None) -> None:
    try:
        transcript = parse_transcript(data, media_type, duration_ms)
    except TranscriptError as exc:
        assert LINE_MESSAGE.match(str(exc)), f"the message names no line: {str(exc)!r}"
        assert "\n" not in str(exc)
        return
    cues = transcript.cues
    assert all(a.start_ms <= b.start_ms for a, b in zip(cues, cues[1:])), "cues out of time order"
    assert all(0 <= c.start_ms <= c.end_ms for c in cues), "a cue ends before it starts"
    assert all(isinstance(c.text, str) for c in cues)
    if transcript.estimated and cues:
        assert cues[0].start_ms == 0 and all(a.end_ms == b.start_ms for a, b in zip(cues, cues[1:]))
        if duration_ms is not None:
            assert cues[-1].end_ms == duration_ms


@FUZZ
@given(data=transcripts, media_type=st.sampled_from(MEDIA_TYPES),
       duration_ms=st.none() | st.integers(0, 10**9))
def test_any_transcript_parses_in_order_or_is_refused_naming_a_line(data, media_type, duration_ms):
    check(data, media_type, duration_ms)


@FUZZ
@given(data=vtt_files())
def test_vtt_shaped_files(data):
    check(data, "text/vtt", None)


@FUZZ
@given(data=srt_files())
@example(data=b"1\n24000000000:00:00,000 --> 00:00:00,000")  # found by the bench profile: OverflowError
def test_srt_shaped_files(data):
    check(data, "application/x-subrip", None)
