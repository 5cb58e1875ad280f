"""`sesqa evaluate --kfold K`: the paper's K-fold cross-validation on a MOS list (one or more sets).

The labels are split into K folds disjoint by system (by file when no system is known), within
each MOS set (the list's ``dataset`` column) so that every fold holds out part of every set; a list
with a ``fold`` column (TCD-VoIP's talker folds, `sesqa.corpora.tcd_voip`) brings its own K folds
instead (`listed_folds`). Each
fold trains a model on the other K-1 (`sesqa.trainer.train`, into ``<runs>/fold-k/``, with the
``jnd`` pair lists if given, validating on the held-out fold for its logs), its final weights
(``last.ckpt``, never the best-on-held-out one) score the held-out fold, and the report gives the
paper's L_MOS, R_RANK, L_CONS and E_TOTAL (`held_out`: how R_RANK and L_CONS are built from
held-out files) with LCC, SRCC and KTAU: pooled over folds, per fold, per set and averaged over
sets when there are several. ``<runs>/figures.csv`` holds every figure.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..run.config import EvaluateConfig
from ..run.figures import plot_predictor
from ..run.inputs import (
    EvaluateInputs,
    open_scorer,
    read_inputs,
    score_audio,
    show_first,
)
from ..run.joins import (
    bootstrap_kwargs,
    join_all,
    join_labels_checked,
)
from .held_out import (
    FIGURES_HEADER,
    MAX_DELAY_S,
    NO_SET,
    NOTICEABLE_MOS_GAP,
    FigureUnits,
    crop_scores,
    figures_rows,
    fold_table,
)
from ..run.peer import run_peer
from ...measures.report import average_over_sets
from ..run.results import (
    EvaluationRun,
    FoldResult,
    PredictorReport,
    csv_text,
    write_atomic,
)
from ..run.tables import LabelJoin, LabelRow

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


def split_folds(labels: Sequence[LabelRow], k: int, seed: int, by_system: bool, several: bool) -> np.ndarray:
    """Fold of each label: `assign_folds` within each MOS set (so every fold holds out part of each),
    by system (by file when no system is known)."""
    folds = np.empty(len(labels), dtype=np.int64)
    names = [_set_name(row) for row in labels]
    for name in sorted(set(names)):
        idx = [i for i, n in enumerate(names) if n == name]
        keys = [labels[i].system or f"file:{labels[i].path}" for i in idx] if by_system else [labels[i].path for i in idx]
        try:
            folds[idx] = assign_folds(keys, k, seed)
        except ValueError as e:
            raise ValueError(f"{e} ({'systems' if by_system else 'files'}{f' of set {name}' if several else ''})") from None
    return folds


def listed_folds(labels: Sequence[LabelRow], k: int) -> np.ndarray | None:
    """Fold (0..k-1) of each label from the list's ``fold`` column; None when no row has one.

    Folds are numbered in the order of their names (numerically when every name is a whole
    number). ValueError when only some rows have a fold, or the column names other than ``k`` folds.
    """
    given = [row.fold for row in labels]
    if not any(given):
        return None
    missing = [row.path for row in labels if not row.fold]
    if missing:
        raise ValueError(f"{len(missing)} of {len(labels)} labels have no fold while the others have one (first: {missing[0]}); give every row a fold, or none")
    names = sorted({str(f) for f in given}, key=lambda f: (0, int(f), f) if f.isdigit() else (1, 0, f))
    if len(names) != k:
        raise ValueError(f"the labels' fold column names {len(names)} folds ({', '.join(names)}), not {k}: give --kfold {len(names)}")
    index = {name: i for i, name in enumerate(names)}
    return np.asarray([index[str(f)] for f in given], dtype=np.int64)


def _set_name(row: LabelRow) -> str:
    return row.dataset or NO_SET


def _fold_units(
    scorer: Any, joined: LabelJoin, rows: Sequence[LabelRow], audio: dict[str, Path], durations: dict[str, float], seed: tuple[int, int], several: bool,
) -> dict[str, FigureUnits]:  # fmt: skip
    """The figure units (`held_out`) of one fold's held-out files, per MOS set."""
    set_of = {row.path: _set_name(row) for row in rows}
    names = [set_of[p] for p in joined.paths]
    s_k, s_l = crop_scores(scorer, [audio[p] for p in joined.paths], [durations.get(p) for p in joined.paths], np.random.default_rng([*seed, 1]))
    pair_rng = np.random.default_rng([*seed, 0])
    units: dict[str, FigureUnits] = {}
    for name in sorted(set(names)):
        idx = np.asarray([i for i, n in enumerate(names) if n == name])
        systems = [joined.systems[i] and (f"{name}/{joined.systems[i]}" if several else joined.systems[i]) for i in idx]
        units[name] = FigureUnits.build(joined.pred[idx], joined.mos[idx], systems, s_k[idx], s_l[idx], pair_rng)
    return units


