"""The figures `sesqa evaluate --plot DIR` draws for one predictor, named after it, into DIR.

Drawing itself is `evaluation.plots`' (matplotlib, imported on first use).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ...scoring.scorer import Scorer, ScoreResult
    from .config import EvaluateConfig
    from .joins import JoinedScores
    from .shard_scores import ShardScores

log = logging.getLogger(__name__)

TIME_PLOTS_MAX = 50
"""Score-over-time figures drawn at most (one per scored file, in label order)."""


def plot_predictor(
    config: EvaluateConfig,
    name: str,
    scored: JoinedScores,
    results: dict[str, ScoreResult] | None,
    shard_scores: ShardScores | None,
    scorer: Scorer | None = None,
) -> list[Path]:
    """The figures of one predictor in ``config.plot``: ``scatter-<name>.png``, ``strength-<name>-shards.png``,
    ``strength-<name>-list.png``, ``time-<file stem>.png`` (the first TIME_PLOTS_MAX files)."""
    from .. import plots

    assert config.plot is not None
    folder = Path(config.plot)
    tag = plots.safe_name(name)
    written: list[Path] = []
    if scored.mos is not None:
        written.append(plots.plot_scatter(scored.mos.pred, scored.mos.mos, folder / f"scatter-{tag}.png", name, scored.mos.systems))
    if shard_scores is not None and len(shard_scores.scores):
        s = shard_scores.scores
        written.append(
            plots.plot_strength(
                shard_scores.first_type,
                shard_scores.first_strength,
                s[:, 2:].mean(axis=1),
                s[shard_scores.clean_i, :2].mean(axis=1),
                folder / f"strength-{tag}-shards.png",
                f"{name} on {config.split} quadruples",
            )
        )
    if scored.strengths is not None and len(scored.strengths.paths):
        kinds = np.asarray([str(t) for t in scored.strengths.systems], dtype=object)
        is_clean = kinds == "clean"
        if (~is_clean).any():
            written.append(
                plots.plot_strength(
                    list(kinds[~is_clean]),
                    scored.strengths.mos[~is_clean],
                    scored.strengths.pred[~is_clean],
                    scored.strengths.pred[is_clean],
                    folder / f"strength-{tag}-list.png",
                    f"{name} on {Path(config.strengths or '').name}",
                )
            )
    if results:
        used: set[str] = set()
        frame_s = 1.0 if scorer is None else scorer.frame_s
        for n, (key, result) in enumerate(results.items()):
            if n == TIME_PLOTS_MAX:
                log.info("score-over-time figures drawn for the first %d of %d files", TIME_PLOTS_MAX, len(results))
                break
            stem = plots.safe_name(Path(key).stem)
            unique, k = stem, 2
            while unique in used:
                unique, k = f"{stem}_{k}", k + 1
            used.add(unique)
            written.append(plots.plot_time(result, folder / f"time-{unique}.png", frame_s))
    return written


__all__ = ["TIME_PLOTS_MAX", "plot_predictor"]
