"""G.711 (ITU-T G.711): 64 kbps mu-law or A-law PCM of the fixed-line and VoIP network, met at -3..-50 dBFS.

G.711 companding gives each 8-bit code a step proportional to its level, but only down to a fixed
floor relative to full scale: a quiet talker is coded by the few smallest steps, coarsely, which is
why ITU-T G.712 sets the PCM channel's minimum signal-to-distortion ratio as a function of input
level, lower for quieter input. Strength lowers the peak level at which the signal meets the codec
from -3 to -50 dBFS; the output is scaled back to the input's level, so what remains is the
quantisation noise of that level. The round trip runs FFmpeg's `pcm_mulaw` / `pcm_alaw` at 8 kHz;
the law (North American / Japanese mu-law or European A-law) is drawn at random.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._codec import CodecSpec, round_trip
from ..base import Degradation, SamplingContext, check_choice, check_range, lerp, register

LAWS = {
    "mu_law": CodecSpec("pcm_mulaw", "pcm_mulaw", rates=(8000,)),
    "a_law": CodecSpec("pcm_alaw", "pcm_alaw", rates=(8000,)),
}
BITRATE_KBPS = 64.0
CODEC_SR_HZ = 8000


@register
class G711Pcm(Degradation):
    name = "g711"
    weight = 0.07
    pool = "telephony"
    strength_param = "input_peak_dbfs"
    strength_range = (-3.0, -50.0)
    encoders = tuple(spec.encoder for spec in LAWS.values())

    @dataclass(frozen=True)
    class Params:
        input_peak_dbfs: float
        """Peak level of the signal at the codec's input, dB relative to full scale."""
        law: str
        """Companding law: "mu_law" or "a_law"."""

        def __post_init__(self) -> None:
            check_range("input_peak_dbfs", self.input_peak_dbfs, -50.0, -3.0)
            check_choice("law", self.law, tuple(LAWS))

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext | None) -> Params:
        laws = tuple(LAWS)
        return cls.Params(input_peak_dbfs=lerp(*cls.strength_range, strength), law=laws[int(rng.integers(len(laws)))])

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        peak = float(np.max(np.abs(x))) if len(x) else 0.0
        if peak == 0.0:
            return x.copy()
        gain = 10.0 ** (params.input_peak_dbfs / 20.0) / peak  # in float64: finite for any non-zero peak
        y = round_trip(x.astype(np.float64) * gain, sr, LAWS[params.law], BITRATE_KBPS, CODEC_SR_HZ)
        return (y.astype(np.float64) / gain).astype(np.float32)
