"""The paper's four figures on the held-out files of a k-fold run: L_MOS, R_RANK, L_CONS, E_TOTAL.

A MOS set has no generated quadruples, so R_RANK and L_CONS are built from its files, per fold and
per MOS set (pairs never cross sets: their MOS scales differ), and fed to `sesqa.measures.report.evaluate`,
whose formulas are `sesqa.measures.criteria`'s (the training losses' too):

- L_MOS: file scores against MOS (``mos=``).
- R_RANK: pairs of held-out files ordered by MOS, the higher-rated one "better" (``pairs=``);
  pairs with equal MOS are left out; above `MAX_RANK_PAIRS` pairs a seeded sample of that many
  (drawn without replacement) stands for them, so memory stays bounded.
- L_CONS (``jnd=``, `criteria.pair_consistency`): per file, two 1 s crops (the model's frame) a
  delay drawn uniformly in (0, `MAX_DELAY_S`) apart, like the paper's quadruples, scored by the
  model: noticeable = 0, the term |s_k - s_l| / 4; and per file, one file drawn at random among the
  held-out files of its set whose MOS differs from its by at least `NOTICEABLE_MOS_GAP`: noticeable
  = 1, the term `criteria.apart` on the two file scores. One unit of each kind per file keeps the
  two halves of the paper's L_CONS in balance, as in a quadruple (two frame pairs, two apart pairs).
  A file shorter than 1 s + delay is zero-padded at its end to that length (as the scorer pads a
  file shorter than one frame): both crops then start at its start.
- E_TOTAL = 0.5 L_MOS + R_RANK + L_CONS, by `evaluate`.

Each figure has its bootstrap interval; "pooled" figures rest on the units of every fold together
(each pair within one fold), and the average over sets is the mean of the sets' figures
(`sesqa.measures.report.average_over_sets`), as the paper's tables average over its three MOS sets.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...measures.report import PAPER_FIGURES, EvaluationReport, evaluate, paper_figure
from ..run.results import FoldResult

if TYPE_CHECKING:
    from ...scoring.scorer import Scorer

log = logging.getLogger(__name__)

MAX_RANK_PAIRS = 200_000
"""R_RANK pairs per fold and set: above this, a seeded sample of this many."""
MAX_DELAY_S = 0.1
"""The two crops of a file lie a delay drawn uniformly in (0, 0.1 s) apart (the paper's quadruples)."""
NOTICEABLE_MOS_GAP = 1.0
"""Files whose MOS differ by at least this (one MOS point) count as perceptibly different."""
GAP_TOLERANCE = 1e-9
"""MOS written with decimals (3.6 - 2.6 = 0.99999...) still reach the gap."""
NO_SET = "unnamed"
"""The set name of labels without a ``dataset`` in a list where other rows have one."""


def mos_pairs(mos: np.ndarray, max_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """(better, worse) indices of item pairs with different MOS, and how many such pairs exist.

    All of them when there are at most ``max_pairs``, else a uniform sample of ``max_pairs``
    drawn without replacement from ``rng``; memory stays O(items + max_pairs) either way.
    """
    if max_pairs < 1:
        raise ValueError(f"max_pairs must be >= 1, got {max_pairs}")
    values = np.asarray(mos, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    ranked = values[order]
    lower = np.searchsorted(ranked, ranked, side="left")  # items with strictly lower MOS, per sorted item
    total = int(lower.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), 0
    linear = np.arange(total, dtype=np.int64) if total <= max_pairs else np.sort(rng.choice(total, size=max_pairs, replace=False))
    ends = np.cumsum(lower)
    better = np.searchsorted(ends, linear, side="right")
    worse = linear - (ends[better] - lower[better])
    return order[better], order[worse], total


def noticeable_partners(mos: np.ndarray, rng: np.random.Generator, gap: float = NOTICEABLE_MOS_GAP) -> tuple[np.ndarray, np.ndarray]:
    """(item, partner) indices: per item with any, one item drawn at random whose MOS differs by >= ``gap``."""
    values = np.asarray(mos, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    ranked = values[order]
    below = np.searchsorted(ranked, values - gap + GAP_TOLERANCE, side="right")  # ranked[:below] are far below
    above = np.searchsorted(ranked, values + gap - GAP_TOLERANCE, side="left")  # ranked[above:] are far above
    eligible = below + (len(values) - above)
    draw = np.floor(rng.random(len(values)) * np.maximum(eligible, 1)).astype(np.int64)
    position = np.where(draw < below, draw, above + draw - below)
    items = np.flatnonzero(eligible > 0)
    return items, order[position[items]]


def crop_pair(x: np.ndarray, frame: int, delay: int) -> tuple[np.ndarray, np.ndarray]:
    """Two ``frame``-sample crops of ``x``, ``delay`` samples apart: x[:frame] and x[delay:delay + frame],
    zero-padded at the end when ``x`` is shorter than frame + delay."""
    if frame < 1 or delay < 0:
        raise ValueError(f"crop_pair needs frame >= 1 and delay >= 0, got frame={frame}, delay={delay}")
    need = frame + delay
    if len(x) < need:
        x = np.concatenate([x, np.zeros(need - len(x), dtype=x.dtype)])
    return x[:frame], x[delay:need]


def crop_scores(scorer: Scorer, files: Sequence[Path], durations: Sequence[float | None], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Model scores (s_k, s_l) of two 1 s crops of each file, a delay in (0, `MAX_DELAY_S`) apart.

    The crop pair starts at a point drawn uniformly where it fits (at 0 in a file shorter than
    1 s + delay, zero-padded: `crop_pair`); only that window is read (`sesqa.audio.load`).
    ``durations`` (seconds, None when unknown: the whole file is read) place it. A file that
    cannot be read gets NaN for both.
    """
    from ...audio import AudioError, load

    backend = scorer.backend
    frame, sr = backend.config.frame_samples, backend.config.sample_rate
    crops = np.zeros((len(files), 2, frame), dtype=np.float32)
    ok = np.ones(len(files), dtype=bool)
    for n, (path, duration) in enumerate(zip(files, durations, strict=True)):
        delay = max(1, int(round(rng.uniform(0.0, MAX_DELAY_S) * sr)))
        place = rng.random()
        need_s = (frame + delay) / sr
        try:
            if duration is None:
                x = load(path, sr=sr)
                start = int(place * max(0, len(x) - frame - delay))
                x = x[start : start + frame + delay]
            else:
                x = load(path, sr=sr, offset_s=place * max(0.0, duration - need_s), duration_s=need_s)
        except AudioError as e:
            log.warning("%s: no crops for L_CONS: %s", path, e)
            ok[n] = False
            continue
        crops[n] = crop_pair(x, frame, delay)
    s = np.full((len(files), 2), np.nan)
    batch = max(1, scorer.batch_size // 2)
    for first in range(0, len(files), batch):
        chosen = np.flatnonzero(ok[first : first + batch]) + first
        if len(chosen):
            s[chosen] = backend.frames(crops[chosen].reshape(-1, frame)).score.reshape(-1, 2)
    return s[:, 0], s[:, 1]


@dataclass(frozen=True)
class FigureUnits:
    """What the four figures of one set (or all sets) of held-out files rest on, ready for `evaluate`."""

    pred: np.ndarray
    mos: np.ndarray
    systems: tuple[str | None, ...]
    better: np.ndarray
    worse: np.ndarray
    jnd_u: np.ndarray
    jnd_v: np.ndarray
    noticeable: np.ndarray
    n_pairs_all: int = 0
    """Pairs with different MOS before any sampling (`MAX_RANK_PAIRS`)."""

    @classmethod
    def build(
        cls, pred: np.ndarray, mos: np.ndarray, systems: Sequence[str | None], s_k: np.ndarray, s_l: np.ndarray,
        rng: np.random.Generator, max_pairs: int = MAX_RANK_PAIRS,
    ) -> FigureUnits:  # fmt: skip
        """The units of one fold's held-out files of one set: file scores, MOS and crop scores."""
        pred, mos = np.asarray(pred, np.float64), np.asarray(mos, np.float64)
        better, worse, total = mos_pairs(mos, max_pairs, rng)
        items, partners = noticeable_partners(mos, rng)
        cropped = np.flatnonzero(np.isfinite(s_k) & np.isfinite(s_l))
        return cls(
            pred, mos, tuple(systems), pred[better], pred[worse],
            np.concatenate([np.asarray(s_k, np.float64)[cropped], pred[items]]),
            np.concatenate([np.asarray(s_l, np.float64)[cropped], pred[partners]]),
            np.concatenate([np.zeros(len(cropped)), np.ones(len(items))]), total,
        )  # fmt: skip

    @classmethod
    def concat(cls, parts: Sequence[FigureUnits]) -> FigureUnits:
        """The units of several folds (or sets) together: pooled figures."""
        arrays = {n: np.concatenate([getattr(p, n) for p in parts]) for n in ("pred", "mos", "better", "worse", "jnd_u", "jnd_v", "noticeable")}
        return cls(systems=tuple(s for p in parts for s in p.systems), n_pairs_all=sum(p.n_pairs_all for p in parts), **arrays)

    def evaluate(self, bootstrap: dict[str, Any]) -> EvaluationReport:
        """Every figure of these units, with intervals (``bootstrap``: n_boot, level, seed)."""
        return evaluate(
            mos=(self.pred, self.mos, self.systems), pairs=(self.better, self.worse),
            jnd=(self.jnd_u, self.jnd_v, self.noticeable), **bootstrap,
        )  # fmt: skip

    def sampled_note(self, where: str) -> str | None:
        """A note when R_RANK rests on a sample of the pairs, else None."""
        if len(self.better) >= self.n_pairs_all:
            return None
        return f"R_RANK {where}: a seeded sample of {len(self.better)} of the {self.n_pairs_all} pairs with different MOS (at most {MAX_RANK_PAIRS} per fold and set)"


def _cell(report: EvaluationReport, name: str) -> str:
    """``value [low, high]`` of one paper figure, "nan" when undefined."""
    found = paper_figure(report, name)
    if found is None or not math.isfinite(found.value):
        return "nan"
    if not (math.isfinite(found.low) and math.isfinite(found.high)):
        return f"{found.value:.3f}"
    return f"{found.value:.3f} [{found.low:.3f}, {found.high:.3f}]"


def _number(report: EvaluationReport, name: str) -> str:
    found = report.get(name, "utterance")
    return "nan" if found is None or not math.isfinite(found.value) else f"{found.value:.4f}"


def fold_table(folds: Sequence[FoldResult]) -> str:
    """The per-fold table of a k-fold run: sizes, the paper's four figures with their intervals
    (a row per set when there are several, then the fold's files all together), and utterance-level
    LCC, SRCC, KTAU."""
    set_width = max([3] + [len(name) for fold in folds for name, _ in fold.sets])
    many = any(fold.sets for fold in folds)
    confidence = folds[0].report.confidence if folds else 0.95
    cell = 24
    header = f"{'fold':>4} " + (f"{'set':<{set_width}} " if many else "") + f"{'train':>6} {'test':>6}  "
    header += "  ".join(f"{n.upper():<{cell}}" for n in PAPER_FIGURES) + "  " + "  ".join(f"{n.upper():>7}" for n in ("lcc", "srcc", "ktau"))
    lines = [f"value [{round(100 * confidence)}% interval]; R_RANK on pairs of held-out files, L_CONS on crop and file pairs", header, "-" * len(header)]
    for fold in folds:
        for name, report in (*fold.sets, ("all", fold.report)):
            n_train = fold.n_train if name == "all" else ""
            n_test = fold.n_test if name == "all" else report.counts.get("mos_items", 0)
            line = f"{fold.fold:>4} " + (f"{name:<{set_width}} " if many else "") + f"{n_train:>6} {n_test:>6}  "
            line += "  ".join(f"{_cell(report, n):<{cell}}" for n in PAPER_FIGURES) + "  " + "  ".join(f"{_number(report, n):>7}" for n in ("lcc", "srcc", "ktau"))
            lines.append(line.rstrip())
    return "\n".join(lines)


def figures_rows(scope: str, set_name: str, report: EvaluationReport) -> list[tuple[Any, ...]]:
    """CSV rows (scope, set, metric, level, value, ci_low, ci_high, n, note) of one report."""
    def number(v: float) -> str:
        return f"{v:.6f}" if math.isfinite(v) else ""

    return [(scope, set_name, e.display_name, e.level, number(e.value), number(e.low), number(e.high), e.n, e.note) for e in report.estimates]


FIGURES_HEADER = ("scope", "set", "metric", "level", "value", "ci_low", "ci_high", "n", "note")

__all__ = [
    "FIGURES_HEADER",
    "MAX_DELAY_S",
    "MAX_RANK_PAIRS",
    "NOTICEABLE_MOS_GAP",
    "NO_SET",
    "FigureUnits",
    "crop_pair",
    "crop_scores",
    "figures_rows",
    "fold_table",
    "mos_pairs",
    "noticeable_partners",
]
