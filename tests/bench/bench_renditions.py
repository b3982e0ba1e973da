"""Renditions at publish: each one's size and its share of the original, for the demo video
and for a 30-minute generated talk, and how long making them takes.

Not collected by pytest (no `test_` prefix). Run it:

    .venv/bin/python -m tests.bench.bench_renditions [MINUTES]

The talk is made with PyAV here: 1280x720 slides with 18–24 px text changing every 30 s, a
speaker's inset that moves with a little camera grain, 5 frames a second, and a voice-like
buzz (tests/support/talks.py) as mono AAC at 96 kbit/s; the picture is H.264 at CRF 23
(veryfast), as a provider's export might be. Then `renditions_for` makes the small and
audio renditions into a scratch store, exactly as publish does. Anchors: the recipe's
ceilings (small ≤ 300 kbit/s with its sound, audio ≤ 56 kbit/s: 48 kbit/s AAC plus the
MP4's overhead) and making them in under a fifth of the talk's length on this machine.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from creditserver.demo.make_video import OUTPUT as DEMO_VIDEO
from creditserver.media import MediaStore
from creditserver.renditions import Forms, renditions_for
from tests.support.talks import speech_like

WIDTH, HEIGHT, FPS = 1280, 720, 5
SLIDE_S = 30
RATE = 22_050
SMALL_CEILING = 300_000
AUDIO_CEILING = 56_000
SPEED_ANCHOR = 0.2  # making them takes at most this share of the talk's length


def _slide(number: int) -> np.ndarray:
    image = Image.new("RGB", (WIDTH, HEIGHT), (250, 250, 247))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 90), fill=(20, 70, 140))
    draw.text((60, 24), f"Part {number}: monitoring blood pressure at home", font=ImageFont.load_default(size=40),
                  fill="white")
    y = 140
    for line, px in ((f"Slide {number}: validated upper-arm cuff; duplicate readings, morning and evening.", 24),
                     ("Discard day 1, average days 2 to 7; target individualised for adults over 70.", 22),
                     (f"Chlorthalidone 12.5 mg: recheck sodium and potassium within 2 weeks (ref. {number}).", 20),
                     ("Illustrative figures only: office 156/88 vs home 128/76 mmHg (HR 0.71, 95% CI 0.58-0.87).", 18)):
        draw.text((80, y), line, font=ImageFont.load_default(size=px), fill=(25, 25, 30))
        y += px + 30
    return np.asarray(image).copy()


def make_talk(path: Path, seconds: int) -> Path:
    """The generated talk (see the module docstring)."""
    rng = np.random.default_rng(30)
    inset = (WIDTH - 300, HEIGHT - 280, WIDTH - 40, HEIGHT - 60)
    with av.open(str(path), "w", options={"movflags": "faststart"}) as container:
        video = container.add_stream("libx264", rate=FPS, options={"crf": "23", "preset": "veryfast"})
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        audio = container.add_stream("aac", rate=RATE, layout="mono")
        audio.bit_rate = 96_000
        slide = None
        for i in range(seconds * FPS):
            if i % (SLIDE_S * FPS) == 0:
                slide = _slide(i // (SLIDE_S * FPS) + 1)
            picture = slide.copy()
            left, top, right, bottom = inset
            box = picture[top:bottom, left:right]
            box[:] = (60, 70, 80)
            box += rng.integers(0, 12, box.shape, dtype=np.uint8)  # camera grain
            x = (right - left) // 2 + int(18 * np.sin(2 * np.pi * i / FPS / 3))
            box[60:150, x - 35:x + 35] = (224, 180, 150)  # the speaker's head
            box[170:, x - 70:x + 70] = (150, 40, 50)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            container.mux(video.encode(frame))
        container.mux(video.encode())
        for start in range(0, seconds, SLIDE_S):
            samples = speech_like(min(SLIDE_S, seconds - start), rng)
            for offset in range(0, len(samples), 1024):
                block = np.ascontiguousarray(samples[offset: offset + 1024].reshape(1, -1))
                frame = av.AudioFrame.from_ndarray(block, format="flt", layout="mono")
                frame.sample_rate, frame.time_base = RATE, Fraction(1, RATE)
                frame.pts = start * RATE + offset
                container.mux(audio.encode(frame))
        container.mux(audio.encode())
    return path


def report(title: str, forms: Forms, seconds: float, took_s: float) -> None:
    print(f"{title}: original {forms.original.width}x{forms.original.height}, {forms.size / 1e6:.2f} MB, "
          f"{(forms.original.bitrate or 0) / 1000:.0f} kbit/s, {seconds / 60:.1f} min")
    for line in forms.summary():
        print(f"  {line}")
    for r in forms.renditions:
        ceiling = SMALL_CEILING if r.width else AUDIO_CEILING
        print(f"  figure: {r.kind.value} {r.size / forms.size:.1%} of the original, {(r.bitrate or 0) / 1000:.0f} "
              f"kbit/s / anchor: ≤ {ceiling / 1000:.0f} kbit/s / {'met' if (r.bitrate or 0) <= ceiling else 'not met'}")
    share = took_s / seconds
    print(f"  figure: made in {took_s:.1f} s ({share:.2f} of the talk's length) / anchor: ≤ {SPEED_ANCHOR:g} / "
          f"{'met' if share <= SPEED_ANCHOR else 'not met'}")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    minutes = float(argv[0]) if argv and argv[0].replace(".", "", 1).isdigit() else 30.0
    with tempfile.TemporaryDirectory(prefix="bench-renditions-") as tmp:
        store = MediaStore(Path(tmp) / "media")
        copy = Path(tmp) / "demo.mp4"  # away from the renditions shipped beside it: made afresh
        shutil.copyfile(DEMO_VIDEO, copy)
        started = time.monotonic()
        demo = renditions_for(store, copy, "demo video")
        report("demo video", demo, (demo.original.duration_ms or 1) / 1000, time.monotonic() - started)

        seconds = round(minutes * 60)
        started = time.monotonic()
        talk = make_talk(Path(tmp) / "talk.mp4", seconds)
        print(f"(generated the {minutes:g}-minute talk in {time.monotonic() - started:.0f} s)")
        started = time.monotonic()
        forms = renditions_for(store, talk, "generated talk")
        report(f"{minutes:g}-minute generated talk", forms, seconds, time.monotonic() - started)


if __name__ == "__main__":
    main()
