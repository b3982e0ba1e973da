"""Timing an untimed transcript against the speech in its recording.

The same chunks and spoken weights as the plain estimate (estimate.spoken_chunks), but
spread over speech only (speech.py's segments), in proportion to speaking time: silence
before the talk and pauses in it take no text. Sentence starts are then drawn to the
speech onsets after pauses: a sentence start whose estimate lies within SNAP_SHARE of a
sentence's length from an onset (on the speech-time axis) moves there, and the chunks
between two such anchors are spread again between them. So an error in the estimate does
not run on: each snapped sentence starts it afresh. (`make bench`: bench_alignment.)

The report says the speaking rate over speech time and warns when the text cannot fit the
speech: no speech, a rate too low for speech (the text covers only part of the talk: it is
then placed at a typical pace from the first words, not stretched), or too high (quiet
speech missed, or another talk's text).

Pure Python, no I/O, no numpy: given text and segments, the same answer on the server and a client.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from cmecore.transcripts.cues import Cue, clock  # clock: re-exported for the server's messages
from cmecore.transcripts.estimate import SpokenChunk, share_out, spoken_chunks

# Lectures run at about 120–180 words a minute; outside these the text and the speech disagree.
SLOWEST_PLAUSIBLE_WPM = 90
FASTEST_PLAUSIBLE_WPM = 250
TYPICAL_WPM = 150
MIN_SPEECH_MS = 1_000  # less than this is not a talk
# A sentence start moves to an onset when it is this share of a typical sentence away, or less.
SNAP_SHARE = 0.5


@dataclass(frozen=True)
class Segment:
    """A stretch of speech in the media (speech.py finds them)."""

    start_ms: int
    end_ms: int

    @property
    def length_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class TimingWarning:
    code: str  # "no_speech" | "partial_text" | "too_fast"
    message: str


@dataclass(frozen=True)
class Alignment:
    cues: tuple[Cue, ...]  # () when there was no speech (or no text) to time
    words: int
    speech_ms: int
    warnings: tuple[TimingWarning, ...]

    @property
    def words_per_minute(self) -> float:
        return self.words * 60_000 / self.speech_ms if self.speech_ms else 0.0


def align_to_speech(text: str, segments: list[Segment], *, snap: bool = True) -> Alignment:
    """Cues for `text` placed over `segments` (speech, in time order); see the module docstring."""
    chunks = spoken_chunks(text)
    words = sum(chunk.words for chunk in chunks)
    timeline = SpeechTimeline(segments)
    if timeline.total_ms < MIN_SPEECH_MS:
        return Alignment((), words, timeline.total_ms, (TimingWarning(
            "no_speech", "no speech was found in the video's sound track; the transcript keeps no timings"),))
    if not chunks:
        return Alignment((), 0, timeline.total_ms, ())
    span_ms = timeline.total_ms
    if words * 60_000 / span_ms < SLOWEST_PLAUSIBLE_WPM:
        # The text covers only part of the talk: stretched over all of it, every cue would be
        # late; at a typical pace from the first words, the part it covers is about right.
        span_ms = min(span_ms, words * 60_000 // TYPICAL_WPM)
    bounds = share_out([chunk.weight for chunk in chunks], span_ms)
    if snap:
        bounds = _snap_sentence_starts(chunks, bounds, timeline, span_ms)
    starts = [timeline.start_at(b) for b in bounds[:-1]]
    # A cue ends where its speech ends (at a pause: before it); never before it starts.
    cues = tuple(Cue(start, max(start, timeline.end_at(end)), chunk.text)
                 for chunk, start, end in zip(chunks, starts, bounds[1:]))
    alignment = Alignment(cues, words, timeline.total_ms, ())
    return Alignment(cues, words, timeline.total_ms, rate_warnings(alignment, timeline))


class SpeechTimeline:
    """Speech time (the speech segments laid end to end) ↔ media time."""

    def __init__(self, segments: list[Segment]):
        self.segments = [s for s in segments if s.end_ms > s.start_ms]
        self.offsets = [0]  # speech time at each segment's start, then the total
        for segment in self.segments:
            self.offsets.append(self.offsets[-1] + segment.length_ms)
        self.total_ms = self.offsets[-1]

    def onsets(self) -> list[int]:
        """Speech time of each onset after a pause (every segment start but the first)."""
        return self.offsets[1:-1]

    def start_at(self, speech_ms: int) -> int:
        """Media time where speech time `speech_ms` begins (at a pause: the next onset)."""
        k = min(bisect_right(self.offsets, speech_ms) - 1, len(self.segments) - 1)
        return self.segments[k].start_ms + speech_ms - self.offsets[k]

    def end_at(self, speech_ms: int) -> int:
        """Media time where speech time `speech_ms` ends (at a pause: the previous segment's end)."""
        k = max(bisect_left(self.offsets, speech_ms) - 1, 0)
        return self.segments[k].start_ms + speech_ms - self.offsets[k]


def _snap_sentence_starts(chunks: list[SpokenChunk], bounds: list[int], timeline: SpeechTimeline,
                          total_ms: int) -> list[int]:
    """Move sentence starts to nearby onsets, in order, and spread the rest between anchors
    (the text spans speech time 0 to `total_ms`)."""
    onsets = [onset for onset in timeline.onsets() if onset < total_ms]
    if not onsets:
        return bounds
    cumulative = [0]
    for chunk in chunks:
        cumulative.append(cumulative[-1] + chunk.weight)
    total_weight = cumulative[-1]
    sentences = sum(chunk.starts_sentence for chunk in chunks)
    reach = SNAP_SHARE * total_ms / max(1, sentences)
    anchors = [(0, 0)]  # (weight position, speech time)
    for i, chunk in enumerate(chunks):
        if i == 0 or not chunk.starts_sentence:
            continue
        weight_at, speech_at = anchors[-1]
        # The estimate from the last anchor on: the rest of the text over the rest of the speech.
        expected = speech_at + (cumulative[i] - weight_at) * (total_ms - speech_at) / (total_weight - weight_at)
        j = bisect_left(onsets, expected)
        near = [o for o in onsets[max(0, j - 1): j + 1] if o > speech_at and abs(o - expected) <= reach]
        if near:
            anchors.append((cumulative[i], min(near, key=lambda o: abs(o - expected))))
    anchors.append((total_weight, total_ms))
    return [_between(anchors, w) for w in cumulative]


def _between(anchors: list[tuple[int, int]], weight: int) -> int:
    """Speech time of weight position `weight`, linear between the anchors around it."""
    k = bisect_right([w for w, _ in anchors], weight) - 1
    if k >= len(anchors) - 1:
        return anchors[-1][1]
    (w0, s0), (w1, s1) = anchors[k], anchors[k + 1]
    return s0 + (weight - w0) * (s1 - s0) // (w1 - w0) if w1 > w0 else s0


def rate_warnings(alignment: Alignment, timeline: SpeechTimeline) -> tuple[TimingWarning, ...]:
    """Warnings when the words per minute of speech are implausible for a talk."""
    rate = alignment.words_per_minute
    if rate < SLOWEST_PLAUSIBLE_WPM:
        # Where the text would end at a typical pace, against where the speech really ends.
        text_end = timeline.end_at(min(timeline.total_ms, alignment.words * 60_000 // TYPICAL_WPM))
        return (TimingWarning("partial_text", (
            f"the transcript seems to cover only part of the talk: {alignment.words} words over "
            f"{clock(timeline.total_ms)} of speech is {rate:.0f} words a minute (speech runs at "
            f"{TYPICAL_WPM} or so); at that pace the text ends near {clock(text_end)}, but "
            f"speech continues to {clock(timeline.segments[-1].end_ms)}, so the text was placed at that "
            "pace. Check the transcript is complete")),)
    if rate > FASTEST_PLAUSIBLE_WPM:
        return (TimingWarning("too_fast", (
            f"the transcript has more words than the speech allows: {alignment.words} words over "
            f"{clock(timeline.total_ms)} of speech is {rate:.0f} words a minute. Check the transcript "
            "belongs to this video (or the speech is very quiet)")),)
    return ()


