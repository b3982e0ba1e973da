"""The recipe of the renditions publish makes (renditions.py, transcode.py): sizes, bitrates,
and what makes a source unfit to publish.

One place, so the manifests that let renditions be reused name the recipe they were made
by: change anything here and bump RECIPE, and every video's renditions are made again at
its next publish (the demo's: `python -m creditserver.demo.prebuild`).
"""

from __future__ import annotations

# Bump when the recipe below changes: renditions made by an older one are made again.
RECIPE = 1
SMALL_BOX = (640, 360)  # the legibility floor for slides (docs/protocol.md, "Publishing")
SMALL_VIDEO_CRF = "28"
SMALL_VIDEO_MAXRATE = 250_000  # bits/s; with the sound about 300 kbit/s at most
SMALL_VIDEO_PRESET = "medium"  # x264's default balance of encoding time and size
KEYFRAME_S = 10  # a keyframe every 10 s: seeking stays quick; a slide costs little between them
# Lanczos keeps the thin strokes of small slide text darkest (compared by eye with bilinear,
# bicubic and area averaging at 640x360: bilinear blurs digits; docs/protocol.md "Publishing").
INTERPOLATION = "LANCZOS"
AUDIO_BITRATE = 48_000  # AAC, mono: both renditions' sound
MAX_SAMPLE_RATE = 48_000  # samples a second: higher rates are resampled (more than speech needs)
SMALLER_ENOUGH = 0.8  # a rendition at least this share of the original's size is not worth offering
# A source whose pictures and sound end this much before its stated length is cut short.
TRUNCATED_SLACK_S, TRUNCATED_SHARE = 2.0, 0.03


class BadVideo(ValueError):
    """A source video that cannot be published; the message names the file and what to do."""
