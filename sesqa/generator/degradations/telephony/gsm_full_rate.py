"""GSM full rate (ETSI GSM 06.10): the 13 kbps RPE-LTP codec of 2G calls, coded 1..4 times in tandem.

GSM 06.10 codes 8 kHz speech in 20 ms frames by regular-pulse excitation with long-term
prediction, at one fixed rate of 13 kbps (260 bits per frame). What varies in a real call is how often the speech is
coded: a call between two mobiles without transcoder-free operation is decoded to PCM and coded
again on each GSM leg, and every tandem adds its distortion. Strength raises the number of
encode/decode passes in a row from 1 to 4. The codec is libgsm inside pedalboard's
`GSMFullRateCompressor` (this FFmpeg build has no libgsm encoder), run at 8 kHz on the signal
resampled with `sesqa.audio.resample`, so the output is band-limited like the other 8 kHz codecs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pedalboard import GSMFullRateCompressor

from .._codec import at_codec_rate
from .._int_checks import check_int
from .._pedalboard import process_mono
from ..base import Degradation, SamplingContext, lerp, register

CODEC_SR_HZ = 8000
MAX_TANDEMS = 4


@register
class GsmFullRate(Degradation):
    name = "gsm_full_rate"
    weight = 0.07
    pool = "telephony"
    strength_param = "tandem_count"
    strength_range = (1, MAX_TANDEMS)
    encoders = ()

    @dataclass(frozen=True)
    class Params:
        tandem_count: int
        """Encode/decode passes in a row."""

        def __post_init__(self) -> None:
            check_int("tandem_count", self.tandem_count, 1, MAX_TANDEMS)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext | None) -> Params:
        return cls.Params(tandem_count=int(round(lerp(*cls.strength_range, strength))))

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        def tandem(y: np.ndarray) -> np.ndarray:
            for _ in range(params.tandem_count):  # separate runs: each leg decodes to PCM before the next codes it
                y = process_mono(y, CODEC_SR_HZ, [GSMFullRateCompressor()])
            return y

        return at_codec_rate(x, sr, CODEC_SR_HZ, tandem)
