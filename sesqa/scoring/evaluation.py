"""Evaluation metrics of SESQA (SPEC section 7) and of the VoiceMOS challenge (section 8).

Pure functions over numpy arrays of scores:

- MOS labels: L_MOS (mean absolute error), MSE, LCC (Pearson), SRCC (Spearman, ties get their
  average rank) and KTAU (Kendall tau-b, as ``scipy.stats.kendalltau``), at utterance level and
  at system level (per-system means of predictions and of labels).
- ordered pairs: R_RANK, the ratio of wrongly ordered pairs (``criteria.wrong_order``).
- quadruples: L_CONS (``criteria.quadruple_consistency``) and R_RANK over both frame pairs
  (x_ik vs x_jk, x_il vs x_jl); JND pairs: L_CONS (``criteria.pair_consistency``).
- E_TOTAL = 0.5 L_MOS + R_RANK + L_CONS.

Every figure comes with a percentile-bootstrap confidence interval. The five MOS metrics are
computed from resample *counts* (how often each item was drawn), so all resamples are evaluated
at once with matrix products instead of one Python call per resample; the same code path with
all counts 1 gives the point estimates, which the tests check against scipy.

E_TOTAL needs all three parts: where L_MOS, R_RANK or L_CONS is missing (no such data, or the
figure is undefined), E_TOTAL is NaN and its note names the missing parts, so a partial sum is
never shown next to the paper's 0.394. Its interval resamples each data source independently
(MOS items, ordered pairs, quadruples, JND pairs) and adds the parts per resample; R_RANK and
L_CONS taken from the same quadruples are resampled jointly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from sesqa.criteria import BETA, pair_consistency, quadruple_consistency, wrong_order

MOS_METRICS: tuple[str, ...] = ("l_mos", "mse", "lcc", "srcc", "ktau")
"""Metric names of `mos_metrics`, in display order."""

DISPLAY_NAMES: dict[str, str] = {
    "l_mos": "L_MOS",
    "mse": "MSE",
    "lcc": "LCC",
    "srcc": "SRCC",
    "ktau": "KTAU",
    "r_rank": "R_RANK",
    "l_cons": "L_CONS",
    "e_total": "E_TOTAL",
}

_CHUNK_ELEMENTS = 2_000_000
"""Resample-by-item elements handled at once: bounds memory (about 16 MB per float64 matrix)."""

_KENDALL_MATRIX_MAX = 3000
"""Up to this many items KTAU is computed for all resamples at once, in O(n_boot n^2) flops
(0.05 s for 1000 x 1000 items); above it, by scipy's O(n log n) kendalltau once per resample
(2.5 s for 1000 x 10,000 items), which is faster there."""


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Estimate:
    """One figure: its point value, its bootstrap interval and how many units it rests on.

    ``level`` says where the figure comes from: "utterance" or "system" (MOS labels), "pairs"
    (ordered pairs), "quadruples" (generated quadruples), "jnd" (JND pairs), "overall" (E_TOTAL).
    ``n`` counts the units that were resampled (items, systems, pairs, quadruples). ``note``
    says why a value or interval is NaN, or what to keep in mind when reading it.
    """

    name: str
    level: str
    value: float
    low: float
    high: float
    n: int
    note: str = ""

    @property
    def display_name(self) -> str:
        """The paper's name of the metric (L_MOS, R_RANK, ...)."""
        return DISPLAY_NAMES.get(self.name, self.name.upper())


@dataclass(frozen=True)
class MosReport:
    """MOS metrics at utterance and system level, with intervals and counts.

    ``system`` is empty when no item has a system id. ``n_without_system`` items had none and
    were left out of the system level.
    """

    utterance: tuple[Estimate, ...]
    system: tuple[Estimate, ...]
    n_items: int
    n_systems: int
    n_without_system: int = 0

    def get(self, name: str, level: str = "utterance") -> Estimate:
        """The estimate of metric ``name`` ("l_mos", "srcc", ...) at ``level``."""
        rows = self.utterance if level == "utterance" else self.system
        for row in rows:
            if row.name == name:
                return row
        raise KeyError(f"no MOS metric {name!r} at level {level!r}")


