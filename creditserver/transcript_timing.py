"""Timing an untimed transcript from its video's audio, at publish.

A provider often has only plain text (a machine transcript without times). Spread over the
whole video, its cues drift by minutes after an intro or a pause; so publish finds the
speech in the video's sound track (cmecore.transcripts.speech) and spreads the text over it
(cmecore.transcripts.align). The activity then serves WebVTT with `timing: "audio"` and
the provider's text as `source_sha256`; clients show "Timings estimated from the audio".

The audio is decoded before the publish transaction opens (`time_transcripts`), and the
result joins the assets inside it (`TranscriptTiming.apply`). When there is no sound track,
no speech, or the video cannot be decoded, the transcript stays as the provider gave it and
the report says why. The report also gives the speaking rate and the aligner's warnings
(text covering only part of the talk, implausibly fast).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cmecore.transcripts.align import Alignment, align_to_speech, clock
from cmecore.transcripts.webvtt_writer import to_webvtt

from .media import MediaStore, media_url

PLAIN_TEXT = "text/plain"
VTT = "text/vtt"
VTT_NOTE = "Timings estimated from the audio by cme-credit-server publish; the original text is kept."


@dataclass(frozen=True)
class TranscriptTiming:
    """What publish did with one untimed transcript (`position`: its place in the asset list)."""

    position: int
    name: str  # the transcript's file name in the folder
    alignment: Alignment | None = None  # None: the audio could not be read
    problem: str = ""  # why there are no timings ("" when timed)

    @property
    def timed(self) -> bool:
        return self.alignment is not None and bool(self.alignment.cues)

    def summary(self) -> str:
        """One line for the publisher: the speaking rate, or why the transcript stays untimed."""
        a = self.alignment
        if not self.timed:
            reason = self.problem or (a.warnings[0].message if a.warnings else "the transcript has no words")
            return f"{self.name}: kept without timings: {reason}"
        return (f"{self.name}: timed from the audio: {a.words} words over {clock(a.speech_ms)} of speech, "
                f"{a.words_per_minute:.0f} words a minute")

    def warnings(self) -> list[str]:
        """Everything the publisher should check (a transcript kept untimed is one)."""
        if not self.timed:
            return [self.summary()]
        return [f"{self.name}: {w.message}" for w in self.alignment.warnings]

    def apply(self, session: Session, store: MediaStore, assets: list[dict[str, Any]]) -> None:
        """Replace the plain-text asset by the timed WebVTT (the text stays in the store as its source)."""
        if not self.timed:
            return
        asset = assets[self.position]
        vtt = to_webvtt(self.alignment.cues, VTT_NOTE).encode("utf-8")
        fd, name = tempfile.mkstemp(suffix=".vtt")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(vtt)
            obj = store.put(session, Path(name), VTT)
        finally:
            os.unlink(name)
        asset.update(media_type=VTT, size=obj.size, sha256=obj.sha256, url=media_url(obj.sha256),
                     timed=True, timing="audio", source_sha256=asset["sha256"])


def time_transcripts(files: list[tuple[int, Path, str]]) -> list[TranscriptTiming]:
    """Time every plain-text transcript of a folder against its first video's audio.

    `files`: publish.load_folder's (asset index, file, media type), in asset order.
    """
    videos = [path for _i, path, media_type in files if media_type.startswith("video/")]
    plain = [(position, path) for position, (_i, path, media_type) in enumerate(files) if media_type == PLAIN_TEXT]
    if not videos or not plain:
        return []
    try:
        segments = _speech(videos[0])
    except _AudioUnreadable as exc:
        return [TranscriptTiming(position, path.name, problem=str(exc)) for position, path in plain]
    return [
        TranscriptTiming(position, path.name, align_to_speech(_read_text(path), segments))
        for position, path in plain
    ]


class _AudioUnreadable(Exception):
    pass


def _speech(video: Path):
    try:
        # Optional dependency: PyAV and numpy come with the server extra; the desktop app's
        # built-in demo server leaves them out and never publishes plain text.
        from cmecore.transcripts.speech import NoAudio, find_speech_in_file
    except ImportError as exc:
        raise _AudioUnreadable(f"reading the video's audio needs PyAV and numpy ({exc.name} is not installed)") from None
    try:
        segments, _length_ms = find_speech_in_file(video)
    except NoAudio as exc:
        raise _AudioUnreadable(f"{exc} ({video.name})") from None
    return segments


def _read_text(path: Path) -> str:
    # A plain transcript is text; a stray invalid byte should not stop the timing.
    return path.read_bytes().decode("utf-8-sig", errors="replace")
