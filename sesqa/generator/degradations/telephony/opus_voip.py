"""Opus VoIP (RFC 6716): libopus in its speech mode at a constant 6..24 kbps, narrow-, medium- or wideband.

VoIP calls (Opus is WebRTC's mandatory audio codec, RFC 7874) run it tuned for speech
(`application` voip: SILK, speech-oriented analysis) at a constant bitrate, capping its audio
bandwidth to what the link and the far end carry. Strength lowers the bitrate from 24 to 6 kbps;
the cap is drawn at random: narrowband (4 kHz), mediumband (6 kHz) or wideband (8 kHz), set through
FFmpeg's `cutoff`, which libopusenc maps to Opus's maximum bandwidth. libopus may still choose a
narrower band: below about 9.8 kbps it codes narrowband whatever the cap (measured with this
build's libopus; tests/test_telephony_codecs.py). Narrowband streams decode one 8 kHz sample
(6 samples at 48 kHz) later than their timestamps say, at every bitrate; `apply` takes that back,
so every stream is aligned with its input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._codec import round_trip
from ..base import Degradation, SamplingContext, check_choice, check_range, fit_length, lerp, register
from ..opus import OPUS

BANDWIDTH_CUTOFF_HZ = {"narrowband": 4000, "mediumband": 6000, "wideband": 8000}
BANDWIDTHS = tuple(BANDWIDTH_CUTOFF_HZ)
NARROWBAND_BELOW_KBPS = 9.8
"""libopus codes narrowband below this bitrate whatever the cap (9.7 was, 9.8 was not, on four signals)."""
NARROWBAND_LATE_S = 1 / 8000
"""How much later than its timestamps a narrowband stream decodes: one SILK sample at 8 kHz."""


@register
class OpusVoip(Degradation):
    name = "opus_voip"
    weight = 0.11
    pool = "telephony"
    strength_param = "bitrate_kbps"
    strength_range = (24.0, 6.0)
    encoders = (OPUS.encoder,)

    @dataclass(frozen=True)
    class Params:
        bitrate_kbps: float
        """Constant bitrate of the stream."""
        codec_sr_hz: int
        """Sample rate the stream is encoded at (Opus: 48 kHz)."""
        bandwidth: str
        """Maximum audio bandwidth: "narrowband", "mediumband" or "wideband"."""

        def __post_init__(self) -> None:
            check_range("bitrate_kbps", self.bitrate_kbps, 6.0, 24.0)
            check_choice("codec_sr_hz", self.codec_sr_hz, OPUS.rates)
            check_choice("bandwidth", self.bandwidth, BANDWIDTHS)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext | None) -> Params:
        return cls.Params(
            bitrate_kbps=lerp(*cls.strength_range, strength),
            codec_sr_hz=48000,
            bandwidth=BANDWIDTHS[int(rng.integers(len(BANDWIDTHS)))],
        )

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        y = round_trip(x, sr, OPUS, params.bitrate_kbps, params.codec_sr_hz, encoder_options(params.bandwidth))
        late = round(NARROWBAND_LATE_S * sr) if coded_bandwidth(params) == "narrowband" else 0
        return fit_length(y[late:], len(y))


def coded_bandwidth(params: OpusVoip.Params) -> str:
    """The bandwidth libopus codes at: the cap, or narrowband below NARROWBAND_BELOW_KBPS."""
    return "narrowband" if params.bitrate_kbps < NARROWBAND_BELOW_KBPS else params.bandwidth


def encoder_options(bandwidth: str) -> tuple[tuple[str, str], ...]:
    """libopusenc options of a VoIP-mode, constant-bitrate stream capped at `bandwidth`."""
    return (("application", "voip"), ("vbr", "off"), ("cutoff", str(BANDWIDTH_CUTOFF_HZ[bandwidth])))
