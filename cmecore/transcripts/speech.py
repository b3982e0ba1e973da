"""Where someone is speaking in a recording: speech segments from the audio's energy.

The aligner (align.py) spreads an untimed transcript over speech only, so an intro with
music-free silence, a pause for questions or a long applause-free gap no longer shifts
every later cue. This is a plain voice-activity detector, not recognition:

- the audio is decoded with PyAV to mono 16 kHz and cut into 10 ms frames; a frame's level
  is its energy in the voice band (300–4000 Hz: hum and hiss below and above count less);
- the noise floor adapts: the quietest stretch within ±15 s (minimum statistics), never
  below ABSOLUTE_FLOOR_DB, so a quiet room and a noisy hall both work;
- a frame is speech when it rises ONSET_DB over the floor, and stays speech until it falls
  below OFFSET_DB (hysteresis), plus HANGOVER_MS for the quiet ends of words;
- pauses shorter than MIN_PAUSE_MS are bridged (gaps between words), bursts shorter than
  MIN_SPEECH_MS dropped (clicks).

The thresholds were chosen on bench_alignment's talk with added noise (speech 18 and 9 dB
over it): a higher onset (12 dB) or a shorter pause (250 ms) cut noisy speech into many
false pauses; smoothing the level first did not help. Any steady sound louder than the
floor (music under an intro, applause) counts as speech: this finds sound, not words.

Needs numpy and PyAV (the server's extra); the desktop client does not import this module.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from cmecore.transcripts.align import Segment

RATE = 16_000
FRAME_MS = 10
FRAME = RATE * FRAME_MS // 1000
VOICE_BAND_HZ = (300, 4000)
ABSOLUTE_FLOOR_DB = -70.0  # dBFS: quieter than this is never speech (dither, digital silence)
ONSET_DB = 7.0
OFFSET_DB = 3.0
FLOOR_WINDOW_S = 15
HANGOVER_MS = 150
MIN_PAUSE_MS = 350
MIN_SPEECH_MS = 100


class NoAudio(Exception):
    """The file has no audio stream, or its audio cannot be decoded (the message says which)."""


def find_speech_in_file(path: Path) -> tuple[list[Segment], int]:
    """(speech segments, audio length in ms) of a media file's first audio stream."""
    levels = voice_levels(path)
    return find_speech(levels), len(levels) * FRAME_MS


def voice_levels(path: Path) -> np.ndarray:
    """The voice-band level (dBFS) of each 10 ms frame of the file's audio. Raises NoAudio."""
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise NoAudio(f"the file could not be opened as media ({_reason(exc)})") from None
    with container:
        if not container.streams.audio:
            raise NoAudio("the video has no sound track")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        levels: list[np.ndarray] = []
        pending = np.zeros(0, dtype=np.float32)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    pending = _consume(np.concatenate([pending, out.to_ndarray().reshape(-1)]), levels)
            for out in resampler.resample(None):
                pending = _consume(np.concatenate([pending, out.to_ndarray().reshape(-1)]), levels)
        except av.FFmpegError as exc:
            raise NoAudio(f"the sound track could not be decoded ({_reason(exc)})") from None
    return np.concatenate(levels) if levels else np.zeros(0)


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _consume(samples: np.ndarray, levels: list[np.ndarray]) -> np.ndarray:
    """Append the levels of the whole frames in `samples`; return the rest (under one frame)."""
    whole = len(samples) // FRAME
    if whole:
        levels.append(_band_levels(samples[: whole * FRAME].reshape(whole, FRAME)))
    return samples[whole * FRAME:]


def _band_levels(frames: np.ndarray) -> np.ndarray:
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(FRAME), axis=1)) ** 2
    freqs = np.fft.rfftfreq(FRAME, 1 / RATE)
    band = (freqs >= VOICE_BAND_HZ[0]) & (freqs <= VOICE_BAND_HZ[1])
    # Normalised so a full-scale sine in the band reads about 0 dBFS.
    power = spectrum[:, band].sum(axis=1) / (FRAME * FRAME / 8)
    return 10 * np.log10(power + 1e-12)


def find_speech(levels: np.ndarray) -> list[Segment]:
    """Speech segments from per-frame levels (dBFS, one per FRAME_MS), in time order."""
    if len(levels) == 0:
        return []
    floor = noise_floor(levels)
    loud = levels > floor + ONSET_DB
    quiet = levels < floor + OFFSET_DB
    segments: list[list[int]] = []
    hangover = HANGOVER_MS // FRAME_MS
    i, n = 0, len(levels)
    while i < n:
        if not loud[i]:
            i += 1
            continue
        start = i
        # Stay in speech until the level has stayed below the offset for the hangover.
        below = 0
        while i < n and below <= hangover:
            below = below + 1 if quiet[i] else 0
            i += 1
        end = i - below
        segments.append([start, max(end, start + 1)])
    merged: list[list[int]] = []
    for seg in segments:
        if merged and (seg[0] - merged[-1][1]) * FRAME_MS < MIN_PAUSE_MS:
            merged[-1][1] = seg[1]
        else:
            merged.append(seg)
    return [
        Segment(start * FRAME_MS, end * FRAME_MS)
        for start, end in merged
        if (end - start) * FRAME_MS >= MIN_SPEECH_MS
    ]


def noise_floor(levels: np.ndarray) -> np.ndarray:
    """Per frame: the quietest half second within ±FLOOR_WINDOW_S (minimum statistics)."""
    block = 500 // FRAME_MS
    n_blocks = -(-len(levels) // block)
    padded = np.concatenate([levels, np.full(n_blocks * block - len(levels), np.inf)])
    # A block's level: its 20th percentile, so one quiet frame inside a word does not count.
    per_block = np.percentile(padded.reshape(n_blocks, block), 20, axis=1, method="lower")
    reach = FLOOR_WINDOW_S * 1000 // 500
    floors = np.array([per_block[max(0, b - reach): b + reach + 1].min() for b in range(n_blocks)])
    return np.maximum(np.repeat(floors, block)[: len(levels)], ABSOLUTE_FLOOR_DB)
