"""Which libvlc plugins the Windows and macOS bundles carry (Linux uses the system VLC).

VLC 3 ships ~350 plugins (~100 MB on Windows); the app plays one kind of file (MP4 with
H.264 video and AAC audio, from the local blob store) into a native window, at 0.5-2x
with pitch kept. A plugin is bundled when its name (file name without `lib` and
`_plugin.*`) is listed here; set CME_VLC_ALL_PLUGINS=1 to bundle every plugin instead
(a quick way to rule the allow-list out when a file will not play).

NOT YET VERIFIED on Windows or macOS (no such builder here): check a real build with
`cme-offline --verbose` and a video before shipping, and add what libvlc says is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

COMMON = {
    # input: local files, MP4 / elementary streams
    "filesystem", "mp4", "es", "h26x",
    # decoders and packetizers
    "avcodec", "packetizer_h264", "packetizer_hevc", "packetizer_mpeg4audio",
    "packetizer_mpeg4video", "packetizer_copy",
    # audio path: formats, mixing, resampling, tempo (1.5x keeps pitch)
    "audio_format", "float_mixer", "integer_mixer", "scaletempo", "scaletempo_pitch",
    "speex_resampler", "samplerate", "ugly_resampler", "simple_channel_mixer",
    "trivial_channel_mixer", "remap",
    # video path: chroma conversion
    "swscale", "chain", "i420_rgb", "i420_yuy2", "i420_nv12", "i422_i420", "yuvp",
    "grey_yuv", "rv32", "deinterlace",
    # headless (tests, `--intf=dummy --vout=dummy --aout=dummy`) and logging
    "dummy", "vdummy", "adummy", "console_logger", "file_logger",
}
WINDOWS = {
    "direct3d11", "direct3d9", "direct3d11_filters", "direct3d9_filters",
    "d3d11va", "dxva2", "glwin32", "wgl", "wingdi", "gl",
    "mmdevice", "wasapi", "directsound", "waveout",
}
MACOS = {
    "caopengllayer", "macosx", "vout_macosx", "glconv_cvpx", "cvpx", "videotoolbox",
    "auhal", "audiounit_ios", "gl",
}

_NAME = re.compile(r"^lib(?P<name>.+)_plugin\.(dll|dylib|so)$")


def plugin_name(path: Path) -> str | None:
    match = _NAME.match(path.name)
    return match.group("name") if match else None


def allowed(platform: str) -> set[str]:
    return COMMON | (WINDOWS if platform == "win32" else MACOS if platform == "darwin" else set())


def select_plugins(plugins_dir: Path, platform: str, keep_all: bool = False) -> list[Path]:
    """The plugin files under `plugins_dir` (VLC's own layout) that the bundle keeps."""
    wanted = allowed(platform)
    chosen = []
    for path in sorted(plugins_dir.rglob("*")):
        name = plugin_name(path)
        if name and (keep_all or name in wanted):
            chosen.append(path)
    return chosen
