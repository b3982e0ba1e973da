"""Transcripts: read a downloaded WebVTT, SRT or plain-text file into cues (cmecore.transcripts).

Everything here is plain Python (no Qt), used by the player view, by search indexing
and by the downloads code (`parse_transcript` on a freshly verified blob).

Timed formats keep their own times (`timed=True`). A plain-text transcript has none, so
we estimate them (`estimated=True`) by spreading short chunks of text over the media's
duration in proportion to how long each takes to say; the UI shows a banner for these.
"""

from __future__ import annotations

import html
import re

import srt
import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from cmecore.transcripts.cues import Cue, Transcript
from cmecore.transcripts.estimate import estimate_cues
from desktop.errors import TranscriptError

VTT_TYPES = frozenset({"text/vtt"})
SRT_TYPES = frozenset({"application/x-subrip", "text/srt", "application/srt"})
PLAIN_TYPES = frozenset({"text/plain"})



def parse_transcript(data: bytes, media_type: str, duration_ms: int | None = None) -> Transcript:
    """Parse a downloaded transcript. `duration_ms` is the media's length, used for plain text.

    Raises TranscriptError (naming the line) for malformed files or unknown media types.
    """
    kind = media_type.split(";", 1)[0].strip().lower()
    text = _decode(data)
    if kind in VTT_TYPES:
        return Transcript(_parse_vtt(text), timed=True, estimated=False)
    if kind in SRT_TYPES:
        return Transcript(_parse_srt(text), timed=True, estimated=False)
    if kind in PLAIN_TYPES:
        return Transcript(estimate_cues(text, duration_ms), timed=False, estimated=True)
    raise TranscriptError(f"unsupported transcript type {media_type!r}")


# ---------------------------------------------------------------- decoding and cleaning

def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TranscriptError(f"line {line}: not valid UTF-8 text") from None
    # One newline convention, so line numbers match what an editor shows.
    return text.replace("\r\n", "\n").replace("\r", "\n")


_TAG = re.compile(r"<[^>]*>")
_SRT_STYLE_CODE = re.compile(r"\{\\[^}]*\}")  # e.g. {\an8} positioning in SRT
_SPACES = re.compile(r"\s+")


def clean_cue_text(raw: str) -> str:
    """Cue text as a reader should see it: no <v>/<c>/<b> tags, entities decoded, one line."""
    text = _SRT_STYLE_CODE.sub("", _TAG.sub("", raw))
    return _SPACES.sub(" ", html.unescape(text)).strip()


def _line_of_offset(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# ---------------------------------------------------------------- WebVTT

_VTT_TIMESTAMP = r"(?:\d{2,}:)?\d{2}:[0-5]\d\.\d{3}"
_VTT_TIMING_LINE = re.compile(rf"^\s*({_VTT_TIMESTAMP})\s*-->\s*({_VTT_TIMESTAMP})(?:\s|$)")


def _parse_vtt(text: str) -> tuple[Cue, ...]:
    lines = text.split("\n")
    if not lines[0].startswith("WEBVTT"):
        raise TranscriptError("line 1: not a WebVTT file (the first line must start with WEBVTT)")
    # webvtt-py (even strict) reports neither line numbers nor bad times inside a block
    # it skips, so check every timing line ourselves first: that is where files break.
    _check_vtt_timing_lines(lines)
    try:
        document = webvtt.from_string(text, strict=True)
    except (MalformedCaptionError, MalformedFileError) as exc:
        raise TranscriptError(f"line {_first_unparsed_vtt_line(lines)}: {exc}") from None
    cues = [
        Cue(c.start_time.in_milliseconds(), c.end_time.in_milliseconds(), clean_cue_text(c.raw_text))
        for c in document.captions
    ]
    # WebVTT requires cues in start order, but be forgiving: the index needs them sorted.
    return tuple(sorted(cues, key=lambda cue: cue.start_ms))


def _check_vtt_timing_lines(lines: list[str]) -> None:
    for number, line in enumerate(lines, start=1):
        if "-->" not in line:
            continue
        match = _VTT_TIMING_LINE.match(line)
        if match is None:
            raise TranscriptError(f"line {number}: cannot read cue timings {line.strip()!r}")
        start, end = (_vtt_ms(match.group(i)) for i in (1, 2))
        if end < start:
            raise TranscriptError(f"line {number}: cue ends before it starts ({line.strip()!r})")
        if not _follows_block_break(lines, number - 1):
            raise TranscriptError(f"line {number}: a cue must be preceded by an empty line")


def _follows_block_break(lines: list[str], index: int) -> bool:
    """A timing line starts a block, or follows one identifier line that does."""
    before = lines[index - 1] if index >= 1 else ""
    if before.strip() == "":
        return True
    two_before = lines[index - 2] if index >= 2 else ""
    return "-->" not in before and two_before.strip() == "" and index >= 2


def _first_unparsed_vtt_line(lines: list[str]) -> int:
    # Only reached if webvtt-py rejects what our own checks accepted: point at the first cue.
    for number, line in enumerate(lines, start=1):
        if "-->" in line:
            return number
    return 1


def _vtt_ms(stamp: str) -> int:
    parts = stamp.split(":")
    seconds = float(parts[-1])
    minutes = int(parts[-2])
    hours = int(parts[-3]) if len(parts) == 3 else 0
    return (hours * 3600 + minutes * 60) * 1000 + round(seconds * 1000)


# ---------------------------------------------------------------- SRT

def _parse_srt(text: str) -> tuple[Cue, ...]:
    try:
        subtitles = list(srt.parse(text))
    except srt.SRTParseError as exc:
        raise TranscriptError(
            f"line {_srt_error_line(text, exc)}: cannot read this subtitle block"
        ) from None
    except ValueError as exc:  # srt raises TimestampParseError (a ValueError) for odd times
        raise TranscriptError(f"line {_first_timing_line(text)}: {exc}") from None
    except OverflowError:  # e.g. 24000000000:00:00,000: more days than a timedelta holds
        raise TranscriptError(f"line {_first_timing_line(text)}: a cue time is out of range") from None
    cues = []
    for sub in subtitles:
        start = int(sub.start.total_seconds() * 1000)
        end = int(sub.end.total_seconds() * 1000)
        if end < start:
            raise TranscriptError(
                f"line {_srt_block_timing_line(text, sub.index)}: cue {sub.index} ends before it starts"
            )
        cues.append(Cue(start, end, clean_cue_text(sub.content)))
    return tuple(sorted(cues, key=lambda cue: cue.start_ms))


def _srt_error_line(text: str, exc: srt.SRTParseError) -> int:
    """The timing line inside the unparsed block if it has one, else where the block starts."""
    block_start = exc.expected_start
    # Skip blank lines: the block really begins at its first non-blank character.
    while block_start < len(text) and text[block_start] in " \t\n":
        block_start += 1
    unmatched = text[block_start : exc.actual_start]
    arrow = unmatched.find("-->")
    if arrow >= 0:
        return _line_of_offset(text, block_start + arrow)
    return _line_of_offset(text, block_start)


def _first_timing_line(text: str) -> int:
    position = text.find("-->")
    return _line_of_offset(text, position) if position >= 0 else 1


def _srt_block_timing_line(text: str, index: int) -> int:
    match = re.search(rf"(?m)^\s*{index}\s*\n(.*-->)", text)
    return _line_of_offset(text, match.start(1)) if match else _first_timing_line(text)

