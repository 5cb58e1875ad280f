"""The evaluation report of SESQA (SPEC section 7) and of the VoiceMOS challenge (section 8).

Every figure the data allow, each with a percentile-bootstrap confidence interval (`bootstrap`):

- MOS labels: L_MOS (mean absolute error), MSE, LCC (Pearson), SRCC (Spearman, ties get their
  average rank) and KTAU (Kendall tau-b, as ``scipy.stats.kendalltau``), at utterance level and
  at system level (per-system means of predictions and of labels), from `mos_metrics`.
- ordered pairs: R_RANK, the ratio of wrongly ordered pairs (``criteria.wrong_order``).
- quadruples: L_CONS (``criteria.quadruple_consistency``) and R_RANK over both frame pairs
  (``criteria.quadruple_wrong_order``); JND pairs: L_CONS (``criteria.pair_consistency``).
- E_TOTAL = 0.5 L_MOS + R_RANK + L_CONS (``criteria.e_total``).

The point measures themselves live in `criteria`, shared with trainer validation; this module
adds the intervals and assembles the report; `report_format` writes it as text and JSON. A report
keeps the bootstrap replicates of E_TOTAL and its parts, so that `average_over_sets` can average
the paper's figures over MOS sets (its Tables 1 and 4) with an interval.

E_TOTAL needs all three parts: where L_MOS, R_RANK or L_CONS is missing (no such data, or the
figure is undefined), E_TOTAL is NaN and its note names the missing parts, so a partial sum is
never shown next to the paper's 0.394. Its interval resamples each data source independently
(MOS items, ordered pairs, quadruples, JND pairs) and adds the parts per resample; R_RANK and
L_CONS taken from the same quadruples are resampled jointly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .criteria import (
    BETA,
    as_noticeable,
    as_scores,
    e_total,
    pair_consistency,
    quadruple_arrays,
    quadruple_consistency,
    quadruple_wrong_order,
    same_length,
    wrong_order,
)
from .bootstrap import as_generator, check_bootstrap, mean_replicates, mos_replicates, percentile_interval
from .mos_metrics import MOS_METRICS, mos_metrics, system_level, undefined_reasons

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
    replicates: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    """Bootstrap replicates of the parts E_TOTAL was built from and of E_TOTAL itself (by metric
    name), so that figures of several data sets can be averaged with an interval
    (`average_over_sets`); empty without resamples."""

    def get(self, name: str, level: str | None = None) -> Estimate | None:
        """The first estimate of metric ``name`` (at ``level`` if given), or None."""
        for row in self.estimates:
            if row.name == name and (level is None or row.level == level):
                return row
        return None


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
    low, high, missing = percentile_interval(replicates, confidence)
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
    replicates = mos_replicates(pred, true, n_boot, rng) if n and n_boot else None
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
    p = as_scores(pred, "pred")
    t = as_scores(true, "true")
    n = same_length(pred=p, true=t)
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
    check_bootstrap(n_boot, level)
    report, _ = _mos_report(pred, true, systems, n_boot, level, as_generator(rng))
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
    check_bootstrap(n_boot, level)
    rng = as_generator(seed)
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
        better = as_scores(pairs[0], "s_better")
        worse = as_scores(pairs[1], "s_worse")
        n = same_length(s_better=better, s_worse=worse)
        wrong = wrong_order(better, worse)
        value = float(np.mean(wrong)) if n else math.nan
        reps = mean_replicates(wrong, n_boot, rng) if n and n_boot else None
        rows.append(_estimate("r_rank", "pairs", value, reps, level, n, "" if n else "no pairs"))
        rank_source["pairs"] = (value, reps)
        counts["pairs"] = n
    if quadruples is not None:
        ik, il, jk, jl = quadruple_arrays(*quadruples)
        n = len(ik)
        per_unit = np.stack(
            [quadruple_wrong_order(ik, il, jk, jl), quadruple_consistency(ik, il, jk, jl, beta)], axis=1
        )
        value_rank, value_cons = (float(v) for v in per_unit.mean(axis=0)) if n else (math.nan, math.nan)
        reps = mean_replicates(per_unit, n_boot, rng) if n and n_boot else None
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
        u = as_scores(jnd[0], "s_u")
        v = as_scores(jnd[1], "s_v")
        heard = as_noticeable(jnd[2])
        n = same_length(s_u=u, s_v=v, noticeable=heard)
        per_pair = pair_consistency(u, v, heard, beta)
        value = float(np.mean(per_pair)) if n else math.nan
        reps = mean_replicates(per_pair, n_boot, rng) if n and n_boot else None
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
    kept = {p: r for p in ("l_mos", "r_rank", "l_cons") if p in used and (r := replicates.get(p)) is not None}
    if len(kept) == 3:
        kept["e_total"] = e_total(kept["l_mos"], kept["r_rank"], kept["l_cons"])
    return EvaluationReport(
        tuple(rows), level, n_boot, None if isinstance(seed, np.random.Generator) else seed, report, counts, kept
    )


PAPER_FIGURES = ("l_mos", "r_rank", "l_cons", "e_total")
"""The paper's four figures (Tables 1 and 4), in its order."""


def paper_figure(report: EvaluationReport, name: str) -> Estimate | None:
    """The estimate of one of `PAPER_FIGURES` that E_TOTAL is built from: L_MOS at utterance level,
    R_RANK and L_CONS from the source `evaluate` chose (quadruples first), E_TOTAL."""
    if name == "l_mos":
        return report.get("l_mos", "utterance")
    if name == "e_total":
        return report.get("e_total")
    for level in ("quadruples", "pairs", "jnd"):
        found = report.get(name, level)
        if found is not None:
            return found
    return None


def average_over_sets(reports: Sequence[EvaluationReport], names: Sequence[str]) -> EvaluationReport:
    """The paper's figures averaged over data sets (its Tables 1 and 4: the mean of each set's figure).

    Each set was resampled on its own, so replicate b of the average is the mean of the sets'
    replicates b: the interval of a mean of independent estimates. NaN where a set lacks the figure.
    """
    if not reports or len(reports) != len(names):
        raise ValueError(f"average_over_sets needs one name per report, got {len(reports)} reports and {len(names)} names")
    confidence, n_boot = reports[0].confidence, reports[0].n_boot
    note = f"mean over {len(reports)} sets ({', '.join(names)}), each resampled on its own"
    rows, kept = [], {}
    for name in PAPER_FIGURES:
        found = [paper_figure(r, name) for r in reports]
        value = float(np.mean([e.value for e in found])) if all(e is not None for e in found) else math.nan
        parts = [r.replicates.get(name) for r in reports]
        reps = None
        if math.isfinite(value) and all(p is not None and len(p) == n_boot for p in parts):
            reps = kept[name] = np.mean(np.stack(parts), axis=0)  # type: ignore[arg-type]
        missing = [n for n, e in zip(names, found) if e is None or not math.isfinite(e.value)]
        why = f"; undefined in {', '.join(missing)}" if missing else ""
        rows.append(_estimate(name, "average", value, reps, confidence, 0, note + why))
    return EvaluationReport(tuple(rows), confidence, n_boot, reports[0].seed, None, {"sets": len(reports)}, kept)


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
    combined = None if any(r is None for r in reps) else e_total(*reps)
    sources = ", ".join(f"{DISPLAY_NAMES[p]} ({used[p]})" for p in parts)
    note = f"from {sources}; each data source resampled independently"
    return _estimate("e_total", "overall", value, combined, confidence, 0, note)
