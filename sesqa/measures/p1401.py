"""ITU-T P.1401's first-order map from a predictor's scale to MOS, and the RMSE taken after it.

P.1401 (07/2012) compares objective quality models on the MOS scale of each experiment: a
monotonic map, fitted by least squares per experiment, takes the model's scores to that scale
first, so a model is not penalised for a scale offset the experiment's context alone explains.
The first-order map is ``mos ~ a + b * score``; the RMSE after it divides the squared residuals
by N - d, d = 2 for the map's two parameters. PCC and SRCC do not change under an increasing
map; a negative slope (a model that ranks backwards) is kept as fitted, so its RMSE is still
the residual of the best line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .criteria import as_scores, same_length

FIRST_ORDER_DOF = 2
"""Degrees of freedom of the first-order map (intercept and slope): RMSE divides by N - 2."""


def first_order_map(score: Sequence[float] | np.ndarray, mos: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """(a, b) of the least-squares line ``mos ~ a + b * score``.

    ValueError for fewer than 2 items or constant scores (no line is defined).
    """
    s = as_scores(score, "score")
    m = as_scores(mos, "mos")
    n = same_length(score=s, mos=m)
    if n < 2:
        raise ValueError(f"a first-order map needs at least 2 items, got {n}")
    ds = s - s.mean()
    spread = float(ds @ ds)
    if spread == 0.0:
        raise ValueError("a first-order map needs scores that are not all equal")
    b = float(ds @ (m - m.mean())) / spread
    return float(m.mean() - b * s.mean()), b


def mapped(score: Sequence[float] | np.ndarray, a: float, b: float) -> np.ndarray:
    """Scores on the MOS scale after the map ``a + b * score``."""
    return a + b * as_scores(score, "score")


def rmse_after_map(score: Sequence[float] | np.ndarray, mos: Sequence[float] | np.ndarray, dof: int = FIRST_ORDER_DOF) -> float:
    """P.1401's RMSE after the first-order map: sqrt(sum of squared residuals / (N - dof)).

    NaN when the map is undefined (fewer than 2 items, constant scores) or N <= dof.
    """
    s = as_scores(score, "score")
    m = as_scores(mos, "mos")
    n = same_length(score=s, mos=m)
    if n <= dof or n < 2 or np.all(s == s[0]):
        return math.nan
    a, b = first_order_map(s, m)
    residual = m - mapped(s, a, b)
    return math.sqrt(float(residual @ residual) / (n - dof))


__all__ = ["FIRST_ORDER_DOF", "first_order_map", "mapped", "rmse_after_map"]
