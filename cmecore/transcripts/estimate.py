"""Timings for an untimed transcript: short cues spread over the media's duration.

A plain-text transcript has no times, so each chunk of text (a sentence, or a clause run
of at most MAX_WORDS_PER_ESTIMATED_CUE words) gets a share of the duration in proportion
to how long it takes to say (letters, plus a pause at sentence ends). `spoken_chunks` is
the one chunking and weighting: the aligner (align.py) spreads the same chunks over the
speech found in the audio instead of over the whole duration.
"""

from __future__ import annotations

import re

from dataclasses import dataclass

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


@dataclass(frozen=True)
class SpokenChunk:
    """One future cue: its text, whether it starts/ends a sentence, and how long it takes to say."""

    text: str
    starts_sentence: bool
    ends_sentence: bool
    weight: int  # spoken weight: letters and digits, +1 per word, + a pause at a sentence end

    @property
    def words(self) -> int:
        return len(self.text.split())


def spoken_chunks(text: str) -> list[SpokenChunk]:
    """The text as short chunks (at most MAX_WORDS_PER_ESTIMATED_CUE words) with their weights."""
    out: list[SpokenChunk] = []
    for sentence in _SENTENCE_END.split(text):
        sentence = _SPACES.sub(" ", sentence).strip()
        if not sentence:
            continue
        pieces = _split_long(sentence)
        for i, piece in enumerate(pieces):
            ends = i == len(pieces) - 1
            out.append(SpokenChunk(piece, i == 0, ends, _spoken_weight(piece, ends)))
    return out


def estimate_cues(text: str, duration_ms: int | None) -> tuple[Cue, ...]:
    """Split untimed text into short cues and spread them over `duration_ms`.

    Each chunk's share of the time is its share of the spoken weight (letters, plus a
    pause at sentence ends). The result is contiguous: the first cue starts at 0, each
    starts where the previous ended, and the last ends at the duration.
    """
    chunks = spoken_chunks(text)
    if not chunks:
        return ()
    if duration_ms is None:
        duration_ms = sum(chunk.words for chunk in chunks) * NOMINAL_MS_PER_WORD
    bounds = share_out([chunk.weight for chunk in chunks], duration_ms)
    return tuple(Cue(start, end, chunk.text) for chunk, start, end in zip(chunks, bounds, bounds[1:]))


def share_out(weights: list[int], total_ms: int) -> list[int]:
    """Boundaries 0 = b[0] ≤ … ≤ b[n] = total_ms, chunk i getting its weight's share of the time.

    From the running total (not per-chunk rounding), so rounding errors never add up.
    """
    total = sum(weights)
    bounds = [0]
    cumulative = 0
    for weight in weights:
        cumulative += weight
        bounds.append(total_ms * cumulative // total)
    return bounds


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