def run_kfold(config: EvaluateConfig, peer: Any) -> EvaluationRun:
    """Train, score and evaluate every fold (module docstring), then the pooled held-out predictions."""
    from ...trainer import TrainConfig, train
    from ...trainer.loop import LAST

    assert config.labels is not None and config.kfold is not None
    inputs = read_inputs(config)
    labels = [row for row in inputs.labels or () if inputs.audio[row.path].is_file()]
    missing = [row.path for row in inputs.labels or () if not inputs.audio[row.path].is_file()]
    if missing:
        log.warning("%s: %d of %d labelled files do not exist and are left out: %s", config.labels, len(missing), len(missing) + len(labels), show_first(missing))
    by_system = any(row.system for row in labels)
    several = len({_set_name(row) for row in labels}) > 1
    try:
        given = listed_folds(labels, config.kfold)
        folds = given if given is not None else split_folds(labels, config.kfold, config.seed, by_system, several)
    except ValueError as e:
        raise ValueError(f"{config.labels}: {e}") from None
    groups = "the list's fold column" if given is not None else "system" if by_system else "file"
    runs = config.runs_dir
    boot = bootstrap_kwargs(config)
    pooled: dict[str, float] = {}
    results: list[FoldResult] = []
    written: list[Path] = []
    units: dict[str, list[FigureUnits]] = {}
    notes: list[str] = []
    for k in range(config.kfold):
        fold_dir = runs / f"fold-{k + 1}"
        train_rows = [row for row, f in zip(labels, folds, strict=True) if f != k]
        test_rows = [row for row, f in zip(labels, folds, strict=True) if f == k]
        train_csv, test_csv = fold_dir / "mos-train.csv", fold_dir / "mos-test.csv"
        for path, rows in ((train_csv, train_rows), (test_csv, test_rows)):
            write_atomic(path, csv_text(("path", "mos", "system", "dataset"), ((inputs.audio[r.path].resolve(), r.mos, r.system or "", r.dataset or "") for r in rows)))
        train_config = TrainConfig(
            out=fold_dir,
            shards=config.train_shards,
            mos=(train_csv,),
            valid_mos=(test_csv,),
            jnd=config.jnd,
            loss_weights=config.loss_weights,
            lr=TrainConfig.lr if config.train_lr is None else config.train_lr,
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
        scores, scored_files, _ = score_audio(scorer, held_out)
        write_atomic(fold_dir / "predictions.csv", csv_text(("path", "score"), ((p, f"{s:.6f}") for p, s in scores.items())))
        pooled |= scores
        joined = join_labels_checked(scores, test_rows, f"fold {k + 1}", Path(config.labels), "prediction")
        durations = {name: result.duration_s for name, result in scored_files.items()}
        fold_units = _fold_units(scorer, joined, test_rows, inputs.audio, durations, (config.seed, k), several)
        for name, part in fold_units.items():
            units.setdefault(name, []).append(part)
            notes += [n for n in [part.sampled_note(f"fold {k + 1}" + (f", set {name}" if several else ""))] if n]
        report = FigureUnits.concat(list(fold_units.values())).evaluate(boot)
        sets = tuple((name, part.evaluate(boot)) for name, part in fold_units.items()) if several else ()
        results.append(FoldResult(k + 1, len(train_rows), len(test_rows), fold_dir, report, sets))
    write_atomic(runs / "predictions.csv", csv_text(("path", "score"), ((p, f"{s:.6f}") for p, s in pooled.items())))
    written.append(runs / "predictions.csv")
    pooled_inputs = EvaluateInputs(tuple(labels), None, None, {row.path: inputs.audio[row.path] for row in labels})
    scored = join_all(pooled, pooled_inputs, config, "k-fold held-out predictions", "prediction")
    everything = FigureUnits.concat([part for parts in units.values() for part in parts])
    description = f"sesqa, {config.kfold}-fold cross-validation, pooled held-out predictions" + (f" of all {len(units)} sets" if several else "")
    note = f"each item scored by the model of the fold that held it out; folds split by {groups}" + (" within each set" if several and given is None else "")
    reports = [PredictorReport("sesqa", description, everything.evaluate(boot), (note, *_figure_notes(everything), *notes))]
    if several:
        per_set = [(name, FigureUnits.concat(parts).evaluate(boot)) for name, parts in units.items()]
        reports += [PredictorReport(f"sesqa [{name}]", f"sesqa, {config.kfold}-fold cross-validation, pooled held-out predictions of set {name}", r) for name, r in per_set]
        average = average_over_sets([r for _, r in per_set], [name for name, _ in per_set])
        reports.append(PredictorReport("sesqa [average]", f"sesqa, {config.kfold}-fold cross-validation, the mean of the {len(per_set)} sets' figures (the paper's tables)", average))
    written.append(_write_figures(runs / "figures.csv", results, reports))
    plots = plot_predictor(config, "sesqa-kfold", scored, None, None) if config.plot is not None else []
    if peer is not None:
        peer_report, peer_plots, peer_files = run_peer(peer, pooled_inputs, config, labels_only=True)
        reports.append(peer_report)
        plots += peer_plots
        written += peer_files
    return EvaluationRun(tuple(reports), tuple(results), groups, scored.unmatched, tuple(plots), tuple(written))


def _figure_notes(units: FigureUnits) -> list[str]:
    """What R_RANK and L_CONS of a k-fold run rest on (`held_out`)."""
    crops = int(np.count_nonzero(units.noticeable == 0))
    return [
        f"R_RANK over {len(units.better)} pairs of held-out files with different MOS (within each fold and set; equal MOS left out)",
        f"L_CONS over {crops} crop pairs (two 1 s crops per file, a delay uniform in (0, {MAX_DELAY_S * 1000:g} ms) apart; "
        f"files shorter than 1 s + delay zero-padded; noticeable = 0) and {len(units.noticeable) - crops} file pairs "
        f"with MOS at least {NOTICEABLE_MOS_GAP:g} apart, one per file (noticeable = 1)",
    ]


def _write_figures(path: Path, folds: Sequence[FoldResult], reports: Sequence[PredictorReport]) -> Path:
    """Every figure of the run as CSV rows: per fold (per set, then all), pooled (all, per set), the average."""
    rows = []
    for fold in folds:
        for name, report in (*fold.sets, ("all", fold.report)):
            rows += figures_rows(f"fold-{fold.fold}", name, report)
    for predictor in reports:
        name = predictor.name.removeprefix("sesqa [").removesuffix("]") if predictor.name != "sesqa" else "all"
        rows += figures_rows("average" if name == "average" else "pooled", name, predictor.report)
    write_atomic(path, csv_text(FIGURES_HEADER, rows))
    return path


__all__ = ["assign_folds", "fold_table", "listed_folds", "run_kfold", "split_folds"]
