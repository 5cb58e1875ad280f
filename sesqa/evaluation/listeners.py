"""How well predictors agree with listeners on a rated set, side by side (benchmarks/listeners.py).

One `ListenerFigures` per predictor, from its scores of the set's files and the files' MOS,
condition and degradation type (`sesqa.labels.MosItem`: ``system`` is the condition):

- per file and per condition (a condition's mean score against its mean MOS, as P.1401 and the
  VoiceMOS system level take it): PCC, SRCC, and the RMSE after P.1401's first-order map to MOS
  (`sesqa.measures.p1401`), which puts every predictor on the set's own MOS scale first;
- L_MOS: the raw mean absolute error against MOS, no map (the paper's L_MOS; a predictor whose
  scale sits off the set's pays for it here and not above);
- R_RANK: the share of file pairs with different MOS that the predictor orders wrongly, a tie
  counting as wrong (`criteria.r_rank`); all pairs up to `MAX_RANK_PAIRS`, a seeded sample above;
- SRCC within each degradation type: does it order the files of one kind of damage as listeners do.

Figures that need two items (or two different scores) are NaN when there are not enough.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..measures.criteria import as_scores, l_mos, r_rank, same_length
from .kfold.held_out import MAX_RANK_PAIRS, mos_pairs
from ..measures.mos_metrics import mos_metrics, system_level
from ..measures.p1401 import rmse_after_map

PAIR_SEED = 0
"""Seed of the R_RANK pair sample when a set has more than `MAX_RANK_PAIRS` pairs."""


@dataclass(frozen=True)
class Agreement:
    """PCC, SRCC and RMSE after the first-order map, over ``n`` points (files or conditions)."""

    n: int
    pcc: float
    srcc: float
    rmse: float


@dataclass(frozen=True)
class ListenerFigures:
    """One predictor's agreement with listeners on one rated set (module docstring)."""

    files: Agreement
    conditions: Agreement
    l_mos: float
    r_rank: float
    rank_pairs: int
    """Pairs R_RANK rests on (files with different MOS; a sample above `MAX_RANK_PAIRS`)."""
    by_type: tuple[tuple[str, int, float], ...]
    """(degradation type, files, SRCC within it), sorted by type."""

    def type_srcc(self) -> dict[str, float]:
        return {name: srcc for name, _, srcc in self.by_type}


def agreement(score: Sequence[float] | np.ndarray, mos: Sequence[float] | np.ndarray) -> Agreement:
    """PCC, SRCC (scipy's pearsonr and spearmanr) and P.1401's RMSE after the first-order map."""
    s = as_scores(score, "score")
    m = as_scores(mos, "mos")
    n = same_length(score=s, mos=m)
    if n == 0:
        return Agreement(0, math.nan, math.nan, math.nan)
    figures = mos_metrics(s, m)
    return Agreement(n, figures["lcc"], figures["srcc"], rmse_after_map(s, m))


def listener_figures(
    score: Sequence[float] | np.ndarray,
    mos: Sequence[float] | np.ndarray,
    conditions: Sequence[str | None],
    types: Sequence[str | None],
) -> ListenerFigures:  # fmt: skip
    """Every figure of the module docstring for one predictor's scores of a set's files.

    A file without a condition is its own condition; files without a type are left out of the
    per-type figures only.
    """
    s = as_scores(score, "score")
    m = as_scores(mos, "mos")
    n = same_length(score=s, mos=m)
    if len(conditions) != n or len(types) != n:
        raise ValueError(f"conditions ({len(conditions)}) and types ({len(types)}) must name each of the {n} files")
    groups = [c if c else f"file {i}" for i, c in enumerate(conditions)]
    per_condition = agreement(*system_level(s, m, groups)[:2]) if n else Agreement(0, math.nan, math.nan, math.nan)
    better, worse, total = mos_pairs(m, MAX_RANK_PAIRS, np.random.default_rng(PAIR_SEED))
    by_type = []
    for name in sorted({t for t in types if t}):
        idx = np.asarray([i for i, t in enumerate(types) if t == name])
        by_type.append((name, len(idx), agreement(s[idx], m[idx]).srcc))
    return ListenerFigures(
        files=agreement(s, m),
        conditions=per_condition,
        l_mos=l_mos(s, m),
        r_rank=r_rank(s[better], s[worse]),
        rank_pairs=min(total, MAX_RANK_PAIRS),
        by_type=tuple(by_type),
    )


def _cell(value: float, width: int, digits: int = 3) -> str:
    return f"{'n/a':>{width}}" if math.isnan(value) else f"{value:>{width}.{digits}f}"


def figures_table(rows: Sequence[tuple[str, ListenerFigures]]) -> str:
    """The predictors' figures as aligned text: per file, per condition, L_MOS and R_RANK."""
    width = max([9, *(len(name) for name, _ in rows)])
    head = f"{'predictor':<{width}} {'files':>5} {'PCC':>6} {'SRCC':>6} {'RMSE':>6} | {'conds':>5} {'PCC':>6} {'SRCC':>6} {'RMSE':>6} | {'L_MOS':>6} {'R_RANK':>6}"
    block = 5 + 3 * 7
    lines = [f"{'':<{width}} {'per file':^{block}} | {'per condition':^{block}} | {'no map':^13}", head, "-" * len(head)]
    for name, f in rows:
        a, c = f.files, f.conditions
        lines.append(
            f"{name:<{width}} {a.n:>5} {_cell(a.pcc, 6)} {_cell(a.srcc, 6)} {_cell(a.rmse, 6)} | "
            f"{c.n:>5} {_cell(c.pcc, 6)} {_cell(c.srcc, 6)} {_cell(c.rmse, 6)} | {_cell(f.l_mos, 6)} {_cell(f.r_rank, 6)}"
        )
    pairs = rows[0][1].rank_pairs if rows else 0
    lines.append(f"RMSE after P.1401's first-order map to MOS; L_MOS = mean |score - MOS|; R_RANK = share of the {pairs} file pairs with different MOS in the wrong order (a tie counts as wrong)")
    return "\n".join(lines)


def types_table(rows: Sequence[tuple[str, ListenerFigures]]) -> str:
    """SRCC within each degradation type, one column per predictor (files per type beside it)."""
    names = sorted({t for _, f in rows for t, _, _ in f.by_type})
    if not names:
        return "(no degradation types in the labels)"
    counts = {t: n for _, f in rows for t, n, _ in f.by_type}
    width = max([max(len(n) for n in names), 4])
    cols = [max(len(name), 6) for name, _ in rows]
    lines = [f"{'type':<{width}} {'files':>5} " + " ".join(f"{name:>{w}}" for (name, _), w in zip(rows, cols))]
    lines.append("-" * len(lines[0]))
    for t in names:
        cells = " ".join(_cell(f.type_srcc().get(t, math.nan), w) for (_, f), w in zip(rows, cols))
        lines.append(f"{t:<{width}} {counts[t]:>5} {cells}")
    return "\n".join(lines)


__all__ = ["PAIR_SEED", "Agreement", "ListenerFigures", "agreement", "figures_table", "listener_figures", "types_table"]
