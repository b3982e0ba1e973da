"""Transcoding one source video into the small and audio renditions in one decoding pass (PyAV).

Imported only when renditions are made (renditions.py), so a server without PyAV still
starts. The whole source is decoded even where nothing is encoded from it: that is what
finds a truncated or corrupt file before it is published.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av

from cmecore.protocol import RenditionKind
from cmecore.transcripts.align import clock

from .media_probe import MediaFacts
from .rendition_recipe import (
    AUDIO_BITRATE, INTERPOLATION, KEYFRAME_S, MAX_SAMPLE_RATE, SMALL_BOX, SMALL_VIDEO_CRF, SMALL_VIDEO_MAXRATE,
    SMALL_VIDEO_PRESET, TRUNCATED_SHARE, TRUNCATED_SLACK_S, BadVideo,
)

log = logging.getLogger(__name__)

FALLBACK_RATE = Fraction(25)


def small_size(width: int, height: int) -> tuple[int, int] | None:
    """The small rendition's picture size, within SMALL_BOX either way round; None when the
    original already fits (it is never upscaled)."""
    scale = min(SMALL_BOX[1] / min(width, height), SMALL_BOX[0] / max(width, height))
    if scale >= 1:
        return None
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


class _Output:
    """One rendition file being written: an MP4 with an H.264 stream (small) and/or AAC sound."""

    def __init__(self, path: Path, audio_rate: int | None, picture: tuple[int, int] | None = None,
                 video_in: av.video.stream.VideoStream | None = None) -> None:
        self.path = path
        self.container = av.open(str(path), "w", options={"movflags": "faststart"})
        self.video = self.audio = None
        if picture is not None and video_in is not None:
            rate = video_in.average_rate or video_in.guessed_rate or FALLBACK_RATE
            self.video = self.container.add_stream("libx264", rate=rate, options={
                "crf": SMALL_VIDEO_CRF, "maxrate": str(SMALL_VIDEO_MAXRATE), "bufsize": str(2 * SMALL_VIDEO_MAXRATE),
                "preset": SMALL_VIDEO_PRESET, "g": str(max(1, round(float(rate) * KEYFRAME_S)))})
            self.video.width, self.video.height = picture
            self.video.pix_fmt = "yuv420p"
            self.video.codec_context.time_base = video_in.time_base
        if audio_rate is not None:
            self.audio = self.container.add_stream("aac", rate=audio_rate, layout="mono")
            self.audio.bit_rate = AUDIO_BITRATE

    def picture(self, frame: av.VideoFrame | None) -> None:
        for packet in self.video.encode(frame):
            self.container.mux(packet)

    def sound(self, frame: av.AudioFrame | None) -> None:
        for packet in self.audio.encode(frame):
            self.container.mux(packet)

    def finish(self) -> None:
        if self.video is not None:
            self.picture(None)
        if self.audio is not None:
            self.sound(None)
        self.container.close()

    def abandon(self) -> None:
        try:
            self.container.close()
        except av.FFmpegError:
            pass  # half written: the caller removes the folder


def transcode(source: Path, name: str, facts: MediaFacts, work: Path) -> tuple[list[tuple[RenditionKind, Path]], list[str]]:
    """Write the renditions into `work`; return [(kind, file)] and notes on forms not made.
    BadVideo when the source has neither picture nor sound, fails to decode or is cut short."""
    notes: list[str] = []
    with av.open(str(source)) as inp:
        vin = inp.streams.video[0] if inp.streams.video else None
        ain = inp.streams.audio[0] if inp.streams.audio else None
        if vin is None and ain is None:
            raise BadVideo(f"{name}: the file has neither picture nor sound; export the talk again as MP4 (H.264 + AAC)")
        picture = small_size(vin.codec_context.width, vin.codec_context.height) if vin and vin.codec_context.width else None
        if vin is None:
            notes.append("no small rendition: the file has no picture")
        elif picture is None:
            notes.append(f"no small rendition: the original is already {vin.codec_context.width}x"
                         f"{vin.codec_context.height}, no larger than {SMALL_BOX[0]}x{SMALL_BOX[1]}")
        if ain is None:
            notes.append("no audio rendition: the file has no sound")
        rate = min(ain.codec_context.sample_rate or MAX_SAMPLE_RATE, MAX_SAMPLE_RATE) if ain is not None else None
        outputs: list[tuple[RenditionKind, _Output]] = []
        try:
            if picture is not None:
                outputs.append((RenditionKind.small, _Output(work / "small.mp4", rate, picture, vin)))
            if ain is not None:
                outputs.append((RenditionKind.audio, _Output(work / "audio.mp4", rate)))
            end_s = _decode(inp, name, vin, ain, rate, [o for _k, o in outputs], picture)
            for _kind, out in outputs:
                out.finish()
        except BaseException:
            for _kind, out in outputs:
                out.abandon()
            raise
    stated_s = (facts.duration_ms or 0) / 1000
    if end_s <= 0:
        raise BadVideo(f"{name}: no picture or sound could be decoded from it; export it again as MP4 (H.264 + AAC)")
    if stated_s and end_s < stated_s - max(TRUNCATED_SLACK_S, stated_s * TRUNCATED_SHARE):
        raise BadVideo(f"{name}: the file is cut short: it plays to {clock(round(end_s * 1000))} of the "
                       f"{clock(round(stated_s * 1000))} it states; copy or export it again")
    return [(kind, out.path) for kind, out in outputs], notes


def _decode(inp, name: str, vin, ain, rate: int | None, outputs: list[_Output],
            picture: tuple[int, int] | None) -> float:
    """Decode every frame once, feeding each output; return where the pictures and sound end (s)."""
    if vin is not None:
        vin.thread_type = "AUTO"
    resampler = av.AudioResampler(format="fltp", layout="mono", rate=rate) if ain is not None else None
    end_s = 0.0
    try:
        for packet in inp.demux(*(s for s in (vin, ain) if s is not None)):
            for frame in packet.decode():
                if frame.time is None:
                    continue
                if isinstance(frame, av.VideoFrame):
                    end_s = max(end_s, frame.time + (1 / float(vin.average_rate) if vin.average_rate else 0))
                    if picture is not None:
                        small = frame.reformat(width=picture[0], height=picture[1], format="yuv420p",
                                               interpolation=INTERPOLATION)
                        small.pts, small.time_base = frame.pts, frame.time_base
                        for out in outputs:
                            if out.video is not None:
                                out.picture(small)
                else:
                    end_s = max(end_s, frame.time + frame.samples / frame.sample_rate)
                    for mono in resampler.resample(frame):
                        for out in outputs:
                            out.sound(mono)
        for mono in resampler.resample(None) if resampler is not None else ():
            for out in outputs:
                out.sound(mono)
    except av.FFmpegError as exc:
        log.info("%s: decoding failed: %s", name, exc)  # libav's words (often errno's) would mislead a publisher
        raise BadVideo(f"{name}: the file is damaged: decoding fails after {clock(round(end_s * 1000))}; "
                       "copy or export it again") from None
    return end_s
