"""Telephone channel: the speech band of a narrowband (300-3,400 Hz) or wideband (50-7,000 Hz) call.

The signal is resampled to the channel's rate (8 kHz, or 16 kHz once the upper edge exceeds what
8 kHz carries), band-passed between `low_cutoff_hz` and `high_cutoff_hz`, and resampled back. The
band-pass is a zero-phase Butterworth (forward and backward, so the call stays time-aligned with
the input) whose design edges are moved so that the two passes together are -3 dB at each cutoff.
Strength moves both edges together from the wideband band (ITU-T G.722, P.341) to the narrowband
one (ITU-T G.712's 300-3,400 Hz).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import signal

from sesqa.audio import resample

from .._int_checks import check_int
from ..base import Degradation, SamplingContext, check_choice, check_range, fit_length, lerp, register

WIDEBAND_HZ = (50.0, 7000.0)
NARROWBAND_HZ = (300.0, 3400.0)
CHANNEL_RATES_HZ = (8000, 16000)
MAX_NARROWBAND_EDGE_HZ = 3800.0
"""Upper edges up to this fit an 8 kHz channel (its Nyquist is 4 kHz); wider bands need 16 kHz."""
ORDERS = (2, 6)
"""Random Butterworth order range per pass (the two passes double the slope)."""


def channel_rate_for(high_cutoff_hz: float) -> int:
    """The lowest telephone sample rate that carries a band up to `high_cutoff_hz`."""
    return 8000 if high_cutoff_hz <= MAX_NARROWBAND_EDGE_HZ else 16000


def zero_phase_band_pass(x: np.ndarray, sr: int, low_hz: float, high_hz: float, order: int) -> np.ndarray:
    """Band-pass run forward and backward, -3 dB at `low_hz` and `high_hz` after both passes.

    Each pass is a digital Butterworth high-pass and low-pass of `order`, whose power response is
    1 / (1 + (tan(pi f / sr) / tan(pi f_c / sr))^(+-2n)); two passes are -3 dB where one is -1.5 dB,
    so each design edge f_c is moved out by the factor (sqrt(2) - 1)^(-1/(2n)) on that tan scale.
    """
    stretch = (math.sqrt(2.0) - 1.0) ** (-1.0 / (2 * order))
    sos = np.concatenate(
        [
            signal.butter(order, _warped_edge_hz(low_hz, sr, 1.0 / stretch), btype="highpass", fs=sr, output="sos"),
            signal.butter(order, _warped_edge_hz(high_hz, sr, stretch), btype="lowpass", fs=sr, output="sos"),
        ]
    )
    if len(x) < 2:  # one sample holds no frequency inside the band
        return np.zeros(len(x))
    padlen = min(3 * (2 * len(sos) + 1), len(x) - 1)  # scipy's default, shortened for short inputs
    return signal.sosfiltfilt(sos, np.asarray(x, dtype=np.float64), padlen=padlen)


def _warped_edge_hz(edge_hz: float, sr: int, factor: float) -> float:
    """The design frequency whose prewarped (tan) value is `factor` times that of `edge_hz`."""
    return min(sr / math.pi * math.atan(math.tan(math.pi * edge_hz / sr) * factor), 0.49 * sr)


@register
class TelephoneChannel(Degradation):
    name = "telephone_channel"
    weight = 0.08
    pool = "telephony"
    strength_param = "high_cutoff_hz"
    strength_range = (WIDEBAND_HZ[1], NARROWBAND_HZ[1])

    @dataclass(frozen=True)
    class Params:
        high_cutoff_hz: float
        """Upper -3 dB edge of the speech band."""
        low_cutoff_hz: float
        """Lower -3 dB edge of the speech band."""
        channel_sr_hz: int
        """Sample rate of the channel: 8000 up to a 3.8 kHz upper edge, else 16000."""
        order: int
        """Butterworth order of each pass."""

        def __post_init__(self) -> None:
            check_range("high_cutoff_hz", self.high_cutoff_hz, NARROWBAND_HZ[1], WIDEBAND_HZ[1])
            check_range("low_cutoff_hz", self.low_cutoff_hz, WIDEBAND_HZ[0], NARROWBAND_HZ[0])
            check_choice("channel_sr_hz", self.channel_sr_hz, CHANNEL_RATES_HZ)
            if self.high_cutoff_hz > 0.49 * self.channel_sr_hz:
                raise ValueError(
                    f"high_cutoff_hz must be below {0.49 * self.channel_sr_hz:g} Hz for channel_sr_hz "
                    f"{self.channel_sr_hz}, got {self.high_cutoff_hz!r}"
                )
            check_int("order", self.order, 1, 8)

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext | None) -> Params:
        high = lerp(*cls.strength_range, strength)
        return cls.Params(
            high_cutoff_hz=high,
            low_cutoff_hz=lerp(WIDEBAND_HZ[0], NARROWBAND_HZ[0], strength),
            channel_sr_hz=channel_rate_for(high),
            order=int(rng.integers(ORDERS[0], ORDERS[1] + 1)),
        )

    @classmethod
    def for_band(cls, band: str, rng: np.random.Generator) -> Params:
        """The standard narrowband or wideband channel (for a call chain whose codec fixes the band)."""
        check_choice("band", band, ("narrowband", "wideband"))
        low, high = NARROWBAND_HZ if band == "narrowband" else WIDEBAND_HZ
        return cls.Params(high, low, channel_rate_for(high), int(rng.integers(ORDERS[0], ORDERS[1] + 1)))

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if len(x) == 0:
            return x.copy()
        channel = resample(x, sr, params.channel_sr_hz)
        band = zero_phase_band_pass(channel, params.channel_sr_hz, params.low_cutoff_hz, params.high_cutoff_hz, params.order)
        return fit_length(resample(band.astype(np.float32), params.channel_sr_hz, sr), len(x))
