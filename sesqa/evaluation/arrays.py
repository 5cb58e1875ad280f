"""Input checks shared by the evaluation metrics: 1-D finite score arrays of equal length."""

from __future__ import annotations

from typing import Any

import numpy as np


def as_scores(values: Any, name: str) -> np.ndarray:
    """A 1-D float64 array of finite scores, or ValueError naming ``name``."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of scores, got shape {array.shape}")
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise ValueError(f"{name}: {bad} of {array.size} values are not finite numbers")
    return array


def same_length(**arrays: np.ndarray) -> int:
    """The common length of ``arrays``, or ValueError naming the lengths."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"arrays differ in length: {detail}")
    return next(iter(lengths.values()))
