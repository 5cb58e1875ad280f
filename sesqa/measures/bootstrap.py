"""Percentile-bootstrap resampling for the evaluation figures.

Resamples are drawn as index rows or, for the vectorised metrics, as counts (how often each
item was drawn), in bounded blocks; the same seed draws the same resamples either way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from .criteria import as_scores, same_length
from .mos_metrics import MOS_METRICS, mos_metrics_counts

CHUNK_ELEMENTS = 2_000_000
"""Resample-by-item elements handled at once: bounds memory (about 16 MB per float64 matrix)."""


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """``rng`` itself, or a Generator seeded with it (None means seed 0: results stay repeatable)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(0 if rng is None else rng)


def index_chunks(n: int, n_boot: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Resample indices (rows of n draws with replacement), a bounded block of rows at a time."""
    rows = max(1, CHUNK_ELEMENTS // max(n, 1))
    done = 0
    while done < n_boot:
        size = min(rows, n_boot - done)
        yield rng.integers(0, n, size=(size, n))
        done += size


def count_chunks(n: int, n_boot: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """The same resamples as `index_chunks`, as counts: how often each item was drawn."""
    for idx in index_chunks(n, n_boot, rng):
        offsets = (np.arange(idx.shape[0]) * n)[:, None]
        flat = np.bincount((idx + offsets).ravel(), minlength=idx.shape[0] * n)
        yield flat.reshape(idx.shape[0], n).astype(np.float64)


def percentile_interval(replicates: np.ndarray, level: float) -> tuple[float, float, int]:
    """Percentile interval of the finite replicates, and how many replicates were NaN."""
    finite = replicates[np.isfinite(replicates)]
    missing = len(replicates) - len(finite)
    if len(finite) == 0:
        return math.nan, math.nan, missing
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    return float(low), float(high), missing


def check_bootstrap(n_boot: int, level: float) -> None:
    """ValueError unless ``n_boot`` >= 0 and 0 < ``level`` < 1."""
    if n_boot < 0:
        raise ValueError(f"n_boot must be >= 0, got {n_boot}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}")


def bootstrap_ci(
    statistic: Callable[..., float],
    *arrays: Sequence[float] | np.ndarray,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(*arrays)``, resampling items (rows) jointly.

    One call of ``statistic`` per resample: general, not fast; `bootstrap_mos` and
    `mean_replicates` use counts instead, drawing the very same resamples for the same seed.
    Resamples where the statistic is NaN are left out; (NaN, NaN) if all are.
    """
    check_bootstrap(n_boot, level)
    data = [np.asarray(a) for a in arrays]
    if not data:
        raise ValueError("bootstrap_ci needs at least one array to resample")
    n = same_length(**{f"array {i}": a for i, a in enumerate(data)})
    if n == 0 or n_boot == 0:
        return math.nan, math.nan
    draws = as_generator(rng)
    replicates = [
        float(statistic(*(a[row] for a in data)))
        for chunk in index_chunks(n, n_boot, draws)
        for row in chunk
    ]
    low, high, _ = percentile_interval(np.asarray(replicates), level)
    return low, high


def mos_replicates(
    pred: np.ndarray, true: np.ndarray, n_boot: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """The five MOS metrics on ``n_boot`` resamples of the items."""
    parts = [mos_metrics_counts(pred, true, counts) for counts in count_chunks(len(pred), n_boot, rng)]
    return {name: np.concatenate([p[name] for p in parts]) for name in MOS_METRICS}


def bootstrap_mos(
    pred: Sequence[float] | np.ndarray,
    true: Sequence[float] | np.ndarray,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = None,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals of all five MOS metrics, from one set of resamples.

    Vectorised: about 0.1 to 0.4 s for 1000 resamples of 1000 items on 2 CPU cores, 1 s for 3000
    items, 2.5 s for 10,000.
    """
    check_bootstrap(n_boot, level)
    p = as_scores(pred, "pred")
    t = as_scores(true, "true")
    n = same_length(pred=p, true=t)
    if n == 0 or n_boot == 0:
        return {name: (math.nan, math.nan) for name in MOS_METRICS}
    replicates = mos_replicates(p, t, n_boot, as_generator(rng))
    return {name: percentile_interval(replicates[name], level)[:2] for name in MOS_METRICS}


def mean_replicates(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``values`` (per unit, or (units, k) for k figures sharing the units) over resamples."""
    n = len(values)
    parts = [counts @ values / n for counts in count_chunks(n, n_boot, rng)]
    return np.concatenate(parts) if parts else np.empty((0,) + values.shape[1:])
