"""The paper's ranking and consistency formulas, shared by the training losses and evaluation.

Written once for both numpy arrays and torch tensors (only `abs`, `-`, `.clip` and `/`), so the
loss a model is trained with and the figure it is evaluated on cannot drift apart.

L_CONS in the paper reads 1/4 (|s_k - s_l| + |(s_ik - s_jk) - (s_il - s_jl)|)
+ 1/(2 beta) (1 - min(|s_i - s_j|, beta)). Its second term can never fall below
(1 - beta) / (2 beta) = 4.5 at beta = 0.1, which cannot give the paper's reported L_CONS of 0.067,
so we use beta - min(...) instead of 1 - min(...): the same gradient, a perfect model scores 0.
"""

from __future__ import annotations

from typing import TypeVar

ALPHA = 0.3
"""Margin of the ranking loss on generated pairs."""
BETA = 0.1
"""Minimum score gap between perceptually different signals."""

A = TypeVar("A")  # numpy.ndarray or torch.Tensor


def rank_hinge(s_better: A, s_worse: A, margin: A | float = ALPHA) -> A:
    """max(0, s_worse - s_better + margin), elementwise."""
    return (s_worse - s_better + margin).clip(min=0.0)


def wrong_order(s_better: A, s_worse: A) -> A:
    """1 where a pair is not strictly in the right order (s_better <= s_worse), else 0."""
    return (s_better <= s_worse) * 1.0


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
