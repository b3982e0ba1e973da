"""Make the demo video: 60 s of lecture slides with small text, a progress strip and a beep each second.

    .venv/bin/python creditserver/demo/make_video.py [OUTPUT]

H.264 video (1280x720, 15 fps) and AAC audio (mono, 22.05 kHz) in an MP4, a few hundred
kilobytes: six slides of ten seconds, their body text 22 px and their footnotes 18 px, so
the demo shows what a real talk asks of the small rendition (slides must stay legible,
docs/protocol.md "Publishing"). Needs PyAV and Pillow (the server's dependencies; Pillow
comes with fpdf2). The result is committed, so this only runs when the demo video should
change; then make its renditions again too (`python -m creditserver.demo.prebuild`). The
transcript's last cue ends at DURATION_S.
"""

from __future__ import annotations

import math
import struct
import sys
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT, FPS = 1280, 720, 15
DURATION_S = 60
SAMPLE_RATE = 22_050
OUTPUT = Path(__file__).resolve().parent / "media" / "home-bp-monitoring.mp4"
STRIP_H = 12
TITLE_PX, BODY_PX, NOTE_PX = 40, 22, 18

# (title, bullets, footnote): one slide each DURATION_S / len(SLIDES) seconds.
SLIDES = [
    ("Home Blood-Pressure Monitoring in Older Adults",
     ["A demonstration activity: the PATINA trial and its data are fictional.",
      "Faculty: Miriam Okafor, MD, MPH and Tomas Lindqvist, PharmD, BCGP (fictional)."],
     "CME Offline demo. No real credit is awarded."),
    ("Office readings overestimate",
     ["White-coat effect: office 156/88 mmHg, 7-day home average 128/76 mmHg.",
      "Masked hypertension: normal in the clinic, high at home.",
      "Overtreatment in adults over 70 brings dizziness and falls."],
     "Illustrative values; not from a real patient."),
    ("PATINA (fictional): design",
     ["1,200 adults aged 70+, home-guided or office-guided care.",
      "Duplicate morning and evening readings for 7 days before each visit.",
      "Validated upper-arm cuff, chosen by arm circumference."],
     "Randomised 1:1; 12-month follow-up. All data invented for this demo."),
    ("PATINA (fictional): results",
     ["Home systolic pressure: 131 vs 132 mmHg (similar).",
      "On three or more drugs: 18% vs 29%.",
      "Dizziness episodes: 0.4 vs 0.7 per patient-year."],
     "Invented figures to illustrate overtreatment; do not cite."),
    ("A reliable home reading",
     ["Rest seated for 5 minutes; back supported, feet flat.",
      "Arm supported at heart level; no talking.",
      "Two readings one minute apart, morning and evening.",
      "Discard day 1; average days 2 to 7."],
     "Check for orthostatic hypotension at 1 and 3 minutes standing."),
    ("Adjusting treatment safely",
     ["Set an individual home target with the patient.",
      "Readings over 180/110 mmHg need same-day assessment.",
      "After a thiazide-like diuretic: sodium and potassium within 2 weeks."],
     "Summary of the demo activity's key points."),
]
INSET = (WIDTH - 300, HEIGHT - 300, WIDTH - 40, HEIGHT - 80)  # the speaker's picture
BACKGROUND, INK, ACCENT, NOTE_INK = (250, 250, 247), (25, 25, 30), (20, 70, 140), (90, 90, 95)


def slide_image(title: str, bullets: list[str], note: str, number: int) -> Image.Image:
    """One slide as an RGB image (without the progress strip)."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    title_font, body_font, note_font = (ImageFont.load_default(size=px) for px in (TITLE_PX, BODY_PX, NOTE_PX))
    draw.rectangle((0, 0, WIDTH, 96), fill=ACCENT)
    draw.text((64, 28), title, font=title_font, fill=(255, 255, 255))
    y = 150
    for bullet in bullets:
        draw.ellipse((72, y + 8, 82, y + 18), fill=ACCENT)
        draw.text((100, y), bullet, font=body_font, fill=INK)
        y += 52
    draw.text((64, HEIGHT - STRIP_H - 48), note, font=note_font, fill=NOTE_INK)
    draw.text((WIDTH - 420, HEIGHT - STRIP_H - 48), f"{number} / {len(SLIDES)}", font=note_font, fill=NOTE_INK)
    return image


def _frames(seconds: int) -> list[Image.Image]:
    """Each slide (the speaker and the strip are drawn on each frame)."""
    return [slide_image(*s, number=i + 1) for i, s in enumerate(SLIDES)]


def _speaker(image: Image.Image, index: int) -> None:
    """The speaker's inset, bottom right: a figure that sways and nods, so the picture moves as a talk's does."""
    left, top, right, bottom = INSET
    w, h = right - left, bottom - top
    inset = Image.new("RGB", (w, h), (60, 70, 80))
    draw = ImageDraw.Draw(inset)
    t = index / FPS
    x = w / 2 + 18 * math.sin(2 * math.pi * t / 3.0)
    y = 80 + 6 * math.sin(2 * math.pi * t / 0.9)
    draw.ellipse((x - 70, h - 60, x + 70, h + 80), fill=(150, 40, 50))  # shoulders
    draw.ellipse((x - 36, y - 44, x + 36, y + 44), fill=(224, 180, 150))  # head
    draw.rectangle((x - 14, y + 18, x + 14, y + 22 + 6 * abs(math.sin(2 * math.pi * t * 2.5))), fill=(90, 30, 30))
    image.paste(inset, (left, top))


def _frame_bytes(slides: list[Image.Image], index: int, seconds: int = DURATION_S) -> bytes:
    per_slide = max(1, seconds * FPS // len(slides))
    image = slides[min(index // per_slide, len(slides) - 1)].copy()
    _speaker(image, index)
    done = round(WIDTH * index / max(1, seconds * FPS - 1))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, HEIGHT - STRIP_H, WIDTH, HEIGHT), fill=(200, 200, 200))
    if done:
        draw.rectangle((0, HEIGHT - STRIP_H, done - 1, HEIGHT), fill=ACCENT)
    return image.tobytes()


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
    slides = _frames(seconds)
    with av.open(str(output), "w", options={"movflags": "faststart"}) as container:
        v = container.add_stream("libx264", rate=FPS, options={"crf": "14", "preset": "medium"})
        v.width, v.height, v.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        a = container.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        a.bit_rate = 64_000
        container.metadata["title"] = "CME Offline demo: home blood-pressure monitoring (fictional)"

        for i in range(seconds * FPS):
            frame = av.VideoFrame(WIDTH, HEIGHT, "rgb24")
            frame.planes[0].update(_frame_bytes(slides, i, seconds))
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
