"""`sesqa evaluate --kfold K`: the paper's K-fold cross-validation on one MOS data set.

The labels are split into K folds disjoint by system (by file when no system is known), each
fold trains a model on the other K-1 (`sesqa.trainer.train`, into ``<runs>/fold-k/``, validating
on the held-out fold for its logs), its final weights (``last.ckpt``, never the best-on-held-out
one) score the held-out fold, and the report pools all held-out predictions, with per-fold
figures beside.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .config import EvaluateConfig
from .figures import plot_predictor
from .inputs import (
    EvaluateInputs,
    open_scorer,
    read_inputs,
    score_audio,
    show_first,
)
from .joins import (
    bootstrap_kwargs,
    evaluate_joined,
    join_all,
    join_labels_checked,
)
from .peer_run import run_peer
from .report import evaluate
from .results import (
    EvaluationRun,
    FoldResult,
    PredictorReport,
    csv_text,
    write_atomic,
)

log = logging.getLogger(__name__)


def assign_folds(keys: Sequence[str], k: int, seed: int) -> np.ndarray:
    """Fold (0..k-1) of each item: its group (``keys``: system, or file) goes whole to one fold.

    Groups are shuffled by a seeded Generator, then dealt largest first to the fold holding the
    fewest items, so folds are disjoint by group and about equal in size.
    """
    names, inverse, sizes = np.unique(np.asarray(keys, dtype=str), return_inverse=True, return_counts=True)
    if len(names) < k:
        raise ValueError(f"{k} folds need at least {k} groups; the labels have {len(names)}")
    order = np.random.default_rng(seed).permutation(len(names))
    order = order[np.argsort(-sizes[order], kind="stable")]
    load = np.zeros(k, dtype=np.int64)
    fold_of_group = np.empty(len(names), dtype=np.int64)
    for group in order:
        fold = int(np.argmin(load))
        fold_of_group[group] = fold
        load[fold] += sizes[group]
    return fold_of_group[inverse]


def run_kfold(config: EvaluateConfig, peer: Any) -> EvaluationRun:
    """Train, score and evaluate every fold (module docstring), then the pooled held-out predictions."""
    from ..trainer import TrainConfig, train
    from ..trainer.loop import LAST

    assert config.labels is not None and config.kfold is not None
    inputs = read_inputs(config)
    labels = [row for row in inputs.labels or () if inputs.audio[row.path].is_file()]
    missing = [row.path for row in inputs.labels or () if not inputs.audio[row.path].is_file()]
    if missing:
        log.warning("%s: %d of %d labelled files do not exist and are left out: %s", config.labels, len(missing), len(missing) + len(labels), show_first(missing))
    by_system = any(row.system for row in labels)
    keys = [row.system or f"file:{row.path}" for row in labels] if by_system else [row.path for row in labels]
    try:
        folds = assign_folds(keys, config.kfold, config.seed)
    except ValueError as e:
        raise ValueError(f"{config.labels}: {e} ({'systems' if by_system else 'files'})") from None
    runs = config.runs_dir
    pooled: dict[str, float] = {}
    results: list[FoldResult] = []
    written: list[Path] = []
    for k in range(config.kfold):
        fold_dir = runs / f"fold-{k + 1}"
        train_rows = [row for row, f in zip(labels, folds, strict=True) if f != k]
        test_rows = [row for row, f in zip(labels, folds, strict=True) if f == k]
        train_csv, test_csv = fold_dir / "mos-train.csv", fold_dir / "mos-test.csv"
        for path, rows in ((train_csv, train_rows), (test_csv, test_rows)):
            write_atomic(path, csv_text(("path", "mos", "system"), ((inputs.audio[r.path].resolve(), r.mos, r.system or "") for r in rows)))
        train_config = TrainConfig(
            out=fold_dir,
            shards=config.train_shards,
            mos=(train_csv,),
            valid_mos=(test_csv,),
            init=Path(config.init) if config.init is not None else None,
            steps=config.steps,
            batch_size=config.train_batch_size,
            model_preset=config.model_size,
            seed=config.seed,
            device=config.device,
            precision=config.train_precision,
        )
        log.info("fold %d of %d: training on %d items, holding out %d, in %s", k + 1, config.kfold, len(train_rows), len(test_rows), fold_dir)
        train(train_config, resume=(fold_dir / LAST).is_file(), progress=config.progress)
        scorer = open_scorer(config, fold_dir / LAST)
        held_out = {row.path: inputs.audio[row.path] for row in test_rows}
        scores, _, _ = score_audio(scorer, held_out)
        write_atomic(fold_dir / "predictions.csv", csv_text(("path", "score"), ((p, f"{s:.6f}") for p, s in scores.items())))
        pooled |= scores
        joined = join_labels_checked(scores, test_rows, f"fold {k + 1}", Path(config.labels), "prediction")
        report = evaluate(mos=(joined.pred, joined.mos, joined.systems), **bootstrap_kwargs(config))
        results.append(FoldResult(k + 1, len(train_rows), len(test_rows), fold_dir, report))
    write_atomic(runs / "predictions.csv", csv_text(("path", "score"), ((p, f"{s:.6f}") for p, s in pooled.items())))
    written.append(runs / "predictions.csv")
    pooled_inputs = EvaluateInputs(tuple(labels), None, None, {row.path: inputs.audio[row.path] for row in labels})
    scored = join_all(pooled, pooled_inputs, config, "k-fold held-out predictions", "prediction")
    description = f"sesqa, {config.kfold}-fold cross-validation, pooled held-out predictions"
    note = f"each item scored by the model of the fold that held it out; folds split by {'system' if by_system else 'file'}"
    reports = [PredictorReport("sesqa", description, evaluate_joined(scored, None, config), (note,))]
    plots = plot_predictor(config, "sesqa-kfold", scored, None, None) if config.plot is not None else []
    if peer is not None:
        peer_report, peer_plots, peer_files = run_peer(peer, pooled_inputs, config, labels_only=True)
        reports.append(peer_report)
        plots += peer_plots
        written += peer_files
    return EvaluationRun(tuple(reports), tuple(results), "system" if by_system else "file", scored.unmatched, tuple(plots), tuple(written))


def fold_table(folds: Sequence[FoldResult]) -> str:
    """The per-fold table of a k-fold run: sizes and utterance-level L_MOS, LCC, SRCC, KTAU."""
    names = ("l_mos", "lcc", "srcc", "ktau")
    header = f"{'fold':>4} {'train':>6} {'test':>6}  " + "  ".join(f"{n.upper():>7}" for n in names)
    lines = [header, "-" * len(header)]
    for fold in folds:
        values = []
        for n in names:
            estimate = fold.report.get(n, "utterance")
            values.append("nan" if estimate is None or not math.isfinite(estimate.value) else f"{estimate.value:.4f}")
        lines.append(f"{fold.fold:>4} {fold.n_train:>6} {fold.n_test:>6}  " + "  ".join(f"{v:>7}" for v in values))
    return "\n".join(lines)


__all__ = ["assign_folds", "fold_table", "run_kfold"]
