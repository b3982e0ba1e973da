"""Reading SRT (SubRip) as tolerantly as WebVTT: a broken block is dropped, the rest kept.

SRT has no formal standard; what players accept, and what we read:

    1                                    the index (optional; any one line before the timing)
    00:00:01,000 --> 00:00:02,500 X1:…   hours (one or more digits), minutes and seconds
    Hello <i>there</i>                   (one or two digits, below 60), "," or "." and
                                         three digits of milliseconds; anything after the
                                         end time is ignored
Blocks are separated by blank lines (whitespace only counts as blank). As in WebVTT, a
line with "-->" after a block's own timing line starts the next block (with the index
line just before it), so a missing blank line loses nothing. A block without a timing
line, with a timing that cannot be read, with odd times (minutes or seconds above 59),
ending before it starts or beyond `MAX_CUE_MS` is dropped, and each of its lines reported.
"""

from __future__ import annotations

import re

from cmecore.transcripts.cues import MAX_CUE_MS, Cue, SkippedLine, Transcript, skipped_block
from cmecore.transcripts.text import split_lines, subrip_cue_text

ARROW = "-->"
_TIME = r"([0-9]{1,10}):([0-9]{1,2}):([0-9]{1,2})[,.]([0-9]{3})"
_TIMING = re.compile(rf"[ \t]*{_TIME}[ \t]*-->[ \t]*{_TIME}(?:[ \t].*)?")
_INDEX = re.compile(r"[ \t]*[0-9]+[ \t]*")


def read_subrip(text: str) -> Transcript:
    """Cues in start order, and the lines not read. `text` from `text.decode_text`."""
    lines = split_lines(text)
    cues: list[Cue] = []
    skipped: list[SkippedLine] = []
    for first, block, timing_at in _blocks(lines):
        if timing_at is None:
            skipped += skipped_block(first, len(block), None, "text outside any cue (no timing line before it)")
            continue
        times = _cue_times(lines[timing_at])
        if isinstance(times, str):
            skipped += skipped_block(first, len(block), timing_at, times)
            continue
        cues.append(Cue(*times, subrip_cue_text("\n".join(block[timing_at + 1 - first :]))))
    cues.sort(key=lambda cue: cue.start_ms)
    return Transcript(tuple(cues), timed=True, estimated=False, skipped=tuple(skipped))


def _blank(line: str) -> bool:
    return not line.strip()


def _blocks(lines: list[str]):
    """(index of first line, its lines, index of its timing line or None) for each block."""
    position = 0
    while position < len(lines):
        if _blank(lines[position]):
            position += 1
            continue
        first, timing_at, end = position, None, position
        while end < len(lines) and not _blank(lines[end]):
            if ARROW in lines[end]:
                if timing_at is None and end - first <= 1:
                    timing_at = end  # the block's own timing line: first, or after the index
                else:
                    # The next cue begins here (with its index line, if one is just before).
                    own_end = first if timing_at is None else timing_at + 1
                    if end - 1 >= own_end and end - 1 > first and _INDEX.fullmatch(lines[end - 1]):
                        end -= 1
                    break
            end += 1
        yield first, lines[first:end], timing_at
        position = end


def _cue_times(line: str) -> tuple[int, int] | str:
    """(start_ms, end_ms), or why the timing line cannot be used."""
    match = _TIMING.fullmatch(line)
    if match is None:
        return "cannot read the cue timing (expected 00:00:00,000 --> 00:00:00,000)"
    h1, m1, s1, f1, h2, m2, s2, f2 = (int(group) for group in match.groups())
    if max(m1, s1, m2, s2) > 59:
        return "cannot read the cue timing: minutes and seconds must be below 60"
    start = ((h1 * 60 + m1) * 60 + s1) * 1000 + f1
    end = ((h2 * 60 + m2) * 60 + s2) * 1000 + f2
    if end < start:
        return "the cue ends before it starts"
    if end > MAX_CUE_MS:
        return "a cue time is beyond what a transcript can hold"
    return start, end