@dataclass(frozen=True)
class EvaluationReport:
    """All figures of one evaluation run, in display order, E_TOTAL last.

    ``confidence`` is the interval's coverage (0.95), ``n_boot`` the number of resamples
    (0 means no intervals), ``seed`` what the resampling generator was seeded with (None when a
    Generator was passed in).
    """

    estimates: tuple[Estimate, ...]
    confidence: float
    n_boot: int
    seed: int | None
    mos: MosReport | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def get(self, name: str, level: str | None = None) -> Estimate | None:
        """The first estimate of metric ``name`` (at ``level`` if given), or None."""
        for row in self.estimates:
            if row.name == name and (level is None or row.level == level):
                return row
        return None


# ----------------------------------------------------------------------------- input checks


def _as_scores(values: Any, name: str) -> np.ndarray:
    """A 1-D float64 array of finite scores, or ValueError naming ``name``."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of scores, got shape {array.shape}")
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise ValueError(f"{name}: {bad} of {array.size} values are not finite numbers")
    return array


def _same_length(**arrays: np.ndarray) -> int:
    """The common length of ``arrays``, or ValueError naming the lengths."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"arrays differ in length: {detail}")
    return next(iter(lengths.values()))


# ----------------------------------------------------------------------------- MOS metrics


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


