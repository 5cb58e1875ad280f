"""Ogg Vorbis transcoding with libvorbis (paper C.36): a round trip at 32..64 kbps, 48 kHz.

The bitrate is libvorbis's average (managed) bitrate. PyAV's FFmpeg build has no libvorbis (only
FFmpeg's experimental native encoder), so this runs through the ffmpeg binary of the
imageio-ffmpeg wheel. libvorbis's lowest average bitrate for mono 48 kHz is 32 kbps, the bottom
of the paper's range.
"""

from __future__ import annotations

from ._codec import CodecSpec, CodecTranscoding
from .base import register

VORBIS = CodecSpec("libvorbis", "vorbis", rates=(8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000))


@register
class OggVorbis(CodecTranscoding):
    name = "ogg_vorbis"
    weight = 0.023
    strength_range = (64.0, 32.0)
    spec = VORBIS
