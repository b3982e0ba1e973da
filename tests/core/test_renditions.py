"""Which form of a video a learner gets: the preference, the policy's maximum, and what the
activity offers (cmecore.renditions)."""

from __future__ import annotations

import pytest

from cmecore.protocol import Asset
from cmecore.renditions import Quality, choose, offered


def _video(*kinds: str) -> Asset:
    sizes = {"small": 30, "audio": 5}
    return Asset.model_validate({
        "kind": "video", "media_type": "video/mp4", "size": 300, "sha256": "0" * 64,
        "url": "/api/v1/media/" + "0" * 64, "duration_ms": 60_000,
        "renditions": [{"kind": k, "media_type": "audio/mp4" if k == "audio" else "video/mp4",
                        "size": sizes[k], "sha256": str(i + 1) * 64, "url": "/api/v1/media/" + str(i + 1) * 64}
                       for i, k in enumerate(kinds)],
    })


def test_the_forms_are_listed_largest_first_with_the_original_first():
    forms = offered(_video("audio", "small"))
    assert [(f.quality, f.size) for f in forms] == [(Quality.best, 300), (Quality.small, 30), (Quality.audio, 5)]
    assert forms[2].audio_only and forms[2].duration_ms == 60_000  # the original's length when none given


@pytest.mark.parametrize(("preferred", "maximum", "kinds", "expected"), [
    (Quality.small, None, ("small", "audio"), Quality.small),
    (Quality.best, Quality.small, ("small", "audio"), Quality.small),  # IT forbids the original
    (Quality.small, None, ("audio",), Quality.best),  # no small form: a picture before sound alone
    (Quality.audio, None, ("small",), Quality.small),  # no audio form: the smallest picture
    (Quality.audio, None, ("small", "audio"), Quality.audio),
    (Quality.best, Quality.audio, ("small",), None),  # nothing the policy allows
    (Quality.best, None, (), Quality.best),  # an activity published before renditions
])
def test_the_choice_follows_the_preference_within_the_maximum(preferred, maximum, kinds, expected):
    choice = choose(offered(_video(*kinds)), preferred, maximum)
    assert (choice.quality if choice else None) == expected


def test_an_older_server_without_renditions_still_parses():
    asset = Asset.model_validate({"kind": "video", "media_type": "video/mp4", "size": 1, "sha256": "a" * 64,
                                  "url": "/api/v1/media/" + "a" * 64})
    assert [f.quality for f in offered(asset)] == [Quality.best]
