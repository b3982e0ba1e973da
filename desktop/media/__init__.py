"""Transcripts (parse, timings, cue index), the playback clock, summaries, and the libvlc player
(player.py) with its QtCore adapter (qt_player.py), the one place media touches Qt."""
