"""Fuzzing transcript reading: any bytes, labelled VTT, SRT or plain text, parse into cues
in time order with the lines not read reported; only a WebVTT file without its signature
is refused (a TranscriptError naming line 1). And no valid cue is ever lost: valid cues
with garbage blocks between them all come back."""

from __future__ import annotations

import re
from collections import Counter

from hypothesis import example, given
from hypothesis import strategies as st

from cmecore.transcripts.text import decode_text
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


def has_webvtt_signature(data: bytes) -> bool:
    text = decode_text(data)
    return text.startswith("WEBVTT") and (len(text) == 6 or text[6] in " \t\n")


def check(data: bytes, media_type: str, duration_ms: int | None) -> None:
    is_vtt = media_type.startswith("text/vtt")
    try:
        transcript = parse_transcript(data, media_type, duration_ms)
    except TranscriptError as exc:
        assert is_vtt and not has_webvtt_signature(data), f"refused though only a bad signature may be: {exc}"
        assert LINE_MESSAGE.match(str(exc)) and str(exc).startswith("line 1:"), str(exc)
        assert "\n" not in str(exc)
        return
    assert not is_vtt or has_webvtt_signature(data), "a file without the WebVTT signature was read"
    cues = transcript.cues
    assert all(a.start_ms <= b.start_ms for a, b in zip(cues, cues[1:])), "cues out of time order"
    assert all(0 <= c.start_ms <= c.end_ms for c in cues), "a cue ends before it starts"
    assert all(isinstance(c.text, str) and "\0" not in c.text for c in cues)
    lines = [skip.line for skip in transcript.skipped]
    line_count = decode_text(data).count("\n") + 1
    assert lines == sorted(set(lines)) and all(1 <= n <= line_count for n in lines), lines
    assert all(skip.reason and "\n" not in skip.reason for skip in transcript.skipped)
    if transcript.estimated and cues:
        assert cues[0].start_ms == 0 and all(a.end_ms == b.start_ms for a, b in zip(cues, cues[1:]))
        if duration_ms is not None:
            assert cues[-1].end_ms == duration_ms


@FUZZ
@given(data=transcripts, media_type=st.sampled_from(MEDIA_TYPES),
       duration_ms=st.none() | st.integers(0, 10**9))
def test_any_transcript_parses_in_order_and_only_a_missing_signature_refuses_it(data, media_type, duration_ms):
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


# ---------------------------------------------------------------- no valid cue is lost

WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;!?'()-", min_size=1,
                max_size=12)
GARBAGE_LINES = st.one_of(
    st.text(max_size=30).map(lambda t: t.replace("\r", " ").replace("\n", " ")),
    st.sampled_from(["-->", "a --> b", "NOTE", "NOTE a --> b", "STYLE", "REGION", "WEBVTT", "1", "x",
                     "00:00:60.000 --> 00:01:00.000", "0:00.000 --> 0:01.000", "00:01.0x00 --> 00:02.000",
                     "00:00:05,000 --> 00:00:01,000", "24000000000:00:00,000 --> 0:00:00,000",
                     "00:01.000\x0b--> 00:02.000", "<v Someone>", "&amp;", "\x00", "\ufeff"]),
)


@st.composite
def valid_cue(draw, srt: bool) -> tuple[list[str], tuple[int, int, str]]:
    """A cue block every reader must read: its lines, and the cue it must give."""
    start = draw(st.integers(0, 5 * 3600 * 1000))
    end = start + draw(st.integers(0, 600_000))
    text_lines = [" ".join(draw(st.lists(WORDS, min_size=1, max_size=5))) for _ in range(draw(st.integers(1, 3)))]
    if srt:
        def stamp(ms):
            sep = draw(st.sampled_from([",", ",", "."]))
            return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"
        head = [str(draw(st.integers(1, 9999)))] if draw(st.booleans()) else []
        timing = f"{stamp(start)} --> {stamp(end)}"
    else:
        def stamp(ms):
            hours = ms // 3_600_000
            form = draw(st.sampled_from(["short", "hours", "one-digit"] if hours == 0 else ["hours", "padded"]))
            rest = f"{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"
            return {"short": rest, "hours": f"{hours:02d}:{rest}", "one-digit": f"{hours}:{rest}",
                    "padded": f"{hours:05d}:{rest}"}[form]
        head = [draw(st.sampled_from(["intro", "12", "cue-7", "NOTE", "STYLE"]))] if draw(st.booleans()) else []
        space = lambda: draw(st.sampled_from([" ", "\t", "", "  "]))  # noqa: E731
        settings = draw(st.sampled_from(["", " align:middle", " line:1.5 line:0 align:start", " foo:bar :x",
                                         " region:none size:200% position:-5%", " a --> b"]))
        timing = f"{space()}{stamp(start)}{space()}-->{space()}{stamp(end)}{settings}"
    return [*head, timing, *text_lines], (start, end, " ".join(text_lines))


@st.composite
def cues_among_garbage(draw, srt: bool) -> tuple[bytes, list[tuple[int, int, str]]]:
    blocks, wanted = [], []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            blocks.append(draw(st.lists(GARBAGE_LINES, min_size=1, max_size=4)))
        lines, cue = draw(valid_cue(srt))
        blocks.append(lines)
        wanted.append(cue)
    if draw(st.booleans()):
        blocks.append(draw(st.lists(GARBAGE_LINES, min_size=1, max_size=4)))
    headers = [["WEBVTT"], ["WEBVTT - title", "Kind: captions"], ["\ufeffWEBVTT"]]
    header = [] if srt else [draw(st.sampled_from(headers))]
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = (newline * 2).join(newline.join(block) for block in [*header, *blocks])
    text += draw(st.sampled_from(["", newline]))
    return text.encode("utf-8"), wanted


def assert_every_valid_cue_comes_back(data: bytes, wanted, media_type: str) -> None:
    transcript = parse_transcript(data, media_type)
    got = Counter((c.start_ms, c.end_ms, c.text) for c in transcript.cues)
    missing = Counter(wanted) - got
    assert not missing, f"lost {list(missing)}; skipped {[str(s) for s in transcript.skipped]}"


@FUZZ
@given(case=cues_among_garbage(srt=False))
@example(case=(b"WEBVTT\n\nNOTE\n\n00:01.000 --> 00:02.000\nkept\n", [(1000, 2000, "kept")]))
def test_no_valid_webvtt_cue_is_lost_among_garbage_blocks(case):
    data, wanted = case
    assert_every_valid_cue_comes_back(data, wanted, "text/vtt")


@FUZZ
@given(case=cues_among_garbage(srt=True))
def test_no_valid_srt_cue_is_lost_among_garbage_blocks(case):
    data, wanted = case
    assert_every_valid_cue_comes_back(data, wanted, "application/x-subrip")
