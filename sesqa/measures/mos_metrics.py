"""MOS metrics: L_MOS (MAE), MSE, LCC, SRCC and KTAU, at utterance and at system level.

Computed from resample *counts* (how often each item was drawn) so that all bootstrap resamples
are evaluated at once with matrix products instead of one Python call per resample; all counts
1 gives the point estimates, which the tests check against scipy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from .criteria import as_scores, mos_error, same_length

MOS_METRICS: tuple[str, ...] = ("l_mos", "mse", "lcc", "srcc", "ktau")
"""Metric names of `mos_metrics`, in display order."""

KENDALL_MATRIX_MAX = 3000
"""Up to this many items KTAU is computed for all resamples at once, in O(n_boot n^2) flops
(0.05 s for 1000 x 1000 items); above it, by scipy's O(n log n) kendalltau once per resample
(2.5 s for 1000 x 10,000 items), which is faster there."""


def _constant_rows(x: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per resample: True where every drawn item has the same value of ``x`` (exact test)."""
    drawn = counts > 0
    low = np.where(drawn, x, np.inf).min(axis=1)
    high = np.where(drawn, x, -np.inf).max(axis=1)
    return low == high


def _weighted_pearson(x: np.ndarray, y: np.ndarray, counts: np.ndarray, n: int) -> np.ndarray:
    """Pearson correlation per resample; ``x``, ``y`` are (n,) or (B, n), ``counts`` (B, n)."""
    mx = (counts * x).sum(axis=1, keepdims=True) / n
    my = (counts * y).sum(axis=1, keepdims=True) / n
    dx = x - mx
    dy = y - my
    cov = (counts * dx * dy).sum(axis=1)
    var = (counts * dx * dx).sum(axis=1) * (counts * dy * dy).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.sqrt(var)
    return np.clip(r, -1.0, 1.0)


