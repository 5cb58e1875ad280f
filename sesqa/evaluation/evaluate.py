"""`sesqa evaluate`: predictions (or a model) against MOS labels, ordered pairs and quadruple shards.

Inputs, which may be combined (E_TOTAL needs MOS labels and shards together):

- ``labels`` (a MOS CSV, see `sesqa.labels.read_mos`): L_MOS, MSE, LCC, SRCC, KTAU at utterance and
  system level;
- ``pairs`` (``better,worse``): R_RANK;
- ``shards`` (a directory of generated ``<split>-*.tar``): the four 1 s frames of every quadruple
  are scored by the model (`run.shard_scores`), giving R_RANK and L_CONS.

Scores of files come from ``pred`` (a CSV from `sesqa score` or any other tool) or, without it,
from ``model`` (a checkpoint, "default" or None for the packaged one), which scores the audio
the labels and pairs name (`run.inputs`). Shards always need a model: a predictions CSV has
no frame scores, so ``pred`` alone with ``shards`` is refused.

``peer="dnsmos"`` scores the same files with DNSMOS (`run.peer`) and reports it beside, with
the same bootstrap seed (so both predictors are resampled over the same items). DNSMOS is not run
on shard quadruples: its input is 9 s windows, the quadruples' frames are 1 s.

``kfold=K`` runs K-fold cross-validation instead (`kfold.folds`).

Everything lands in an `EvaluationRun`; `format_run` prints it, `run_to_json` is ``--out``.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .run.config import EvaluateConfig
from .run.figures import plot_predictor
from .run.inputs import open_scorer, read_inputs, score_audio, show_first
from .run.joins import evaluate_joined, join_all
from .kfold.folds import fold_table, run_kfold
from .run.peer import run_peer
from .peers import make_peer
from ..measures.report_format import format_report, json_number, report_to_json
from .run.results import EvaluationRun, PredictorReport, write_atomic, write_scores
from .run.shard_scores import TypeFigures, by_first_type, score_shards
from .run.tables import read_predictions

if TYPE_CHECKING:
    from ..scoring.scorer import ScoreResult

log = logging.getLogger(__name__)


def run_evaluate(config: EvaluateConfig) -> EvaluationRun:
    """Evaluate as `config` says (k-fold when ``config.kfold``), write ``out`` and plots, return all."""
    if config.plot is not None:
        from .plots import pyplot

        pyplot()  # fail now, before minutes of scoring, when matplotlib is missing
    peer = make_peer(config.peer) if config.peer is not None else None
    run = run_kfold(config, peer) if config.kfold is not None else _run_once(config, peer)
    if config.out is not None:
        write_atomic(Path(config.out), json.dumps(run_to_json(run, config), indent=2) + "\n")
        run = EvaluationRun(run.predictors, run.folds, run.kfold_groups, run.unmatched, run.plots, (*run.written, Path(config.out)))
    return run


def _run_once(config: EvaluateConfig, peer: Any) -> EvaluationRun:
    """One evaluation of sesqa (from ``pred`` or the model) and the peer on the inputs, no training."""
    inputs = read_inputs(config)
    needs_files = bool(inputs.audio)
    scorer = open_scorer(config) if config.pred is None or config.shards is not None else None
    notes: list[str] = []
    results: dict[str, ScoreResult] | None = None
    written: list[Path] = []
    if config.pred is not None and config.model is not None and config.shards is None:
        log.warning("--model is not used: file scores come from --pred (a model is needed only for --shards)")
    if config.pred is not None:
        scores = read_predictions(config.pred, config.pred_column)
        if not scores:
            raise ValueError(f"{config.pred}: no predictions")
        name, source, description = Path(config.pred).stem, str(config.pred), f"predictions from {config.pred}"
        if scorer is not None:
            notes.append(f"file figures from {config.pred}; quadruple figures from the model")
    else:
        assert scorer is not None
        name, source, description = "sesqa", "the model", f"sesqa, model {config.model or 'default'}"
        scores, results, _ = score_audio(scorer, inputs.audio) if needs_files else ({}, {}, [])
        if needs_files and not scores:
            raise ValueError(f"none of the {len(inputs.audio)} audio files named in the input CSVs could be scored (first: {show_first(list(inputs.audio.values()), 1)})")
        written += [p for p in [write_scores(config, name, ("path", "score"), ((k, f"{v:.6f}") for k, v in scores.items()))] if p]
    scored = join_all(scores, inputs, config, source, "prediction")
    shard_scores = score_shards(scorer, Path(config.shards), config.split, config.max_quadruples) if config.shards is not None and scorer is not None else None
    quadruples = shard_scores.scores if shard_scores is not None else None
    by_type = by_first_type(shard_scores) if shard_scores is not None else ()
    reports = [PredictorReport(name, description, evaluate_joined(scored, quadruples, config), tuple(notes), by_type)]
    plots: list[Path] = []
    if config.plot is not None:
        plots += plot_predictor(config, name, scored, results, shard_scores, scorer)
    if peer is not None:
        peer_report, peer_plots, peer_files = run_peer(peer, inputs, config)
        reports.append(peer_report)
        plots += peer_plots
        written += peer_files
    return EvaluationRun(tuple(reports), unmatched=scored.unmatched, plots=tuple(plots), written=tuple(written))


def format_run(run: EvaluationRun) -> str:
    """The printed report: one metrics table per predictor, then the folds of a k-fold run."""
    blocks = []
    for predictor in run.predictors:
        lines = [f"== {predictor.name}: {predictor.description}", format_report(predictor.report)]
        lines += [f"  note: {n}" for n in predictor.notes]
        if predictor.by_type:
            lines.append(_type_table(predictor.by_type))
        blocks.append("\n".join(lines))
    if run.folds:
        blocks.append(f"== per fold (folds split by {run.kfold_groups})\n" + fold_table(run.folds))
    if run.plots:
        folder = run.plots[0].parent
        blocks.append(f"{len(run.plots)} figures in {folder}")
    if run.written:
        blocks.append("wrote " + ", ".join(str(p) for p in run.written))
    return "\n\n".join(blocks)


def _type_table(rows: tuple[TypeFigures, ...]) -> str:
    """R_RANK and L_CONS per first degradation of x_j, one line per type."""
    width = max(len("type"), *(len(r.type) for r in rows))
    lines = ["", "by the first degradation of x_j (no intervals: few quadruples a type)", f"{'type':<{width}} {'n':>5} {'R_RANK':>7} {'L_CONS':>7}"]
    lines += [f"{r.type:<{width}} {r.n:>5} {r.r_rank:>7.3f} {r.l_cons:>7.3f}" for r in rows]
    return "\n".join(lines)


def run_to_json(run: EvaluationRun, config: EvaluateConfig | None = None) -> dict[str, Any]:
    """A JSON-ready dict: inputs, one entry per predictor (`report_to_json` plus its notes), folds."""
    out: dict[str, Any] = {}
    if config is not None:
        out["inputs"] = {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in (
                ("pred", config.pred), ("model", config.model), ("labels", config.labels), ("pairs", config.pairs),
                ("shards", config.shards), ("split", config.split if config.shards else None), ("peer", config.peer),
                ("kfold", config.kfold), ("runs", config.runs_dir if config.kfold else None),
            )
            if v is not None
        }  # fmt: skip
    out["predictors"] = [
        {
            "name": p.name, "description": p.description, "notes": list(p.notes), **report_to_json(p.report),
            **({"by_type": [{"type": r.type, "n": r.n, "r_rank": json_number(r.r_rank), "l_cons": json_number(r.l_cons)} for r in p.by_type]} if p.by_type else {}),
        }  # fmt: skip
        for p in run.predictors
    ]
    if run.unmatched:
        out["unmatched"] = run.unmatched
    if run.folds:
        out["folds"] = {
            "groups": run.kfold_groups,
            "folds": [
                {"fold": f.fold, "n_train": f.n_train, "n_test": f.n_test, "run": str(f.run_dir), **report_to_json(f.report),
                 **({"sets": {name: report_to_json(r) for name, r in f.sets}} if f.sets else {})}
                for f in run.folds
            ],
        }
    if run.plots:
        out["plots"] = [str(p) for p in run.plots]
    return out


def progress_wanted() -> bool:
    """Progress bars only where someone watches: stderr is a terminal."""
    return sys.stderr.isatty()


__all__ = ["format_run", "progress_wanted", "run_evaluate", "run_to_json"]
