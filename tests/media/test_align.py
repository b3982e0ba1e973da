"""The aligner on its own: text spread over speech segments, sentence starts at onsets, warnings."""

from __future__ import annotations

from cmecore.transcripts.align import Segment, SpeechTimeline, align_to_speech
from cmecore.transcripts.webvtt_writer import to_webvtt
from desktop.media.transcript import parse_transcript

TWO_SENTENCES = "The first sentence is here and it is short. The second one follows after the pause."


def test_text_goes_over_speech_only_and_sentences_start_at_onsets():
    segments = [Segment(30_000, 33_000), Segment(53_000, 56_000)]  # 30 s intro, 20 s pause
    alignment = align_to_speech(TWO_SENTENCES, segments)
    assert [c.start_ms for c in alignment.cues] == [30_000, 53_000]
    assert alignment.cues[0].end_ms <= 33_000 and alignment.cues[1].end_ms == 56_000
    assert alignment.speech_ms == 6_000 and alignment.words == 16


def test_a_sentence_start_far_from_any_onset_stays_where_speaking_time_puts_it():
    # One long stretch of speech: no onset to snap to, so the proportional place stands.
    alignment = align_to_speech(TWO_SENTENCES, [Segment(1_000, 7_000)])
    first, second = alignment.cues
    assert first.start_ms == 1_000 and 3_000 < second.start_ms < 5_000


def test_speech_time_maps_to_media_time_across_pauses():
    timeline = SpeechTimeline([Segment(1_000, 2_000), Segment(5_000, 6_000)])
    assert timeline.total_ms == 2_000 and timeline.onsets() == [1_000]
    assert timeline.start_at(1_000) == 5_000  # a start at the pause is the next onset
    assert timeline.end_at(1_000) == 2_000  # an end at the pause is the previous segment's end
    assert timeline.start_at(500) == timeline.end_at(500) == 1_500


def test_warnings_for_no_speech_too_little_text_and_too_much():
    assert [w.code for w in align_to_speech(TWO_SENTENCES, []).warnings] == ["no_speech"]
    assert align_to_speech(TWO_SENTENCES, []).cues == ()
    ten_minutes = [Segment(0, 600_000)]
    few = align_to_speech(TWO_SENTENCES, ten_minutes)
    assert [w.code for w in few.warnings] == ["partial_text"] and few.words_per_minute < 2
    assert "speech continues to 10:00" in few.warnings[0].message
    assert few.cues[-1].end_ms < 10_000  # placed at a typical pace (16 words: 6.4 s), not over 10 minutes
    many = align_to_speech(" ".join(["word"] * 100), [Segment(0, 10_000)])
    assert [w.code for w in many.warnings] == ["too_fast"] and many.words_per_minute == 600


def test_the_served_webvtt_reads_back_as_the_same_cues():
    alignment = align_to_speech("Use <b> & 5 --> 10 mg. Then stop.", [Segment(0, 2_000), Segment(3_000, 4_000)])
    text = to_webvtt(alignment.cues, "Timings from the audio --> here")
    assert parse_transcript(text.encode(), "text/vtt").cues == alignment.cues
