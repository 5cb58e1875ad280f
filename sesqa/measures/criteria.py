"""The paper's measures, and the formulas the training losses share with them.

Two layers, so the loss a model is trained with and the figure it is evaluated on cannot drift
apart:

- Per-item formulas (`mos_error`, `rank_hinge`, `wrong_order`, `quadruple_wrong_order`, `apart`,
  `quadruple_consistency`, `pair_consistency`, `e_total`), written once for numpy arrays and
  torch tensors alike (only `abs`, `-`, `+`, `*`, `<=`, `.clip` and `/`): the losses in
  `sesqa.trainer.losses` call them on tensors, the measures below on arrays.
- The measures (SPEC section 7): L_MOS (`l_mos`), R_RANK (`r_rank`, `r_rank_quadruples`),
  L_CONS (`l_cons_quadruples`, `l_cons_pairs`) and E_TOTAL (`e_total`), as point values over
  numpy arrays with their input checks (`as_scores`, `same_length`, `as_noticeable`). Used by
  trainer validation and by `sesqa evaluate`; bootstrap intervals are evaluation's
  (`sesqa.measures.bootstrap`).

Only numpy is imported here; torch is never imported, tensors just flow through the formulas.

L_CONS in the paper reads 1/4 (|s_k - s_l| + |(s_ik - s_jk) - (s_il - s_jl)|)
+ 1/(2 beta) (1 - min(|s_i - s_j|, beta)). Its second term can never fall below
(1 - beta) / (2 beta) = 4.5 at beta = 0.1, which cannot give the paper's reported L_CONS of 0.067,
so we use beta - min(...) instead of 1 - min(...): the same gradient, a perfect model scores 0.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import numpy as np

ALPHA = 0.3
"""Margin of the ranking loss on generated pairs."""
BETA = 0.1
"""Minimum score gap between perceptually different signals."""

A = TypeVar("A")  # numpy.ndarray or torch.Tensor (or float, where noted)

# ----------------------------------------------------------------------------- per-item formulas


def mos_error(s: A, mos: A) -> A:
    """|s - s*|, elementwise: L_MOS per item (the MOS loss and the L_MOS figure are its mean)."""
    return abs(s - mos)


def rank_hinge(s_better: A, s_worse: A, margin: A | float = ALPHA) -> A:
    """max(0, s_worse - s_better + margin), elementwise."""
    return (s_worse - s_better + margin).clip(min=0.0)


def wrong_order(s_better: A, s_worse: A) -> A:
    """1 where a pair is not strictly in the right order (s_better <= s_worse), else 0."""
    return (s_better <= s_worse) * 1.0


def quadruple_wrong_order(s_ik: A, s_il: A, s_jk: A, s_jl: A) -> A:
    """Per quadruple: the share of its two pairs (x_ik vs x_jk, x_il vs x_jl) in the wrong order."""
    return (wrong_order(s_ik, s_jk) + wrong_order(s_il, s_jl)) / 2.0


def apart(s_u: A, s_v: A, beta: float = BETA) -> A:
    """(beta - min(|s_u - s_v|, beta)) / (2 beta): penalises perceptibly different signals scored alike."""
    return (beta - abs(s_u - s_v).clip(max=beta)) / (2.0 * beta)


def quadruple_consistency(s_ik: A, s_il: A, s_jk: A, s_jl: A, beta: float = BETA) -> A:
    """L_CONS of each quadruple.

    1/4 (|s_ik - s_il| + |s_jk - s_jl| + |(s_ik - s_jk) - (s_il - s_jl)|): frames a few ms apart
    score alike, and so do their differences; plus the mean of `apart` over the two
    (x_i, x_j) pairs (k and l), which are always perceptibly different.
    """
    same = abs(s_ik - s_il) + abs(s_jk - s_jl) + abs((s_ik - s_jk) - (s_il - s_jl))
    return same / 4.0 + (apart(s_ik, s_jk, beta) + apart(s_il, s_jl, beta)) / 2.0


def pair_consistency(s_u: A, s_v: A, noticeable: A, beta: float = BETA) -> A:
    """L_CONS of human-judged pairs: |s_u - s_v| / 4 where no difference was heard, `apart` where one was."""
    return noticeable * apart(s_u, s_v, beta) + (1.0 - noticeable) * abs(s_u - s_v) / 4.0


def e_total(l_mos: A, r_rank: A, l_cons: A) -> A:
    """E_TOTAL = 0.5 L_MOS + R_RANK + L_CONS (floats, or arrays of bootstrap replicates).

    NaN when any part is NaN (a part is missing).
    """
    return 0.5 * l_mos + r_rank + l_cons


# ----------------------------------------------------------------------------- input checks


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


def as_noticeable(values: Any) -> np.ndarray:
    """JND labels as 0.0/1.0, or ValueError: anything but 0/1 is not a JND judgement."""
    array = as_scores(values, "noticeable")
    if not np.all((array == 0.0) | (array == 1.0)):
        raise ValueError("noticeable: JND labels must be 0 (no difference heard) or 1")
    return array


def quadruple_arrays(s_ik: Any, s_il: Any, s_jk: Any, s_jl: Any) -> tuple[np.ndarray, ...]:
    """The four frame scores of N quadruples as checked arrays of equal length (ik, il, jk, jl)."""
    arrays = {
        name: as_scores(a, name)
        for name, a in (("s_ik", s_ik), ("s_il", s_il), ("s_jk", s_jk), ("s_jl", s_jl))
    }
    same_length(**arrays)
    return tuple(arrays.values())


# ----------------------------------------------------------------------------- the measures


def l_mos(pred: Any, true: Any) -> float:
    """L_MOS: the mean of `mos_error` (mean absolute error); NaN without items."""
    p = as_scores(pred, "pred")
    t = as_scores(true, "true")
    if same_length(pred=p, true=t) == 0:
        return math.nan
    return float(np.mean(mos_error(p, t)))


def r_rank(s_better: Any, s_worse: Any) -> float:
    """R_RANK: the ratio of pairs not strictly in the right order (a tie counts as wrong)."""
    b = as_scores(s_better, "s_better")
    w = as_scores(s_worse, "s_worse")
    if same_length(s_better=b, s_worse=w) == 0:
        return math.nan
    return float(np.mean(wrong_order(b, w)))


def r_rank_quadruples(s_ik: Any, s_il: Any, s_jk: Any, s_jl: Any) -> float:
    """R_RANK over the 2 N pairs of N quadruples, x_i (the better signal) against x_j."""
    ik, il, jk, jl = quadruple_arrays(s_ik, s_il, s_jk, s_jl)
    return float(np.mean(quadruple_wrong_order(ik, il, jk, jl))) if len(ik) else math.nan


def l_cons_quadruples(s_ik: Any, s_il: Any, s_jk: Any, s_jl: Any, beta: float = BETA) -> float:
    """L_CONS: mean of `quadruple_consistency` over quadruples (x_i/x_j, frames k/l)."""
    ik, il, jk, jl = quadruple_arrays(s_ik, s_il, s_jk, s_jl)
    return float(np.mean(quadruple_consistency(ik, il, jk, jl, beta))) if len(ik) else math.nan


def l_cons_pairs(s_u: Any, s_v: Any, noticeable: Any, beta: float = BETA) -> float:
    """L_CONS on JND pairs: mean of `pair_consistency` (noticeable = 1 or 0)."""
    u = as_scores(s_u, "s_u")
    v = as_scores(s_v, "s_v")
    jnd = as_noticeable(noticeable)
    if same_length(s_u=u, s_v=v, noticeable=jnd) == 0:
        return math.nan
    return float(np.mean(pair_consistency(u, v, jnd, beta)))
