"""One predictor's file scores joined to `sesqa evaluate`'s inputs (labels, pairs, strengths), then evaluated.

Nothing matching is an error naming both sides; partial matches are warned about and counted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .inputs import SHOW_FIRST, EvaluateInputs, show_first
from ...measures.report import EvaluationReport, evaluate
from .tables import LabelJoin, LabelRow, PairRow, join_labels, join_pairs

if TYPE_CHECKING:
    from .config import EvaluateConfig

log = logging.getLogger(__name__)


def join_labels_checked(scores: dict[str, float], labels: Sequence[LabelRow], source: str, labels_path: Path, who: str) -> LabelJoin:
    """Scores joined to labels; warns about what is unmatched; ValueError when nothing matches."""
    joined = join_labels(scores, labels)
    if not len(joined.paths):
        raise ValueError(
            f"{source}: none of its {len(scores)} {who}s matches any of the {len(labels)} labels in {labels_path} "
            f"(first labels: {show_first([r.path for r in labels], 3)}; first scored: {show_first(list(scores), 3)})"
        )
    if joined.unmatched_labels:
        log.warning("%s: %d of %d labels have no %s and are left out: %s", labels_path, len(joined.unmatched_labels), len(labels), who, show_first(joined.unmatched_labels))
    return joined


def _join_pairs_checked(scores: dict[str, float], pairs: Sequence[PairRow], source: str, pairs_path: Path, who: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Scores of the better and worse file of each matched pair, and how many pairs lack one."""
    joined = join_pairs(scores, pairs)
    if not len(joined.s_better):
        raise ValueError(
            f"{source}: no pair of {pairs_path} has {who} for both files "
            f"(first pair: {pairs[0].better}, {pairs[0].worse}; first scored: {show_first(list(scores), 3)})"
        )
    if joined.unmatched_pairs:
        shown = [f"{p.better} > {p.worse}" for p in joined.unmatched_pairs]
        log.warning("%s: %d of %d pairs lack %s for a file and are left out: %s", pairs_path, len(shown), len(pairs), who, show_first(shown))
    return joined.s_better, joined.s_worse, len(joined.unmatched_pairs)


@dataclass
class JoinedScores:
    """One predictor's file scores joined to the inputs, ready for `evaluate`."""

    mos: LabelJoin | None = None
    pairs: tuple[np.ndarray, np.ndarray] | None = None
    strengths: LabelJoin | None = None
    unmatched: dict[str, Any] = field(default_factory=dict)


def join_all(scores: dict[str, float], inputs: EvaluateInputs, config: EvaluateConfig, source: str, who: str) -> JoinedScores:
    """``scores`` joined to every input; warns about what is unmatched and records it."""
    scored = JoinedScores()
    if inputs.labels is not None:
        assert config.labels is not None
        scored.mos = join_labels_checked(scores, inputs.labels, source, config.labels, who)
        left = scored.mos.unmatched_predictions
        if left and inputs.pairs is None and inputs.strengths is None:
            log.warning("%s: %d of %d %ss match no label: %s", source, len(left), len(scores), who, show_first(left))
        scored.unmatched |= {
            "labels_without_prediction": len(scored.mos.unmatched_labels),
            "predictions_without_label": len(scored.mos.unmatched_predictions),
            "first_labels_without_prediction": list(scored.mos.unmatched_labels[:SHOW_FIRST]),
        }
    if inputs.pairs is not None:
        assert config.pairs is not None
        better, worse, missing = _join_pairs_checked(scores, inputs.pairs, source, config.pairs, who)
        scored.pairs = (better, worse)
        scored.unmatched["pairs_without_predictions"] = missing
    if inputs.strengths is not None:
        assert config.strengths is not None
        joined = join_labels(scores, inputs.strengths)
        if joined.unmatched_labels:
            log.warning("%s: %d files have no %s and are left out of the strength figure: %s", config.strengths, len(joined.unmatched_labels), who, show_first(joined.unmatched_labels))
        scored.strengths = joined
    return scored


def evaluate_joined(scored: JoinedScores, quadruples: np.ndarray | None, config: EvaluateConfig) -> EvaluationReport:
    """`evaluate` on the joined scores (and quadruple frame scores), with ``config``'s bootstrap."""
    return evaluate(
        mos=(scored.mos.pred, scored.mos.mos, scored.mos.systems) if scored.mos is not None else None,
        pairs=scored.pairs,
        quadruples=tuple(quadruples.T) if quadruples is not None else None,
        **bootstrap_kwargs(config),
    )


def bootstrap_kwargs(config: EvaluateConfig) -> dict[str, Any]:
    """``config``'s bootstrap settings, as `evaluate` takes them."""
    return {"n_boot": config.n_boot, "level": config.level, "seed": config.seed}


__all__ = ["JoinedScores", "bootstrap_kwargs", "evaluate_joined", "join_all", "join_labels_checked"]
