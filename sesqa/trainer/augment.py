"""Training-time augmentation (spec section 7): random scaling and phase inversion.

The third augmentation of the paper, temporal sampling, is the random 1 s crop that the MOS and
JND streams take from each file (see labelled.py); generated quadruples already come as 1 s
frames at two offsets.

One draw (a gain and a polarity) is applied to a whole *group* of frames: the four frames of a
quadruple, or the two recordings of a JND pair. The labels of a group are relations between its
frames (x_i better than x_j, k and l the same condition, a pair heard as different or not) and
those relations must survive the augmentation, which a per-frame gain could break (a quieter
frame is not a worse one, but the model should not learn to tell them apart by level).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_ABS_GAIN_DB = 40.0
"""Bound on |gain_db|: beyond it a frame is mostly silence or a huge number, not augmentation."""


@dataclass(frozen=True)
class Augment:
    """What to randomise, and how much.

    Default gain range -12 .. +6 dB: the generated frames are peak-normalised (peak about 1, a
    level no real recording exceeds), while rated recordings are usually quieter, often by
    10 dB or more; scaling mostly downwards teaches level invariance over the range real inputs
    have. The +6 dB side covers recordings a little hotter than the training frames without
    taking peaks beyond 2 (no clipping is applied, so the augmentation never adds distortion
    that the labels do not know about). Polarity is inaudible, so inverting it with p = 0.5 is
    a free invariance.
    """

    scale: bool = True
    """Random scaling by a gain drawn uniformly in dB from `gain_db`."""
    gain_db: tuple[float, float] = (-12.0, 6.0)
    invert: bool = True
    """Phase (polarity) inversion with probability `invert_p`."""
    invert_p: float = 0.5

    def __post_init__(self) -> None:
        if len(self.gain_db) != 2:
            raise ValueError(f"gain_db must be (low, high) in dB, got {self.gain_db!r}")
        low, high = (float(g) for g in self.gain_db)
        if not (math.isfinite(low) and math.isfinite(high) and low <= high):
            raise ValueError(f"gain_db must be finite with low <= high, got {self.gain_db!r}")
        if max(abs(low), abs(high)) > MAX_ABS_GAIN_DB:
            raise ValueError(f"gain_db must lie within +-{MAX_ABS_GAIN_DB:g} dB, got {self.gain_db!r}")
        if not (math.isfinite(self.invert_p) and 0.0 <= self.invert_p <= 1.0):
            raise ValueError(f"invert_p must be a probability in [0, 1], got {self.invert_p!r}")

    @property
    def enabled(self) -> bool:
        """Whether applying this changes anything at all."""
        return (self.scale and self.gain_db != (0.0, 0.0)) or (self.invert and self.invert_p > 0.0)


def draw_factor(config: Augment, rng: np.random.Generator) -> float:
    """The signed linear factor of one group: gain times polarity (+1 or -1).

    Both random numbers are drawn whatever the flags, so switching one augmentation off does
    not shift the random stream of the other.
    """
    gain_db = float(rng.uniform(config.gain_db[0], config.gain_db[1]))
    flip = bool(rng.random() < config.invert_p)
    factor = 10.0 ** (gain_db / 20.0) if config.scale else 1.0
    return -factor if (config.invert and flip) else factor


def augment_group(frames: np.ndarray, config: Augment | None, rng: np.random.Generator) -> np.ndarray:
    """`frames` (a group, any shape ending in time) times one factor drawn from `rng`; float32.

    With `config` None the frames come back unchanged (as float32) and `rng` is not used.
    """
    frames = np.asarray(frames, dtype=np.float32)
    if config is None:
        return frames
    return frames * np.float32(draw_factor(config, rng))
