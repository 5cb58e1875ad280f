"""Speech frames: which frames a file's figures average over, shared by the Scorer and compare.

The model was trained on active speech only, so a file's figures are means over its speech
frames: frames whose RMS (DC offset aside) is above `SPEECH_FLOOR_DBFS` and within
`SPEECH_RANGE_DB` of the file's loudest frame. The relative rule is what decides for any
recording at a usable level, so the choice of frames does not move with playback gain; the
floor only keeps near-silence (below 16-bit dither plus 30 dB) from counting as speech. Also here, how those figures are rounded for JSON, so both result types write
them alike.
"""

from __future__ import annotations

import math

import numpy as np

SPEECH_FLOOR_DBFS = -70.0
SPEECH_RANGE_DB = 30.0
SCORE_DECIMALS = 6
"""Decimals of scores in JSON/CSV output: enough that a written score matches the API's to 1e-6."""


def frame_rms_db(batch: np.ndarray) -> np.ndarray:
    """RMS level of each frame of a (n, samples) batch without its mean (DC), dBFS (float64,
    -200 for digital silence or a constant)."""
    x = batch.astype(np.float64)
    return 10 * np.log10(np.var(x, axis=1) + 1e-20)


def no_speech_warning() -> str:
    """Why a recording got no figures although it holds sound."""
    return f"no speech frame (no frame above {SPEECH_FLOOR_DBFS:g} dBFS): no score"


def speech_mask(rms_db: np.ndarray) -> np.ndarray:
    """Frames loud enough to be speech: above the floor and within range of the loudest frame."""
    if rms_db.size == 0:
        return np.zeros(0, bool)
    return (rms_db > SPEECH_FLOOR_DBFS) & (rms_db >= rms_db.max() - SPEECH_RANGE_DB)


def finite_or_none(value: float, decimals: int) -> float | None:
    """A rounded float for JSON; None for NaN/inf, which JSON cannot hold."""
    return round(float(value), decimals) if math.isfinite(value) else None
