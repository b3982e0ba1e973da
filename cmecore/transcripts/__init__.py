"""Transcripts as cues: the model, reading WebVTT/SRT, timing untimed text.

Pure Python shared by the desktop app (player, transcript panel, search index) and the
credit server (publish times untimed transcripts), so a cue has one timing everywhere.
"""