def _mos_metrics_counts(pred: np.ndarray, true: np.ndarray, counts: np.ndarray) -> dict[str, np.ndarray]:
    """The five MOS metrics for each row of resample ``counts`` (B, n), each row summing to n."""
    n = len(pred)
    counts = counts.astype(np.float64, copy=False)
    err = pred - true
    out = {
        "l_mos": counts @ np.abs(err) / n,
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
    if n <= _KENDALL_MATRIX_MAX:
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
    p = _as_scores(pred, "pred")
    t = _as_scores(true, "true")
    n = _same_length(pred=p, true=t)
    if n == 0:
        return {name: math.nan for name in MOS_METRICS}
    values = _mos_metrics_counts(p, t, np.ones((1, n)))
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
    p = _as_scores(pred, "pred")
    t = _as_scores(true, "true")
    ids = np.asarray([str(s) for s in systems], dtype=object)
    _same_length(pred=p, true=t, systems=ids)
    names, inverse = np.unique(ids.astype(str), return_inverse=True)
    sizes = np.bincount(inverse, minlength=len(names)).astype(np.float64)
    pred_means = np.bincount(inverse, weights=p, minlength=len(names)) / sizes
    true_means = np.bincount(inverse, weights=t, minlength=len(names)) / sizes
    return pred_means, true_means, tuple(str(s) for s in names)


# ----------------------------------------------------------------------------- pairs, quadruples


def r_rank(s_better: Sequence[float] | np.ndarray, s_worse: Sequence[float] | np.ndarray) -> float:
    """R_RANK: the ratio of pairs not strictly in the right order (a tie counts as wrong)."""
    b = _as_scores(s_better, "s_better")
    w = _as_scores(s_worse, "s_worse")
    if _same_length(s_better=b, s_worse=w) == 0:
        return math.nan
    return float(np.mean(wrong_order(b, w)))


def _quadruple_wrong(s_ik: np.ndarray, s_il: np.ndarray, s_jk: np.ndarray, s_jl: np.ndarray) -> np.ndarray:
    """Per quadruple: the share of its two pairs (frame k, frame l) scored in the wrong order."""
    return (wrong_order(s_ik, s_jk) + wrong_order(s_il, s_jl)) / 2.0


def _quadruple_arrays(s_ik: Any, s_il: Any, s_jk: Any, s_jl: Any) -> tuple[np.ndarray, ...]:
    arrays = {
        name: _as_scores(a, name)
        for name, a in (("s_ik", s_ik), ("s_il", s_il), ("s_jk", s_jk), ("s_jl", s_jl))
    }
    _same_length(**arrays)
    return tuple(arrays.values())


def r_rank_quadruples(s_ik: Any, s_il: Any, s_jk: Any, s_jl: Any) -> float:
    """R_RANK over the 2 N pairs of N quadruples, x_i (the better signal) against x_j."""
    ik, il, jk, jl = _quadruple_arrays(s_ik, s_il, s_jk, s_jl)
    return float(np.mean(_quadruple_wrong(ik, il, jk, jl))) if len(ik) else math.nan


def l_cons_quadruples(s_ik: Any, s_il: Any, s_jk: Any, s_jl: Any, beta: float = BETA) -> float:
    """L_CONS: mean of `criteria.quadruple_consistency` over quadruples (x_i/x_j, frames k/l)."""
    ik, il, jk, jl = _quadruple_arrays(s_ik, s_il, s_jk, s_jl)
    return float(np.mean(quadruple_consistency(ik, il, jk, jl, beta))) if len(ik) else math.nan


def _as_noticeable(values: Any) -> np.ndarray:
    """JND labels as 0.0/1.0, or ValueError: anything but 0/1 is not a JND judgement."""
    array = _as_scores(values, "noticeable")
    if not np.all((array == 0.0) | (array == 1.0)):
        raise ValueError("noticeable: JND labels must be 0 (no difference heard) or 1")
    return array


def l_cons_pairs(s_u: Any, s_v: Any, noticeable: Any, beta: float = BETA) -> float:
    """L_CONS on JND pairs: mean of `criteria.pair_consistency` (noticeable = 1 or 0)."""
    u = _as_scores(s_u, "s_u")
    v = _as_scores(s_v, "s_v")
    jnd = _as_noticeable(noticeable)
    if _same_length(s_u=u, s_v=v, noticeable=jnd) == 0:
        return math.nan
    return float(np.mean(pair_consistency(u, v, jnd, beta)))


def e_total(l_mos: float, r_rank: float, l_cons: float) -> float:
    """E_TOTAL = 0.5 L_MOS + R_RANK + L_CONS; NaN when any part is NaN (a part is missing)."""
    return 0.5 * l_mos + r_rank + l_cons


# ----------------------------------------------------------------------------- bootstrap


def _generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """``rng`` itself, or a Generator seeded with it (None means seed 0: results stay repeatable)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(0 if rng is None else rng)


def _index_chunks(n: int, n_boot: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Resample indices (rows of n draws with replacement), a bounded block of rows at a time."""
    rows = max(1, _CHUNK_ELEMENTS // max(n, 1))
    done = 0
    while done < n_boot:
        size = min(rows, n_boot - done)
        yield rng.integers(0, n, size=(size, n))
        done += size


def _count_chunks(n: int, n_boot: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """The same resamples as `_index_chunks`, as counts: how often each item was drawn."""
    for idx in _index_chunks(n, n_boot, rng):
        offsets = (np.arange(idx.shape[0]) * n)[:, None]
        flat = np.bincount((idx + offsets).ravel(), minlength=idx.shape[0] * n)
        yield flat.reshape(idx.shape[0], n).astype(np.float64)


def _percentile_interval(replicates: np.ndarray, level: float) -> tuple[float, float, int]:
    """Percentile interval of the finite replicates, and how many replicates were NaN."""
    finite = replicates[np.isfinite(replicates)]
    missing = len(replicates) - len(finite)
    if len(finite) == 0:
        return math.nan, math.nan, missing
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    return float(low), float(high), missing


def _check_bootstrap(n_boot: int, level: float) -> None:
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

    One call of ``statistic`` per resample: general, not fast; the evaluation functions below
    use counts-based resampling instead, drawing the very same resamples for the same seed.
    Resamples where the statistic is NaN are left out; (NaN, NaN) if all are.
    """
    _check_bootstrap(n_boot, level)
    data = [np.asarray(a) for a in arrays]
    if not data:
        raise ValueError("bootstrap_ci needs at least one array to resample")
    n = _same_length(**{f"array {i}": a for i, a in enumerate(data)})
    if n == 0 or n_boot == 0:
        return math.nan, math.nan
    generator = _generator(rng)
    replicates = [
        float(statistic(*(a[row] for a in data)))
        for chunk in _index_chunks(n, n_boot, generator)
        for row in chunk
    ]
    low, high, _ = _percentile_interval(np.asarray(replicates), level)
    return low, high


def _mos_replicates(
    pred: np.ndarray, true: np.ndarray, n_boot: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """The five MOS metrics on ``n_boot`` resamples of the items."""
    parts = [_mos_metrics_counts(pred, true, counts) for counts in _count_chunks(len(pred), n_boot, rng)]
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
    _check_bootstrap(n_boot, level)
    p = _as_scores(pred, "pred")
    t = _as_scores(true, "true")
    n = _same_length(pred=p, true=t)
    if n == 0 or n_boot == 0:
        return {name: (math.nan, math.nan) for name in MOS_METRICS}
    replicates = _mos_replicates(p, t, n_boot, _generator(rng))
    return {name: _percentile_interval(replicates[name], level)[:2] for name in MOS_METRICS}


def _mean_replicates(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``values`` (per unit, or (units, k) for k figures sharing the units) over resamples."""
    n = len(values)
    parts = [counts @ values / n for counts in _count_chunks(n, n_boot, rng)]
    return np.concatenate(parts) if parts else np.empty((0,) + values.shape[1:])


# ----------------------------------------------------------------------------- reports


def _estimate(
    name: str,
    level: str,
    value: float,
    replicates: np.ndarray | None,
    confidence: float,
    n: int,
    note: str = "",
) -> Estimate:
    """An Estimate with the percentile interval of ``replicates`` (None: no bootstrap)."""
    if replicates is None or len(replicates) == 0:
        return Estimate(name, level, value, math.nan, math.nan, n, note)
    low, high, missing = _percentile_interval(replicates, confidence)
    if missing and math.isfinite(value):
        extra = f"{missing} of {len(replicates)} resamples undefined, left out of the interval"
        note = f"{note}; {extra}" if note else extra
    return Estimate(name, level, value, low, high, n, note)


def _mos_block(
    pred: np.ndarray,
    true: np.ndarray,
    level: str,
    unit: str,
    n_boot: int,
    confidence: float,
    rng: np.random.Generator,
) -> tuple[tuple[Estimate, ...], np.ndarray | None]:
    """Estimates of the five MOS metrics on one level, and the L_MOS replicates."""
    n = len(pred)
    values = mos_metrics(pred, true)
    reasons = undefined_reasons(pred, true)
    replicates = _mos_replicates(pred, true, n_boot, rng) if n and n_boot else None
    if n == 2:
        for name in ("lcc", "srcc", "ktau"):
            reasons.setdefault(name, f"only 2 {unit}s: a correlation is +-1 by construction")
    rows = tuple(
        _estimate(
            name,
            level,
            values[name],
            None if replicates is None else replicates[name],
            confidence,
            n,
            reasons.get(name, ""),
        )
        for name in MOS_METRICS
    )
    return rows, None if replicates is None else replicates["l_mos"]


def _mos_report(
    pred: Any,
    true: Any,
    systems: Sequence[str | None] | None,
    n_boot: int,
    confidence: float,
    rng: np.random.Generator,
) -> tuple[MosReport, np.ndarray | None]:
    p = _as_scores(pred, "pred")
    t = _as_scores(true, "true")
    n = _same_length(pred=p, true=t)
    utterance, l_mos_replicates = _mos_block(p, t, "utterance", "item", n_boot, confidence, rng)
    if systems is None:
        return MosReport(utterance, (), n, 0, n), l_mos_replicates
    ids = list(systems)
    if len(ids) != n:
        raise ValueError(f"systems has {len(ids)} entries for {n} scores")
    has = np.asarray([s is not None and str(s) != "" for s in ids], dtype=bool)
    n_without = int(n - has.sum())
    if not has.any():
        return MosReport(utterance, (), n, 0, n_without), l_mos_replicates
    pred_means, true_means, names = system_level(p[has], t[has], [str(s) for s, h in zip(ids, has) if h])
    system, _ = _mos_block(pred_means, true_means, "system", "system", n_boot, confidence, rng)
    if n_without:
        note = f"{n_without} items without a system id left out"
        system = tuple(
            Estimate(e.name, e.level, e.value, e.low, e.high, e.n, f"{e.note}; {note}" if e.note else note)
            for e in system
        )
    return MosReport(utterance, system, n, len(names), n_without), l_mos_replicates


def mos_report(
    pred: Sequence[float] | np.ndarray,
    true: Sequence[float] | np.ndarray,
    systems: Sequence[str | None] | None = None,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = None,
) -> MosReport:
    """MOS metrics at utterance level (resampling items) and system level (resampling systems).

    ``systems`` gives each item's system id (None or "" for none); items without one count at
    utterance level only.
    """
    _check_bootstrap(n_boot, level)
    report, _ = _mos_report(pred, true, systems, n_boot, level, _generator(rng))
    return report


def evaluate(
    *,
    mos: tuple[Any, Any] | tuple[Any, Any, Sequence[str | None] | None] | None = None,
    pairs: tuple[Any, Any] | None = None,
    quadruples: tuple[Any, Any, Any, Any] | None = None,
    jnd: tuple[Any, Any, Any] | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int | np.random.Generator = 0,
    beta: float = BETA,
) -> EvaluationReport:
    """Every figure the given data allow, with bootstrap intervals, and E_TOTAL.

    ``mos`` = (pred, true[, systems]); ``pairs`` = (s_better, s_worse); ``quadruples`` =
    (s_ik, s_il, s_jk, s_jl) with x_i the better signal; ``jnd`` = (s_u, s_v, noticeable).
    E_TOTAL takes L_MOS at utterance level, R_RANK from quadruples (else from pairs) and L_CONS
    from quadruples (else from JND pairs); it is NaN, with a note, unless all three exist.
    """
    _check_bootstrap(n_boot, level)
    rng = _generator(seed)
    rows: list[Estimate] = []
    counts: dict[str, int] = {}
    replicates: dict[str, np.ndarray | None] = {}
    values: dict[str, float] = {}

    report = None
    if mos is not None:
        pred, true = mos[0], mos[1]
        systems = mos[2] if len(mos) > 2 else None
        report, replicates["l_mos"] = _mos_report(pred, true, systems, n_boot, level, rng)
        rows.extend(report.utterance + report.system)
        values["l_mos"] = report.get("l_mos").value
        counts |= {"mos_items": report.n_items, "systems": report.n_systems}

    rank_source: dict[str, tuple[float, np.ndarray | None]] = {}
    cons_source: dict[str, tuple[float, np.ndarray | None]] = {}
    if pairs is not None:
        better = _as_scores(pairs[0], "s_better")
        worse = _as_scores(pairs[1], "s_worse")
        n = _same_length(s_better=better, s_worse=worse)
        wrong = wrong_order(better, worse)
        value = float(np.mean(wrong)) if n else math.nan
        reps = _mean_replicates(wrong, n_boot, rng) if n and n_boot else None
        rows.append(_estimate("r_rank", "pairs", value, reps, level, n, "" if n else "no pairs"))
        rank_source["pairs"] = (value, reps)
        counts["pairs"] = n
    if quadruples is not None:
        ik, il, jk, jl = _quadruple_arrays(*quadruples)
        n = len(ik)
        per_unit = np.stack(
            [_quadruple_wrong(ik, il, jk, jl), quadruple_consistency(ik, il, jk, jl, beta)], axis=1
        )
        value_rank, value_cons = (float(v) for v in per_unit.mean(axis=0)) if n else (math.nan, math.nan)
        reps = _mean_replicates(per_unit, n_boot, rng) if n and n_boot else None
        note = "" if n else "no quadruples"
        rows.append(
            _estimate(
                "r_rank", "quadruples", value_rank, None if reps is None else reps[:, 0], level, n, note
            )
        )
        rows.append(
            _estimate(
                "l_cons", "quadruples", value_cons, None if reps is None else reps[:, 1], level, n, note
            )
        )
        rank_source["quadruples"] = (value_rank, None if reps is None else reps[:, 0])
        cons_source["quadruples"] = (value_cons, None if reps is None else reps[:, 1])
        counts["quadruples"] = n
    if jnd is not None:
        u = _as_scores(jnd[0], "s_u")
        v = _as_scores(jnd[1], "s_v")
        heard = _as_noticeable(jnd[2])
        n = _same_length(s_u=u, s_v=v, noticeable=heard)
        per_pair = pair_consistency(u, v, heard, beta)
        value = float(np.mean(per_pair)) if n else math.nan
        reps = _mean_replicates(per_pair, n_boot, rng) if n and n_boot else None
        rows.append(_estimate("l_cons", "jnd", value, reps, level, n, "" if n else "no JND pairs"))
        cons_source["jnd"] = (value, reps)
        counts["jnd_pairs"] = n

    used: dict[str, str] = {"l_mos": "utterance"}
    for name, source in (("r_rank", rank_source), ("l_cons", cons_source)):
        for key in ("quadruples", "pairs", "jnd"):
            if key in source:
                values[name], replicates[name] = source[key]
                used[name] = key
                break
    rows.append(_e_total_estimate(values, replicates, used, level))
    return EvaluationReport(
        tuple(rows), level, n_boot, None if isinstance(seed, np.random.Generator) else seed, report, counts
    )


def _e_total_estimate(
    values: dict[str, float],
    replicates: dict[str, np.ndarray | None],
    used: dict[str, str],
    confidence: float,
) -> Estimate:
    """E_TOTAL from the chosen parts, NaN with the missing parts named unless all three exist."""
    parts = ("l_mos", "r_rank", "l_cons")
    missing = [DISPLAY_NAMES[p] for p in parts if not math.isfinite(values.get(p, math.nan))]
    if missing:
        return Estimate(
            "e_total",
            "overall",
            math.nan,
            math.nan,
            math.nan,
            0,
            f"needs L_MOS, R_RANK and L_CONS; missing {', '.join(missing)}",
        )
    value = e_total(values["l_mos"], values["r_rank"], values["l_cons"])
    reps = [replicates.get(p) for p in parts]
    combined = None if any(r is None for r in reps) else 0.5 * reps[0] + reps[1] + reps[2]
    sources = ", ".join(f"{DISPLAY_NAMES[p]} ({used[p]})" for p in parts)
    note = f"from {sources}; each data source resampled independently"
    return _estimate("e_total", "overall", value, combined, confidence, 0, note)


# ----------------------------------------------------------------------------- output


def _format_number(value: float) -> str:
    return "nan" if not math.isfinite(value) else f"{value:.4f}"


def format_report(report: EvaluationReport | MosReport) -> str:
    """A fixed-width table (metric, level, value, interval, n) with notes below it."""
    if isinstance(report, MosReport):
        rows: Sequence[Estimate] = report.utterance + report.system
        confidence = None
    else:
        rows = report.estimates
        confidence = report.confidence
    ci_title = f"{round(100 * confidence):d}% CI" if confidence is not None else "CI"
    header = f"{'metric':<8} {'level':<10} {'value':>8}  {ci_title:<20} {'n':>7}"
    lines = [header, "-" * len(header)]
    notes = []
    for row in rows:
        interval = (
            ""
            if not (math.isfinite(row.low) and math.isfinite(row.high))
            else f"[{_format_number(row.low)}, {_format_number(row.high)}]"
        )
        count = str(row.n) if row.n else ""
        lines.append(
            f"{row.display_name:<8} {row.level:<10} {_format_number(row.value):>8}  {interval:<20} {count:>7}"
        )
        if row.note:
            notes.append(f"  {row.display_name} ({row.level}): {row.note}")
    if notes:
        lines += ["", "notes:", *notes]
    return "\n".join(line.rstrip() for line in lines)


def _json_number(value: float) -> float | None:
    """JSON has no NaN: undefined figures are written as null."""
    return value if math.isfinite(value) else None


def report_to_json(report: EvaluationReport | MosReport) -> dict[str, Any]:
    """A JSON-ready dict of the report (NaN written as null)."""
    rows = report.utterance + report.system if isinstance(report, MosReport) else report.estimates
    metrics = [
        {
            "metric": row.name,
            "level": row.level,
            "value": _json_number(row.value),
            "ci_low": _json_number(row.low),
            "ci_high": _json_number(row.high),
            "n": row.n,
            "note": row.note,
        }
        for row in rows
    ]
    if isinstance(report, MosReport):
        return {
            "metrics": metrics,
            "counts": {
                "mos_items": report.n_items,
                "systems": report.n_systems,
                "without_system": report.n_without_system,
            },
        }
    return {
        "confidence": report.confidence,
        "n_boot": report.n_boot,
        "seed": report.seed,
        "counts": dict(report.counts),
        "metrics": metrics,
    }
