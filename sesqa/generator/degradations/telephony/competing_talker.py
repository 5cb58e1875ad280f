"""Competing talker: another speaker's voice under the main one, across the whole frame.

A call picks up a colleague at the next desk, a television, a conference participant who did not
mute. The other voice is real speech of the clean corpus from another speaker (the generator
draws it from the same split, never the frame's own speaker), mixed at a target-to-talker ratio:
30 dB at strength 0 (barely there) to 0 dB at strength 1 (as loud as the main talker).
TCD-VoIP's "competing speaker" condition is this effect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ....audio import load
from ....data import resolve_path
from .._additive import add_at_snr
from ..base import Degradation, DegradationError, SamplingContext, check_range, lerp, register


@register
class CompetingTalker(Degradation):
    name = "competing_talker"
    weight = 0.08
    pool = "telephony"
    strength_param = "ratio_db"
    strength_range = (30.0, 0.0)

    @dataclass(frozen=True)
    class Params:
        ratio_db: float
        """Main talker's power over the competing talker's, over the whole frame."""
        talker_path: str
        """Portable name of the other speaker's file (see sesqa.data)."""
        talker_offset_s: float

        def __post_init__(self) -> None:
            check_range("ratio_db", self.ratio_db, -20.0, 60.0)
            check_range("talker_offset_s", self.talker_offset_s, 0.0, float("inf"))

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext | None) -> Params:
        if ctx is None or ctx.talkers is None:
            raise ValueError("competing_talker needs other speakers' speech (SamplingContext.talkers is None)")
        found = ctx.talkers.sample(rng, ctx.n_samples / ctx.sr)
        if found is None:
            raise DegradationError("competing_talker: the corpus has no speaker other than the frame's")
        path, offset_s = found
        return cls.Params(lerp(*cls.strength_range, strength), path, offset_s)

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Params) -> np.ndarray:
        talker = load(resolve_path(params.talker_path), sr, params.talker_offset_s, len(x) / sr)
        talker = np.resize(talker - np.mean(talker), len(x))  # a shorter clip (the sweep's) is looped
        return add_at_snr(x, talker, params.ratio_db, 0, len(x))
