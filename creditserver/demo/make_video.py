"""Make the demo video: 60 s of scrolling colour bars with a progress strip and a beep each second.

    .venv/bin/python creditserver/demo/make_video.py [OUTPUT]

H.264 video (320x180, 15 fps) and AAC audio (mono, 22.05 kHz) in an MP4, about half a
megabyte. Needs PyAV (the `dev` extra); no numpy. The result is committed, so this only
runs when the demo video should change. The transcript's last cue ends at DURATION_S.
"""

from __future__ import annotations

import math
import struct
import sys
from fractions import Fraction
from pathlib import Path

import av

WIDTH, HEIGHT, FPS = 320, 180, 15
DURATION_S = 60
SAMPLE_RATE = 22_050
OUTPUT = Path(__file__).resolve().parent / "media" / "home-bp-monitoring.mp4"

BARS = [
    (192, 192, 192), (192, 192, 0), (0, 192, 192), (0, 192, 0),
    (192, 0, 192), (192, 0, 0), (0, 0, 192), (32, 32, 32),
]
BAR_W = 40
STRIP_H = 20


def _frame_bytes(index: int, seconds: int = DURATION_S) -> bytes:
    period = b"".join(bytes(c) * BAR_W for c in BARS)  # 320 px
    double = period * 2
    offset = (index * 2) % WIDTH
    row = double[offset * 3 : (offset + WIDTH) * 3]
    done = round(WIDTH * index / max(1, seconds * FPS - 1))
    strip = bytes((240, 240, 240)) * done + bytes((60, 60, 60)) * (WIDTH - done)
    return row * (HEIGHT - STRIP_H) + strip * STRIP_H


def _audio_samples(seconds: int = DURATION_S) -> bytes:
    """A quiet 880 Hz beep of 80 ms at the start of every second, silence otherwise (float32)."""
    out = bytearray()
    beep = int(0.08 * SAMPLE_RATE)
    for n in range(seconds * SAMPLE_RATE):
        pos = n % SAMPLE_RATE
        v = 0.08 * math.sin(2 * math.pi * 880 * n / SAMPLE_RATE) if pos < beep else 0.0
        out += struct.pack("<f", v)
    return bytes(out)


def make(output: Path = OUTPUT, seconds: int = DURATION_S) -> Path:
    """Write the clip (`seconds` long; tests make short ones) and return its path."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(output), "w", options={"movflags": "faststart"}) as container:
        v = container.add_stream("libx264", rate=FPS, options={"crf": "30", "preset": "slow"})
        v.width, v.height, v.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        a = container.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        a.bit_rate = 32_000
        container.metadata["title"] = "CME Offline demo: home blood-pressure monitoring (fictional)"

        for i in range(seconds * FPS):
            frame = av.VideoFrame(WIDTH, HEIGHT, "rgb24")
            frame.planes[0].update(_frame_bytes(i, seconds))
            frame.pts = i
            frame.time_base = Fraction(1, FPS)
            for packet in v.encode(frame.reformat(format="yuv420p")):
                container.mux(packet)
        for packet in v.encode():
            container.mux(packet)

        pcm = _audio_samples(seconds)
        step = 1024
        total = len(pcm) // 4
        for start in range(0, total, step):
            n = min(step, total - start)
            frame = av.AudioFrame(format="flt", layout="mono", samples=n)
            frame.planes[0].update(pcm[start * 4 : (start + n) * 4] + b"\0" * (frame.planes[0].buffer_size - n * 4))
            frame.sample_rate = SAMPLE_RATE
            frame.pts = start
            frame.time_base = Fraction(1, SAMPLE_RATE)
            for packet in a.encode(frame):
                container.mux(packet)
        for packet in a.encode():
            container.mux(packet)
    return output


if __name__ == "__main__":
    out = make(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT)
    with av.open(str(out)) as c:
        print(f"{out}: {out.stat().st_size} bytes, {c.duration / av.time_base:.3f} s")
