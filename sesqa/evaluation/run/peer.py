"""A peer predictor (DNSMOS) on the same files as sesqa, reported beside it by `sesqa evaluate --peer`.

Used by the single run and by k-fold cross-validation (on the pooled held-out files).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .figures import plot_predictor
from .joins import evaluate_joined, join_all
from ..peers import score_with_peer
from .results import PredictorReport, write_scores

if TYPE_CHECKING:
    from .config import EvaluateConfig
    from .inputs import EvaluateInputs

log = logging.getLogger(__name__)


def run_peer(peer: Any, inputs: EvaluateInputs, config: EvaluateConfig, labels_only: bool = False) -> tuple[PredictorReport, list[Path], list[Path]]:
    """The peer's report on the same files (and its figures, and its per-file scores CSV)."""
    if not inputs.audio:
        raise ValueError(f"--peer {peer.name} scores audio files: give --labels or --pairs naming them")
    log.info("scoring %d files with %s", len(inputs.audio), peer.description)
    found = score_with_peer(peer, inputs.audio)
    if not found.scores:
        raise ValueError(f"{peer.name} could not score any of the {len(inputs.audio)} files (first error: {found.errors[0][1]})")
    notes = []
    if config.shards is not None and not labels_only:
        notes.append(f"{peer.name} is not run on shard quadruples (its input is 9 s windows, their frames are 1 s)")
    scored = join_all(found.scores, inputs, config, peer.name, f"{peer.name} score")
    report = PredictorReport(peer.name, peer.description, evaluate_joined(scored, None, config), tuple(notes))
    plots = plot_predictor(config, peer.name, scored, None, None) if config.plot is not None else []
    rows = ((k, *(f"{found.details[k][c]:.6f}" for c in peer.columns)) for k in found.details)
    written = [p for p in [write_scores(config, peer.name, ("path", *peer.columns), rows)] if p]
    return report, plots, written


__all__ = ["run_peer"]
