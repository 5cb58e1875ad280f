"""The upper band edge of a recording: the highest frequency that carries sound.

Most reachable running speech was recorded or stored at 16 kHz or less, and a file's sample
rate can overstate its content (a 44.1 kHz file made from 8 kHz audio). The edge is measured
from the long-term average spectrum, so the generator can carry a source's band limit as a
degradation instead of calling its frames clean.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import signal

from .stream import open_stream

BAND_HZ = 250.0
"""Width of the bands the spectrum is summarised in; the edge is the top of one of them."""
DROP_DB = 70.0
"""A band carries sound when its level is within this many dB of the loudest speech band."""
REFERENCE_BAND_HZ = (100.0, 4000.0)
"""Where the loudest band is looked for: the speech range every telephone band keeps."""
WINDOW_S = 0.04
MEASURED_S = 30.0
"""How much of a file `file_band_edge_hz` reads: enough for a stable long-term spectrum."""


def upper_band_edge_hz(samples: np.ndarray, sample_rate: int) -> float:
    """Top of the highest 250 Hz band whose level is within 70 dB of the loudest speech band.

    The level of a band is the median of its Welch power bins (a Blackman-Harris window, whose
    side lobes stay 92 dB down, so a tone leaks into few bins): a lone tone or whine does not
    widen the band; the loudest band is looked for in 100 Hz to 4 kHz. Silence gives 0.0; the
    result never exceeds the Nyquist frequency.

    Raises ValueError for a sample rate below 1 Hz or a signal that is not one-dimensional.
    """
    if sample_rate < 1:
        raise ValueError(f"sample_rate must be >= 1 Hz, got {sample_rate!r}")
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"samples must be one-dimensional (mono), got shape {x.shape}")
    nyquist = sample_rate / 2.0
    if x.size < 2 or not np.any(x != x[0]):
        return 0.0
    n = min(x.size, 1 << int(round(np.log2(max(WINDOW_S * sample_rate, 16)))))
    freqs, power = signal.welch(x - x.mean(), fs=sample_rate, window="blackmanharris", nperseg=n, noverlap=n // 2)
    band_of = np.minimum((freqs // BAND_HZ).astype(int), int(nyquist // BAND_HZ))
    bands = np.unique(band_of)
    level_db = np.array([10.0 * np.log10(np.median(power[band_of == b]) + 1e-30) for b in bands])
    low, high = REFERENCE_BAND_HZ
    in_reference = (bands * BAND_HZ + BAND_HZ > low) & (bands * BAND_HZ < high)
    if not in_reference.any():
        in_reference[:] = True
    reference_db = level_db[in_reference].max()
    if reference_db <= -290.0:
        return 0.0
    carrying = bands[level_db >= reference_db - DROP_DB]
    return float(min((carrying.max() + 1) * BAND_HZ, nyquist))


def file_band_edge_hz(path: str | Path, max_duration_s: float = MEASURED_S) -> float:
    """`upper_band_edge_hz` of the first `max_duration_s` of a file, decoded at its own rate.

    Raises AudioError naming the file when it cannot be read.
    """
    with open_stream(path, sr=None, limit_s=max_duration_s) as stream:
        blocks = list(stream)
        rate = stream.native_sr
    x = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
    return upper_band_edge_hz(x, int(rate))
