"""Synthesized talks for the timing tests and the alignment bench: audio with known speech.

`speech_like` stands in for a speaker (a voiced buzz with syllable-rate loudness changes and
short gaps between words, over a faint room noise); `write_video` muxes float samples into
a small MP4 (a still picture and AAC sound), as a provider's video would arrive;
`synthesized_talk` says SENTENCES that way (silence first, a break after the third), and
`talk_folder` makes a publish folder of it with an untimed transcript.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from cmecore.transcripts.estimate import spoken_chunks

RATE = 16_000
ROOM_NOISE = 0.001  # about -60 dBFS: a quiet room, never digital silence

SENTENCES = [
    "Good evening and welcome to this session on blood pressure measured at home.",
    "Most adults with hypertension do not know that they have it.",
    "Office readings are often higher than readings taken at home.",
    "After the break we will look at the evidence from a recent trial.",
    "Patients who sent their readings to a pharmacist did better after a year.",
    "Thank you for listening and please complete the evaluation.",
]
LEAD_S, BREAK_S, GAP_S = 8.0, 10.0, 0.6
SECONDS_PER_WEIGHT = 0.066  # speaking time per unit of spoken weight: about 150 words a minute


def synthesized_talk(seed: int = 7) -> tuple[np.ndarray, list[int]]:
    """Samples and each sentence's true start (ms): silence, 3 sentences, a break, 3 more."""
    rng = np.random.default_rng(seed)
    parts, starts, at = [silence(LEAD_S, rng)], [], LEAD_S
    for n, chunk in enumerate(spoken_chunks(" ".join(SENTENCES))):
        if n == 3:
            parts.append(silence(BREAK_S, rng))
            at += BREAK_S
        starts.append(round(at * 1000))
        seconds = chunk.weight * SECONDS_PER_WEIGHT
        parts += [speech_like(seconds, rng), silence(GAP_S, rng)]
        at += len(parts[-2]) / RATE + GAP_S
    parts.append(silence(3, rng))
    return np.concatenate(parts), starts


def talk_folder(folder: Path, doc: dict, text: str, samples: np.ndarray | None, seconds: float | None = None) -> Path:
    """A publish folder: `doc` (activity.json) with a video `talk.mp4` of `samples` and `text` as `talk.txt`."""
    folder.mkdir(parents=True)
    write_video(folder / "talk.mp4", samples, seconds=seconds)
    (folder / "talk.txt").write_text(text, encoding="utf-8")
    doc = {**doc, "assets": [{"path": "talk.mp4", "title": "Talk"}, {"path": "talk.txt", "kind": "transcript"}]}
    (folder / "activity.json").write_text(json.dumps(doc), encoding="utf-8")
    return folder


def silence(seconds: float, rng: np.random.Generator) -> np.ndarray:
    return (rng.standard_normal(int(seconds * RATE)) * ROOM_NOISE).astype(np.float32)


def speech_like(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A buzz at a voice's pitch, loud and soft like syllables (4 a second), 60 ms word gaps."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    pitch = 120 + 20 * np.sin(2 * np.pi * 0.7 * t)
    voice = np.sign(np.sin(2 * np.pi * np.cumsum(pitch) / RATE)) * 0.5 + rng.standard_normal(n) * 0.1
    syllables = 0.55 + 0.45 * np.abs(np.sin(2 * np.pi * 2 * t))
    words = ((t * 1000) % 450) > 60  # a short gap every 450 ms, as between words
    return (voice * syllables * words * 0.3 + rng.standard_normal(n) * ROOM_NOISE).astype(np.float32)


def write_video(path: Path, samples: np.ndarray | None, *, seconds: float | None = None, rate: int = RATE) -> Path:
    """An MP4 with a still 64x64 picture at 2 fps and `samples` as mono AAC (None: no sound track)."""
    length = seconds if seconds is not None else len(samples) / rate
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=2, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        audio = None
        if samples is not None:
            audio = container.add_stream("aac", rate=rate, layout="mono")
            audio.bit_rate = 48_000
        picture = av.VideoFrame(64, 64, "rgb24")
        picture.planes[0].update(bytes([40, 90, 160]) * 64 * 64)
        for i in range(max(1, int(length * 2))):
            frame = picture.reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, 2)
            container.mux(video.encode(frame))
        container.mux(video.encode())
        if audio is not None:
            step = 1024
            for start in range(0, len(samples), step):
                block = np.ascontiguousarray(samples[start: start + step].reshape(1, -1))
                frame = av.AudioFrame.from_ndarray(block, format="flt", layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
                container.mux(audio.encode(frame))
            container.mux(audio.encode())
    return path
