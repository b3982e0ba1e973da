"""Reading WebVTT as browsers do: the W3C "WebVTT parser algorithm", step by step.

Spec: W3C WebVTT, section "Parsing" (https://www.w3.org/TR/webvtt1/#file-parsing), read
from w3c/webvtt index.bs. The step names in comments below are the spec's.

- Only the signature refuses a file (`TranscriptRejected`, line 1): "WEBVTT" followed by a
  space, a tab, a line end or the end of the file, after an optional BOM (dropped by the
  UTF-8 decode, `text.decode_text`). "WEBVTTX" or "WEBVTT" + form feed are not WebVTT.
- Everything else is read block by block, and a block that is not a readable cue is
  dropped alone: its lines are reported in `Transcript.skipped` (header, NOTE, STYLE and
  REGION blocks are not cues and are dropped quietly). The spec turns STYLE and REGION
  blocks into style sheets and regions; neither makes or breaks a cue (a cue's region
  only places it), so they are not read further.
- A timing line starts a cue only as a block's first line, or its second after an
  identifier; met later, it ends the block and starts the next one — so a cue without a
  blank line before it, or a NOTE with "-->" on its third line, read as the spec says.
- Cue settings (position, line, align, region, …) place text on a video; our cues are
  plain text, so they are not read at all. That is what the spec does with an unknown,
  invalid or repeated setting too: it skips that setting, never the cue.

Two choices the parser algorithm leaves open, made for a transcript: a cue that ends
before it starts (the syntax forbids it; a browser keeps it but never shows it) is dropped
and reported, and so is a cue whose time exceeds `MAX_CUE_MS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cmecore.transcripts.cues import MAX_CUE_MS, Cue, SkippedLine, Transcript, TranscriptRejected, skipped_block
from cmecore.transcripts.text import split_lines, webvtt_cue_text

SIGNATURE = "WEBVTT"
ARROW = "-->"
_ASCII_WHITESPACE = "\t\n\f\r "  # not vertical tab, not U+00A0: "skip whitespace" (HTML)
_DIGITS = "0123456789"  # ASCII digits only: str.isdigit also takes "٣" and "²"
_QUIET_BLOCKS = ("NOTE", "STYLE", "REGION")  # comments, style sheets, regions: not cue text


def read_webvtt(text: str) -> Transcript:
    """Cues in start order, and the lines not read. `text` from `text.decode_text`.

    Raises TranscriptRejected only for a missing or wrong signature.
    """
    check_signature(text)
    reader = _Reader(split_lines(text))
    reader.read()
    cues = sorted(reader.cues, key=lambda cue: cue.start_ms)  # "text track cue order"; stable
    return Transcript(tuple(cues), timed=True, estimated=False, skipped=tuple(reader.skipped))


def check_signature(text: str) -> None:
    """The spec's three signature steps (after the BOM is gone)."""
    if not text.startswith(SIGNATURE) or (len(text) > len(SIGNATURE) and text[len(SIGNATURE)] not in " \t\n"):
        raise TranscriptRejected(
            1, "not a WebVTT file (the first line must be WEBVTT, alone or followed by a space and a title)"
        )


class UnreadableTiming(ValueError):
    """A timing line the spec's "collect WebVTT cue timings and settings" fails on."""


@dataclass
class _Block:
    first: int  # index of the block's first line
    lines: list[str] = field(default_factory=list)  # every line read into the block, in order
    timing_at: int | None = None  # index of the timing line that made a cue
    times: tuple[int, int] | None = None
    text: list[str] = field(default_factory=list)  # the spec's "buffer" once a cue exists
    failure: tuple[int, str] | None = None  # (index, why) of a timing line that could not be read


