"""A transcript the server timed from the audio reaches the learner marked as such.

Real parts: the reference server publishes a synthesized talk with a plain-text transcript,
the client syncs and downloads it, the service reads it, the panel shows the banner.
"""

from __future__ import annotations

from tests.player.demo_media import acknowledge_disclosures
from tests.support.activities import activity_doc
from tests.support.talks import SENTENCES, synthesized_talk, talk_folder


def test_audio_timed_transcript_shows_its_banner(qtbot, server, make_services, tmp_path):
    from desktop.views.activity.transcript_panel import AUDIO_BANNER, TranscriptPanel

    samples, starts = synthesized_talk()
    server.publish(talk_folder(tmp_path / "act", activity_doc("audio-timed"), "\n".join(SENTENCES), samples))
    services = make_services(server.url)
    services.sign_in("demo", "demo")
    services.sync()
    services.enqueue_downloads(["audio-timed"])
    assert services.run_downloads().ok
    acknowledge_disclosures(services, "audio-timed", services.account.current_learner().id)

    transcript = services.transcript("audio-timed")
    assert transcript.timed and transcript.from_audio and not transcript.estimated
    assert abs(transcript.cues[0].start_ms - starts[0]) < 400  # after the silence, not at 0

    panel = TranscriptPanel()
    qtbot.addWidget(panel)
    panel.show()
    with qtbot.waitSignal(panel.transcript_shown, timeout=10_000):
        panel.load(services, services.activity_detail("audio-timed"), None)
    assert panel.audio_banner.isVisible() and not panel.estimated_banner.isVisible()
    assert panel.audio_banner.accessibleName() == AUDIO_BANNER == "Timings estimated from the audio"
