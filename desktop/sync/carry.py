"""Which forms of each video IT carries to other machines: prefetch into a shared content
folder, and content packs.

IT names the qualities to carry (`--quality small,audio`): for each one, the form a learner
preferring it would get, by the one rule (`cmecore.renditions.choose`) within this
computer's policy maximum. So a machine whose learner prefers Small finds in the folder or
the pack exactly the file its own download would fetch, and a video that has no small
form carries the form `choose` falls back to. Transcripts and summaries have one file and
are always carried. A quality above the policy maximum is refused before anything is
fetched, with the maximum named.

Pure: no I/O, no HTTP; the callers fetch and write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cmecore import protocol
from cmecore.renditions import QUALITY_LABELS, RANK, Choice, Quality, allowed, choose, offered
from desktop.errors import QualityNotAllowed


@dataclass(frozen=True)
class CarriedFile:
    """One file to carry: `form` is the video's quality (None for a transcript or summary)."""

    activity_id: str
    sha256: str
    size: int
    url: str
    kind: str
    form: Quality | None = None


def qualities_to_carry(asked: Iterable[Quality], *, default: Quality | None,
                       maximum: Quality | None) -> list[Quality]:
    """The qualities asked for, in order, once each; none asked: the policy's default, else its
    maximum, else Best. Raises QualityNotAllowed for one above the policy maximum."""
    qualities = list(dict.fromkeys(asked)) or [default or maximum or Quality.best]
    above = [q for q in qualities if maximum is not None and RANK[q] < RANK[maximum]]
    if above:
        raise QualityNotAllowed(
            f"This computer's policy allows videos up to {QUALITY_LABELS[maximum]}, so "
            f"{QUALITY_LABELS[above[0]]} cannot be carried. Ask for "
            f"{' or '.join(QUALITY_LABELS[q] for q in Quality if RANK[q] >= RANK[maximum])}, "
            "or run it where the policy allows it.")
    return qualities


def carried_forms(forms: list[Choice], qualities: Iterable[Quality], maximum: Quality | None) -> list[Choice]:
    """Of a video's forms (`offered`, largest first), those to carry: for each quality the one
    `choose` picks, once each, largest first. Empty when no form is within the maximum."""
    picked = {c.sha256: c for q in qualities if (c := choose(forms, q, maximum)) is not None}
    return [f for f in forms if f.sha256 in picked]


def carried_files(activity_id: str, asset: protocol.Asset, qualities: Iterable[Quality],
                  maximum: Quality | None) -> list[CarriedFile]:
    """The files to carry for one asset of an activity (a transcript or summary: its one file)."""
    if asset.kind is not protocol.AssetKind.video:
        return [CarriedFile(activity_id, asset.sha256, asset.size, asset.url, asset.kind.value)]
    return [CarriedFile(activity_id, f.sha256, f.size, f.url, asset.kind.value, f.quality)
            for f in carried_forms(offered(asset), qualities, maximum)]


def files_standing_for(asset: protocol.Asset) -> dict[str, int]:
    """sha256 -> size of every file that can stand for this asset on a machine: each form of a
    video (any one is enough to play it), else the asset's one file."""
    forms = offered(asset)
    return {f.sha256: f.size for f in forms} if forms else {asset.sha256: asset.size}


def files_within(asset: protocol.Asset, maximum: Quality | None) -> dict[str, int]:
    """sha256 -> size of the files that may stand for this asset on a machine whose policy
    maximum is `maximum`: a video's forms within it (`allowed`), else the asset's one file."""
    forms = offered(asset)
    return {f.sha256: f.size for f in allowed(forms, maximum)} if forms else {asset.sha256: asset.size}


def no_form_allowed(maximum: Quality | None) -> str:
    """Why a video is not carried: none of its forms is within the policy maximum."""
    return (f"none of its forms is within this computer's policy maximum ({QUALITY_LABELS[maximum]})"
            if maximum is not None else "it offers no form")
