"""Running pedalboard plugins on the mono float32 frames the degradations work on.

pedalboard processes (channels, samples) float32 and keeps internal state (delay lines, LFO
phases, reverb tails) between calls. Every `apply` therefore builds its plugins afresh and runs
them with `reset=True`, so the result depends on the signal and the params only.

`PedalboardEffect` is the shared sampler of the chorus, phaser and reverb: the main parameter
follows strength and every other one is drawn uniformly from its range.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from pedalboard import Pedalboard, Plugin

from .base import Degradation, SamplingContext, fit_length, lerp


def process_mono(x: np.ndarray, sr: int, plugins: Sequence[Plugin], channels: int = 1) -> np.ndarray:
    """Run `plugins` in series over `x` and return the first output channel, len(x) samples.

    With `channels=2` the mono signal is fed to both inputs of a stereo effect (e.g. reverb
    width) and the left output is kept. Tails past the end of the frame are dropped, as they
    would be when cutting a frame out of a longer processed recording.
    """
    block = np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=np.float32), (channels, len(x))))
    y = Pedalboard(list(plugins))(block, float(sr), reset=True)
    return fit_length(y[0], len(x))


class PedalboardEffect(Degradation):
    """Base of effects whose Params are the main parameter followed by uniformly drawn ones."""

    drawn_ranges: ClassVar[tuple[tuple[str, tuple[float, float]], ...]]
    """(Params field, (low, high)) of each randomised parameter, in the order they are drawn."""

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext) -> Any:
        drawn = {name: float(rng.uniform(low, high)) for name, (low, high) in cls.drawn_ranges}
        return cls.Params(**{cls.strength_param: lerp(*cls.strength_range, strength)}, **drawn)
