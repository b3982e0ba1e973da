"""Which forms of a video IT carries (prefetch, packs): the learner's rule for each quality
asked, within the policy maximum; a quality above the maximum is refused before anything."""

from __future__ import annotations

import pytest

from cmecore.protocol import Asset
from cmecore.renditions import Quality
from desktop.errors import QualityNotAllowed
from desktop.sync.carry import carried_files, files_standing_for, qualities_to_carry

SHA = {"original": "0" * 64, "small": "1" * 64, "audio": "2" * 64}


def _video(*kinds: str) -> Asset:
    sizes = {"small": 30, "audio": 5}
    return Asset.model_validate({
        "kind": "video", "media_type": "video/mp4", "size": 300, "sha256": SHA["original"],
        "url": "/api/v1/media/" + SHA["original"], "duration_ms": 60_000,
        "renditions": [{"kind": k, "media_type": "audio/mp4" if k == "audio" else "video/mp4", "size": sizes[k],
                        "sha256": SHA[k], "url": "/api/v1/media/" + SHA[k]} for k in kinds],
    })


def _forms(files) -> list[tuple[Quality | None, int]]:
    return [(f.form, f.size) for f in files]


@pytest.mark.parametrize(("qualities", "maximum", "kinds", "expected"), [
    ([Quality.small], None, ("small", "audio"), [(Quality.small, 30)]),
    ([Quality.small, Quality.audio], None, ("small", "audio"), [(Quality.small, 30), (Quality.audio, 5)]),
    ([Quality.audio, Quality.best], None, ("small", "audio"), [(Quality.best, 300), (Quality.audio, 5)]),
    # no small form (an older server): the form a learner preferring Small would get
    ([Quality.small], None, (), [(Quality.best, 300)]),
    ([Quality.small, Quality.best], None, (), [(Quality.best, 300)]),
    ([Quality.small], Quality.small, ("audio",), [(Quality.audio, 5)]),
    ([Quality.small], Quality.small, (), []),  # nothing within the maximum
])
def test_each_quality_asked_carries_the_form_a_learner_preferring_it_would_get(qualities, maximum, kinds, expected):
    assert _forms(carried_files("talk", _video(*kinds), qualities, maximum)) == expected


def test_a_transcript_is_always_carried_whatever_the_quality():
    transcript = Asset.model_validate({"kind": "transcript", "media_type": "text/vtt", "size": 9, "sha256": "3" * 64,
                                       "url": "/api/v1/media/" + "3" * 64})
    (file,) = carried_files("talk", transcript, [Quality.audio], Quality.audio)
    assert (file.form, file.kind, file.activity_id) == (None, "transcript", "talk")
    assert files_standing_for(transcript) == {"3" * 64: 9}


def test_any_form_of_a_video_can_stand_for_it_on_a_machine():
    assert files_standing_for(_video("small", "audio")) == {SHA["original"]: 300, SHA["small"]: 30, SHA["audio"]: 5}


@pytest.mark.parametrize(("asked", "default", "maximum", "expected"), [
    ([], None, None, [Quality.best]),
    ([], Quality.audio, Quality.small, [Quality.audio]),
    ([], None, Quality.small, [Quality.small]),
    ([Quality.small, Quality.audio, Quality.small], None, None, [Quality.small, Quality.audio]),
    ([Quality.audio], None, Quality.small, [Quality.audio]),
])
def test_the_qualities_carried_default_to_the_policy(asked, default, maximum, expected):
    assert qualities_to_carry(asked, default=default, maximum=maximum) == expected


def test_a_quality_above_the_policy_maximum_is_refused_with_what_is_allowed():
    with pytest.raises(QualityNotAllowed) as exc:
        qualities_to_carry([Quality.small, Quality.best], default=None, maximum=Quality.small)
    assert exc.value.code == "quality-not-allowed"
    assert str(exc.value) == ("This computer's policy allows videos up to Small, so Best cannot be carried. "
                              "Ask for Small or Audio only, or run it where the policy allows it.")