class _Reader:
    """The parser's state over the file's lines: "position" is an index into `lines`."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.position = 1  # the signature line has been read
        self.cues: list[Cue] = []
        self.skipped: list[SkippedLine] = []

    def read(self) -> None:
        lines = self.lines
        if self.position >= len(lines):
            return  # "the file ... contains no useful data"
        # Header: a block right after the signature line (no blank line between) is the header.
        if lines[self.position] != "":
            self._collect_block(in_header=True)
        else:
            self.position += 1
        self._skip_blank_lines()
        # Block loop
        while self.position < len(lines):
            block = self._collect_block(in_header=False)
            self._keep(block)
            self._skip_blank_lines()

    def _skip_blank_lines(self) -> None:
        while self.position < len(self.lines) and self.lines[self.position] == "":
            self.position += 1

    def _collect_block(self, *, in_header: bool) -> _Block:
        """The spec's "collect a WebVTT block", on lines instead of characters."""
        lines = self.lines
        block = _Block(self.position)
        line_count = 0
        previous = self.position
        seen_arrow = False
        while True:
            at = self.position
            line = lines[at] if at < len(lines) else ""
            seen_eof = at + 1 >= len(lines)
            self.position = at + 1
            line_count += 1
            if ARROW in line:
                if not in_header and (line_count == 1 or (line_count == 2 and not seen_arrow)):
                    seen_arrow = True
                    previous = self.position
                    block.lines.append(line)
                    try:
                        block.times = cue_timings(line)
                    except UnreadableTiming as exc:
                        block.times, block.failure = None, (at, str(exc))
                    else:
                        block.timing_at, block.text = at, []
                else:
                    # A timing line where a cue cannot start: it starts the next block.
                    self.position = previous
                    break
            elif line == "":
                break
            else:
                block.lines.append(line)
                block.text.append(line)
                previous = self.position
            if seen_eof:
                break
        return block

    def _keep(self, block: _Block) -> None:
        """Add the block's cue, or report its lines if it held cue text that cannot be shown."""
        if block.times is not None:
            start, end = block.times
            fault = None
            if end < start:
                fault = "the cue ends before it starts"
            elif end > MAX_CUE_MS:
                fault = "a cue time is beyond what a transcript can hold"
            if fault is None:
                self.cues.append(Cue(start, end, webvtt_cue_text("\n".join(block.text))))
                return
            block.failure = (block.timing_at, fault)
        elif _first_word(block.lines[0] if block.lines else "") in _QUIET_BLOCKS:
            return
        fault, why = block.failure or (None, "text outside any cue (no timing line before it)")
        self.skipped += skipped_block(block.first, len(block.lines), fault, why)


def _first_word(line: str) -> str:
    end = 0
    while end < len(line) and line[end] not in _ASCII_WHITESPACE:
        end += 1
    return line[:end]


# ---------------------------------------------------------------- timings

def cue_timings(line: str) -> tuple[int, int]:
    """The spec's "collect WebVTT cue timings and settings": (start_ms, end_ms).

    What follows the end time is the cue settings, which never make a cue unreadable.
    """
    position = _skip_whitespace(line, 0)
    start, position = collect_timestamp(line, position)
    position = _skip_whitespace(line, position)
    if not line.startswith(ARROW, position):
        raise UnreadableTiming("cannot read the cue timing: expected --> after the start time")
    position = _skip_whitespace(line, position + len(ARROW))
    end, _remainder_at = collect_timestamp(line, position)
    return start, end


def _skip_whitespace(line: str, position: int) -> int:
    while position < len(line) and line[position] in _ASCII_WHITESPACE:
        position += 1
    return position


def _digits(line: str, position: int) -> tuple[str, int]:
    end = position
    while end < len(line) and line[end] in _DIGITS:
        end += 1
    return line[position:end], end


def collect_timestamp(line: str, position: int) -> tuple[int, int]:
    """The spec's "collect a WebVTT timestamp" at `position`: (milliseconds, position after).

    [hours:]mm:ss.ttt — hours are any number of digits ("0:00:00.000" is valid), and a
    first field that is not two digits, or is above 59, is hours; minutes and seconds are
    exactly two digits and at most 59 ("00:00:60.000" is not a time); exactly three
    fraction digits.
    """
    def fail(why: str) -> UnreadableTiming:
        return UnreadableTiming(f"cannot read the cue timing: {why}")

    first, position = _digits(line, position)
    if not first:
        raise fail("a time must start with a digit")
    hours_given = len(first) != 2 or int(first) > 59
    if not line.startswith(":", position):
        raise fail("expected a colon in the time")
    second, position = _digits(line, position + 1)
    if len(second) != 2:
        raise fail("minutes and seconds must have two digits")
    if hours_given or line.startswith(":", position):
        if not line.startswith(":", position):
            raise fail("a time with hours needs minutes and seconds (h:mm:ss.ttt)")
        third, position = _digits(line, position + 1)
        if len(third) != 2:
            raise fail("minutes and seconds must have two digits")
        hours_digits, minutes, seconds = first, int(second), int(third)
    else:
        hours_digits, minutes, seconds = "0", int(first), int(second)
    if not line.startswith(".", position):
        raise fail("a time needs a dot and three digits of milliseconds")
    fraction, position = _digits(line, position + 1)
    if len(fraction) != 3:
        raise fail("a time needs exactly three digits of milliseconds")
    if minutes > 59 or seconds > 59:
        raise fail("minutes and seconds must be below 60")
    significant = hours_digits.lstrip("0")
    if len(significant) > 10:  # int() of thousands of digits is slow, and refused past 4,300
        raise fail("a time is beyond what a transcript can hold")
    hours = int(significant or "0")
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + int(fraction), position
