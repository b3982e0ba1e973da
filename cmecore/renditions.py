"""Which form of a video to fetch: the learner's preferred quality within the machine
policy's maximum, from the forms the catalog offers (`Asset.renditions`).

One rule, used by the desktop's downloads, prefetch, packs and the settings page, so the
size a learner is shown before a download is the size that is fetched.

- `Quality` is what a person chooses: Best (the provider's original), Small (a smaller
  video that keeps slides legible) or Audio only.
- A policy maximum leaves out every form above it; if nothing the activity offers is
  allowed, there is no choice (`choose` returns None) and the caller says why.
- A preferred form the activity does not offer falls back to the nearest allowed one,
  preferring a picture over sound alone unless the learner asked for sound alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cmecore.protocol import Asset, AssetKind, RenditionKind


class Quality(StrEnum):
    best = "best"
    small = "small"
    audio = "audio"


QUALITY_LABELS = {Quality.best: "Best", Quality.small: "Small", Quality.audio: "Audio only"}
RENDITION_OF = {Quality.best: RenditionKind.original, Quality.small: RenditionKind.small,
                Quality.audio: RenditionKind.audio}
QUALITY_OF = {kind: quality for quality, kind in RENDITION_OF.items()}
# Largest first: a maximum allows its own rank and every later one.
RANK = {Quality.best: 0, Quality.small: 1, Quality.audio: 2}
# When the preferred form is not offered (or not allowed): the order to try instead.
FALLBACK = {
    Quality.best: (Quality.best, Quality.small, Quality.audio),
    Quality.small: (Quality.small, Quality.best, Quality.audio),
    Quality.audio: (Quality.audio, Quality.small, Quality.best),
}


@dataclass(frozen=True)
class Choice:
    """One form of a video as the learner may fetch it."""

    quality: Quality
    media_type: str
    size: int
    sha256: str
    url: str
    duration_ms: int | None
    width: int | None
    height: int | None
    bitrate: int | None

    @property
    def audio_only(self) -> bool:
        return self.quality is Quality.audio


def offered(asset: Asset) -> list[Choice]:
    """Every form of a video asset, largest first (the original, then its renditions)."""
    if asset.kind is not AssetKind.video:
        return []
    forms = [Choice(Quality.best, asset.media_type, asset.size, asset.sha256, asset.url, asset.duration_ms,
                    asset.width, asset.height, asset.bitrate)]
    for r in asset.renditions:
        if r.kind is RenditionKind.original or any(f.quality is QUALITY_OF[r.kind] for f in forms):
            continue  # the asset is the original; a second form of one kind is ignored
        forms.append(Choice(QUALITY_OF[r.kind], r.media_type, r.size, r.sha256, r.url,
                            r.duration_ms if r.duration_ms is not None else asset.duration_ms,
                            r.width, r.height, r.bitrate))
    return sorted(forms, key=lambda f: RANK[f.quality])


def allowed(forms: list[Choice], maximum: Quality | None) -> list[Choice]:
    """The forms a policy maximum allows (None: no maximum)."""
    if maximum is None:
        return list(forms)
    return [f for f in forms if RANK[f.quality] >= RANK[maximum]]


def choose(forms: list[Choice], preferred: Quality, maximum: Quality | None = None) -> Choice | None:
    """The form to fetch: the preferred one if offered and allowed, else the nearest allowed."""
    by_quality = {f.quality: f for f in allowed(forms, maximum)}
    for quality in FALLBACK[preferred]:
        if quality in by_quality:
            return by_quality[quality]
    return None
