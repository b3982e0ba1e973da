"""Transcripts: read a downloaded WebVTT, SRT or plain-text file into cues (cmecore.transcripts).

Everything here is plain Python (no Qt), used by the player view, by search indexing
and by the downloads code (`parse_transcript` on a freshly verified blob). The reading
itself lives in cmecore.transcripts (the server reads transcripts at publish with it):
`text` decodes, `webvtt` follows the W3C parser, `subrip` reads SRT as tolerantly.

Timed formats keep their own times (`timed=True`); a broken cue is dropped and its lines
are listed in `Transcript.skipped` (logged here as a warning; the panel says how many).
Only a WebVTT file without its signature is refused whole. A plain-text transcript has
no times, so we estimate them (`estimated=True`) by spreading short chunks of text over
the media's duration in proportion to how long each takes to say; the UI shows a banner.
"""

from __future__ import annotations

import logging

from cmecore.transcripts.cues import Transcript, TranscriptRejected
from cmecore.transcripts.estimate import estimate_cues
from cmecore.transcripts.subrip import read_subrip
from cmecore.transcripts.text import decode_text
from cmecore.transcripts.webvtt import read_webvtt
from desktop.errors import TranscriptError

log = logging.getLogger(__name__)

VTT_TYPES = frozenset({"text/vtt"})
SRT_TYPES = frozenset({"application/x-subrip", "text/srt", "application/srt"})
PLAIN_TYPES = frozenset({"text/plain"})
LOGGED_SKIPS = 5  # the warning names the first few lines not read, then counts the rest


def parse_transcript(data: bytes, media_type: str, duration_ms: int | None = None) -> Transcript:
    """Parse a downloaded transcript. `duration_ms` is the media's length, used for plain text.

    Raises TranscriptError (naming the line) for a WebVTT file without its signature, or
    for an unknown media type; anything else reads, with the lines it could not read in
    `skipped`.
    """
    kind = media_type.split(";", 1)[0].strip().lower()
    text = decode_text(data)
    if kind in PLAIN_TYPES:
        return Transcript(estimate_cues(text, duration_ms), timed=False, estimated=True)
    if kind in VTT_TYPES:
        read = read_webvtt
    elif kind in SRT_TYPES:
        read = read_subrip
    else:
        raise TranscriptError(f"unsupported transcript type {media_type!r}")
    try:
        transcript = read(text)
    except TranscriptRejected as exc:
        raise TranscriptError(str(exc)) from None
    if transcript.skipped:
        shown = "; ".join(str(skip) for skip in transcript.skipped[:LOGGED_SKIPS])
        more = len(transcript.skipped) - LOGGED_SKIPS
        log.warning("%d lines of a %s transcript could not be read and are left out: %s%s",
                    len(transcript.skipped), kind, shown, f"; and {more} more" if more > 0 else "")
    return transcript
