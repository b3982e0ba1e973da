"""`cme-credit-server publish` times a plain-text transcript from the video's audio.

The videos are synthesized (tests/support/talks.py): a buzz standing in for speech, silence
before it and a long pause in the middle, so where each sentence starts is known.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from cmecore.protocol import Catalog
from creditserver.cli import main
from desktop.media.transcript import parse_transcript
from tests.support.activities import minimal_activity
from tests.support.talks import RATE, SENTENCES, synthesized_talk, talk_folder

from .conftest import client_for, sign_in

TOLERANCE_MS = 400


def served_transcript(store):
    """(the catalog's transcript asset, its file's bytes, GET of its source) from a server on `store`."""
    with store.serve() as server, client_for(server) as client:
        server.add_learner("nina", "s3cret pass", profession="nurse")
        headers = {"Authorization": f"Bearer {sign_in(client, 'nina', 's3cret pass')['access_token']}"}
        catalog = Catalog.model_validate_json(client.get("/catalog", headers=headers).content)
        [asset] = [a for a in catalog.activities[0].assets if a.kind == "transcript"]
        body = client.get(asset.url.removeprefix("/api/v1"), headers=headers).content
        source = client.get(f"/media/{asset.source_sha256}", headers=headers) if asset.source_sha256 else None
        return asset, body, source


def test_plain_transcript_is_published_as_webvtt_timed_from_the_speech(tmp_path, capsys, server_data):
    samples, starts = synthesized_talk()
    text = "\n".join(SENTENCES)
    folder = talk_folder(tmp_path / "act", minimal_activity("timed-act"), text, samples)
    store = server_data()
    assert main(["publish", *store.options, str(folder)]) == 0
    out, err = capsys.readouterr()
    assert "talk.txt: timed from the audio: 69 words over" in out and "words a minute" in out
    assert "warning" not in err

    asset, body, source = served_transcript(store)
    assert (asset.media_type, asset.timed, asset.timing) == ("text/vtt", True, "audio")
    assert source.status_code == 200 and source.content == text.encode()
    assert asset.source_sha256 == hashlib.sha256(text.encode()).hexdigest()
    cues = parse_transcript(body, "text/vtt").cues
    assert len(cues) == len(starts)
    for cue, start in zip(cues, starts, strict=True):
        assert abs(cue.start_ms - start) <= TOLERANCE_MS, (cue, start)
    # Publishing the same folder again changes nothing: the timing is deterministic.
    assert main(["publish", *store.options, str(folder)]) == 0
    assert "unchanged" in capsys.readouterr().out


@pytest.mark.parametrize(("samples", "expected"), [
    (None, "the video has no sound track"),
    (np.zeros(RATE * 20, dtype=np.float32), "no speech was found in the video's sound track"),
])
def test_without_sound_or_speech_the_transcript_stays_untimed_with_a_warning(tmp_path, capsys, server_data, samples, expected):
    text = "\n".join(SENTENCES)
    folder = talk_folder(tmp_path / "act", minimal_activity("timed-act"), text, samples, seconds=20)
    store = server_data()
    assert main(["publish", *store.options, str(folder)]) == 0
    _out, err = capsys.readouterr()
    assert f"warning: talk.txt: kept without timings: {expected}" in err
    asset, body, _source = served_transcript(store)
    assert (asset.media_type, asset.timed, asset.timing, asset.source_sha256) == ("text/plain", False, "file", None)
    assert body == text.encode()


def test_a_transcript_covering_only_the_first_part_is_timed_with_a_warning(tmp_path, capsys, server_data):
    samples, starts = synthesized_talk()
    folder = talk_folder(tmp_path / "act", minimal_activity("timed-act"), SENTENCES[0], samples)
    store = server_data()
    assert main(["publish", *store.options, str(folder)]) == 0
    out, err = capsys.readouterr()
    assert "talk.txt: timed from the audio: 13 words" in out
    assert "warning: talk.txt: the transcript seems to cover only part of the talk" in err
    assert "speech continues to 0:" in err
    asset, body, _source = served_transcript(store)
    assert asset.timing == "audio"
    # Placed at a typical pace from the first words, not stretched over the whole talk.
    [cue] = parse_transcript(body, "text/vtt").cues
    assert abs(cue.start_ms - starts[0]) <= TOLERANCE_MS and cue.end_ms < starts[1]


def test_a_transcript_without_words_is_kept_as_it_is():
    from cmecore.transcripts.align import Segment, align_to_speech
    from creditserver.transcript_timing import TranscriptTiming

    timing = TranscriptTiming(1, "talk.txt", align_to_speech(" \n ", [Segment(0, 5_000)]))
    assert not timing.timed
    assert timing.warnings() == ["talk.txt: kept without timings: the transcript has no words"]
