"""From a transcript file's bytes to text, and from a cue's marked-up text to what a reader sees.

One place for both, so the desktop app and the server read every file alike. Decoding
follows the WebVTT parser's first steps (W3C WebVTT, "WebVTT file parsing"), which suit
SRT and plain text as well: the WHATWG UTF-8 decode (one leading BOM dropped, each
invalid byte sequence becomes U+FFFD, so one bad byte never refuses a file), then NUL →
U+FFFD, and CRLF, lone CR and LF all become one LF, so line numbers are what an editor
shows.
"""

from __future__ import annotations

import html
import re

REPLACEMENT = "\ufffd"

# "WebVTT cue text tokenizer": a "<" starts a tag that runs to the next ">" or to the end
# of the text (then it is still a tag, and not shown). Voice names (<v Dr. Rivera>) and
# class names are annotations, not words that were said.
_WEBVTT_TAG = re.compile(r"<[^>]*(?:>|\Z)")
# SRT has no standard: players strip complete HTML-like tags (<i>, <font color=…>) and
# ASS-style override codes such as {\an8}; a lone "<" in SRT text is a word ("< 5 mg").
_SRT_TAG = re.compile(r"<[^<>]*>")
_SRT_STYLE_CODE = re.compile(r"\{\\[^}]*\}")
_SPACES = re.compile(r"\s+")


def decode_text(data: bytes) -> str:
    """The file's text: UTF-8 with replacement characters, no NUL, LF line ends only."""
    text = data.decode("utf-8-sig", errors="replace")  # Python's "replace" matches WHATWG's U+FFFD count
    text = text.replace("\0", REPLACEMENT)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_lines(text: str) -> list[str]:
    """`decode_text`'s result as lines; only LF ends a line (not form feed, VT or U+2028).

    A final LF ends the last line rather than starting an empty one.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def webvtt_cue_text(raw: str) -> str:
    """WebVTT cue text as plain words: tags dropped, character references decoded, one line."""
    return _plain(_WEBVTT_TAG.sub("", raw))


def subrip_cue_text(raw: str) -> str:
    """SRT cue text as plain words: tags and {\\…} codes dropped, entities decoded, one line."""
    return _plain(_SRT_STYLE_CODE.sub("", _SRT_TAG.sub("", raw)))


def _plain(text: str) -> str:
    # Entities after tags, so "&lt;b&gt;" stays the text "<b>" (the cue text parser decodes
    # character references only in text, never inside a tag).
    return _SPACES.sub(" ", html.unescape(text)).strip()
