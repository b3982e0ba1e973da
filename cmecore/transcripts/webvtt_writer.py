"""Cues as a WebVTT file: how the server serves a transcript it timed from the audio.

Cue text is escaped as the WebVTT spec asks (`&`, `<`, `>` as character references, so
`-->` can never end up in a cue) and kept on one line; times are hh:mm:ss.mmm.
"""

from __future__ import annotations

from cmecore.transcripts.cues import Cue


def to_webvtt(cues: tuple[Cue, ...] | list[Cue], note: str = "") -> str:
    """A WebVTT file holding `cues`, with an optional NOTE block (one line) after the header."""
    blocks = ["WEBVTT"]
    if note:
        blocks.append("NOTE " + " ".join(note.replace("-->", "->").split()))
    for cue in cues:
        blocks.append(f"{timestamp(cue.start_ms)} --> {timestamp(cue.end_ms)}\n{_escape(cue.text)}")
    return "\n\n".join(blocks) + "\n"


def timestamp(ms: int) -> str:
    seconds, millis = divmod(max(0, ms), 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _escape(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