def _tie_groups(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort order of ``x``, start of each group of equal values in it, and each item's group."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    is_start = np.ones(len(x), dtype=bool)
    is_start[1:] = xs[1:] != xs[:-1]
    starts = np.flatnonzero(is_start)
    group = np.empty(len(x), dtype=np.intp)
    group[order] = np.cumsum(is_start) - 1
    return order, starts, group


def _weighted_ranks(x: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks of each item within each resample, and tied pairs per resample.

    An item drawn among ``less`` smaller values and ``g`` equal ones (itself included) has rank
    ``less + (g + 1) / 2``, scipy's "average" method; the tied pairs are sum over groups g(g-1)/2.
    """
    order, starts, group = _tie_groups(x)
    group_counts = np.add.reduceat(counts[:, order], starts, axis=1)
    below = np.cumsum(group_counts, axis=1) - group_counts
    group_ranks = below + (group_counts + 1.0) / 2.0
    ties = (group_counts * (group_counts - 1.0) / 2.0).sum(axis=1)
    return group_ranks[:, group], ties


def _kendall_numerators(x: np.ndarray, y: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concordant minus discordant pairs per resample: c^T S c / 2, S = sign(dx) sign(dy).

    Copies of one item are tied in both and add nothing (S_aa = 0). Computed in row blocks of S
    with float32 products, exact for integers below 2**24, summed in float64.
    """
    n = len(x)
    block = max(1, 4_000_000 // max(n, 1))
    c32 = counts.astype(np.float32)
    total = np.zeros(counts.shape[0], dtype=np.float64)
    for start in range(0, n, block):
        stop = min(n, start + block)
        s = np.sign(x[start:stop, None] - x[None, :]) * np.sign(y[start:stop, None] - y[None, :])
        partial = c32[:, start:stop] @ s.astype(np.float32)
        total += np.einsum("bn,bn->b", partial.astype(np.float64), counts)
    return total / 2.0


def _kendall_each(x: np.ndarray, y: np.ndarray, counts: np.ndarray, skip: np.ndarray) -> np.ndarray:
    """Kendall tau-b per resample by scipy on the resample itself (rows in ``skip`` left NaN)."""
    taus = np.full(counts.shape[0], np.nan)
    whole = counts.astype(np.intp)
    for row in np.flatnonzero(~skip):
        taus[row] = stats.kendalltau(np.repeat(x, whole[row]), np.repeat(y, whole[row])).statistic
    return taus


def mos_metrics_counts(pred: np.ndarray, true: np.ndarray, counts: np.ndarray) -> dict[str, np.ndarray]:
    """The five MOS metrics for each row of resample ``counts`` (B, n), each row summing to n."""
    n = len(pred)
    counts = counts.astype(np.float64, copy=False)
    err = pred - true
    out = {
        "l_mos": counts @ mos_error(pred, true) / n,
        "mse": counts @ (err * err) / n,
    }
    if n < 2:
        nan = np.full(counts.shape[0], np.nan)
        return out | {"lcc": nan, "srcc": nan.copy(), "ktau": nan.copy()}
    degenerate = _constant_rows(pred, counts) | _constant_rows(true, counts)
    lcc = _weighted_pearson(pred, true, counts, n)
    rank_pred, ties_pred = _weighted_ranks(pred, counts)
    rank_true, ties_true = _weighted_ranks(true, counts)
    srcc = _weighted_pearson(rank_pred, rank_true, counts, n)
    if n <= KENDALL_MATRIX_MAX:
        pairs = n * (n - 1) / 2.0
        numerator = _kendall_numerators(pred, true, counts)
        with np.errstate(invalid="ignore", divide="ignore"):
            ktau = np.clip(numerator / np.sqrt(pairs - ties_pred) / np.sqrt(pairs - ties_true), -1.0, 1.0)
    else:
        ktau = _kendall_each(pred, true, counts, degenerate)
    for r in (lcc, srcc, ktau):
        r[degenerate] = np.nan
    return out | {"lcc": lcc, "srcc": srcc, "ktau": ktau}


def mos_metrics(pred: Sequence[float] | np.ndarray, true: Sequence[float] | np.ndarray) -> dict[str, float]:
    """L_MOS (MAE), MSE, LCC, SRCC and KTAU of predictions against MOS labels.

    The correlations equal scipy's pearsonr, spearmanr and kendalltau (tau-b). A metric that is
    undefined (no items; fewer than 2 items or a constant input for a correlation) is NaN;
    `undefined_reasons` says why.
    """
    p = as_scores(pred, "pred")
    t = as_scores(true, "true")
    n = same_length(pred=p, true=t)
    if n == 0:
        return {name: math.nan for name in MOS_METRICS}
    values = mos_metrics_counts(p, t, np.ones((1, n)))
    return {name: float(values[name][0]) for name in MOS_METRICS}


def undefined_reasons(
    pred: Sequence[float] | np.ndarray, true: Sequence[float] | np.ndarray
) -> dict[str, str]:
    """Why each NaN of `mos_metrics(pred, true)` is NaN; metrics that are defined are absent."""
    p = np.asarray(pred, dtype=np.float64)
    t = np.asarray(true, dtype=np.float64)
    if len(p) == 0:
        return {name: "no items" for name in MOS_METRICS}
    if len(p) < 2:
        reason = "a correlation needs at least 2 items"
    elif np.all(p == p[0]):
        reason = "the predictions are constant"
    elif np.all(t == t[0]):
        reason = "the labels are constant"
    else:
        return {}
    return {name: reason for name in ("lcc", "srcc", "ktau")}


def system_level(
    pred: Sequence[float] | np.ndarray,
    true: Sequence[float] | np.ndarray,
    systems: Sequence[str],
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Per-system means of predictions and of labels, and the system ids in sorted order.

    The VoiceMOS challenge's system level: one point per system, its mean prediction against
    its mean MOS.
    """
    p = as_scores(pred, "pred")
    t = as_scores(true, "true")
    ids = np.asarray([str(s) for s in systems], dtype=object)
    same_length(pred=p, true=t, systems=ids)
    names, inverse = np.unique(ids.astype(str), return_inverse=True)
    sizes = np.bincount(inverse, minlength=len(names)).astype(np.float64)
    pred_means = np.bincount(inverse, weights=p, minlength=len(names)) / sizes
    true_means = np.bincount(inverse, weights=t, minlength=len(names)) / sizes
    return pred_means, true_means, tuple(str(s) for s in names)
