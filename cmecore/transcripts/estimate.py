"""Timings for an untimed transcript: short cues spread over the media's duration.

A plain-text transcript has no times, so each chunk of text (a sentence, or a clause run
of at most MAX_WORDS_PER_ESTIMATED_CUE words) gets a share of the duration in proportion
to how long it takes to say (letters, plus a pause at sentence ends).
"""

from __future__ import annotations

import re

from cmecore.transcripts.cues import Cue

# Used when a plain transcript arrives before its video (duration unknown): ~150 words a
# minute is a typical lecture pace, so estimated cues are roughly right until re-parsed.
NOMINAL_MS_PER_WORD = 400
# An estimated cue holds at most this many words, so the highlight moves often enough
# to be useful even when a machine transcript has no punctuation at all.
MAX_WORDS_PER_ESTIMATED_CUE = 20
# A sentence end costs about as long as a short word: speakers pause there.
SENTENCE_PAUSE_WEIGHT = 4

_SPACES = re.compile(r"\s+")

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n\s*\n")
_CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+")


def estimate_cues(text: str, duration_ms: int | None) -> tuple[Cue, ...]:
    """Split untimed text into short cues and spread them over `duration_ms`.

    Each chunk's share of the time is its share of the spoken weight (letters, plus a
    pause at sentence ends). The result is contiguous: the first cue starts at 0, each
    starts where the previous ended, and the last ends at the duration.
    """
    chunks = _chunks(text)
    if not chunks:
        return ()
    weights = [_spoken_weight(chunk, sentence_end) for chunk, sentence_end in chunks]
    if duration_ms is None:
        duration_ms = sum(len(chunk.split()) for chunk, _ in chunks) * NOMINAL_MS_PER_WORD
    total = sum(weights)
    cues = []
    start = 0
    cumulative = 0
    for (chunk, _), weight in zip(chunks, weights):
        cumulative += weight
        # Boundaries from the running total (not per-chunk rounding) so errors never add up.
        end = duration_ms * cumulative // total
        cues.append(Cue(start, end, chunk))
        start = end
    return tuple(cues)


def _chunks(text: str) -> list[tuple[str, bool]]:
    """(chunk text, ends a sentence) pairs, each at most MAX_WORDS_PER_ESTIMATED_CUE words."""
    out: list[tuple[str, bool]] = []
    for sentence in _SENTENCE_END.split(text):
        sentence = _SPACES.sub(" ", sentence).strip()
        if not sentence:
            continue
        pieces = _split_long(sentence)
        out.extend((piece, i == len(pieces) - 1) for i, piece in enumerate(pieces))
    return out


def _split_long(sentence: str) -> list[str]:
    if len(sentence.split()) <= MAX_WORDS_PER_ESTIMATED_CUE:
        return [sentence]
    pieces: list[str] = []
    current: list[str] = []
    # Prefer clause breaks (commas, semicolons); fall back to a hard word limit.
    for clause in _CLAUSE_BREAK.split(sentence):
        words = clause.split()
        if current and len(current) + len(words) > MAX_WORDS_PER_ESTIMATED_CUE:
            pieces.append(" ".join(current))
            current = []
        current.extend(words)
        while len(current) > MAX_WORDS_PER_ESTIMATED_CUE:
            pieces.append(" ".join(current[:MAX_WORDS_PER_ESTIMATED_CUE]))
            current = current[MAX_WORDS_PER_ESTIMATED_CUE:]
    if current:
        pieces.append(" ".join(current))
    return pieces


def _spoken_weight(chunk: str, sentence_end: bool) -> int:
    # Letters and digits track syllables (and so speaking time) better than word count;
    # +1 per word for the gaps between them, never zero so every cue gets some time.
    letters = sum(ch.isalnum() for ch in chunk)
    words = len(chunk.split())
    return max(1, letters + words + (SENTENCE_PAUSE_WEIGHT if sentence_end else 0))
