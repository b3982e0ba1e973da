"""The transcript panel says, quietly, how many lines of the file could not be read."""

from __future__ import annotations

from cmecore.transcripts.text import decode_text
from cmecore.transcripts.webvtt import read_webvtt
from desktop.views.activity.transcript_panel import TranscriptPanel

BROKEN = (
    "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nfirst\n\n"
    "00:00:60.000 --> 00:01:00.000\nsixty seconds is not a time\n\n"
    "stray words\n\n"
    "00:00:03.000 --> 00:00:04.000 align:middle\nlast\n"
)


def test_the_panel_counts_the_lines_not_read_and_names_them_for_a_screen_reader(qtbot):
    panel = TranscriptPanel()
    qtbot.addWidget(panel)
    panel.show()
    transcript = read_webvtt(decode_text(BROKEN.encode()))
    panel.set_transcript(transcript, machine_generated=False)
    note = panel.skipped_note
    assert note.isVisible() and not panel.estimated_banner.isVisible()
    assert note.text() == "3 lines could not be read"
    assert note.accessibleName() == note.text()
    assert "line 6: cannot read the cue timing" in note.accessibleDescription()
    assert "line 9: text outside any cue" in note.toolTip()
    assert panel.model.rowCount() == 2  # the cues that could be read are all shown

    clean = read_webvtt(decode_text(b"WEBVTT\n\n00:01.000 --> 00:02.000\nfine\n"))
    panel.set_transcript(clean, machine_generated=False)
    assert not note.isVisible()
    panel.set_transcript(None, machine_generated=False, note="No transcript.")
    assert not note.isVisible()


def test_one_line_not_read_is_said_in_the_singular(qtbot):
    panel = TranscriptPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_transcript(read_webvtt(decode_text(b"WEBVTT\n\n00:01.000 --> 00:02.000\nfine\n\nstray\n")),
                         machine_generated=False)
    assert panel.skipped_note.text() == "1 line could not be read"
