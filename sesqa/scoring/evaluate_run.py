"""`sesqa evaluate`: predictions (or a model) against MOS labels, ordered pairs and quadruple shards.

Inputs, which may be combined (E_TOTAL needs MOS labels and shards together):

- ``labels`` (a MOS CSV, see `tables.read_labels`): L_MOS, MSE, LCC, SRCC, KTAU at utterance and
  system level;
- ``pairs`` (``better,worse``): R_RANK;
- ``shards`` (a directory of generated ``<split>-*.tar``): the four 1 s frames of every quadruple
  are scored by the model, giving R_RANK and L_CONS.

Scores of files come from ``pred`` (a CSV from `sesqa score` or any other tool) or, without it,
from ``model`` (a checkpoint, "default" or None for the packaged one), which scores the audio
the labels and pairs name (relative paths resolve against the CSV's folder, then the working
directory, then NISQA's and BVCC's layouts). Shards always need a model: a predictions CSV has
no frame scores, so ``pred`` alone with ``shards`` is refused.

``peer="dnsmos"`` scores the same files with DNSMOS (`peers`) and reports it beside, with the
same bootstrap seed (so both predictors are resampled over the same items). DNSMOS is not run on
shard quadruples: its input is 9 s windows, the quadruples' frames are 1 s.

``kfold=K`` runs the paper's K-fold cross-validation on one MOS data set: the labels are split
into K folds disjoint by system (by file when no system is known), each fold trains a model on
the other K-1 (`sesqa.trainer.train`, into ``<runs>/fold-k/``, validating on the held-out fold
for its logs), its final weights (``last.ckpt``, never the best-on-held-out one) score the
held-out fold, and the report pools all held-out predictions, with per-fold figures beside.

Everything lands in an `EvaluationRun`; `format_run` prints it, `run_to_json` is ``--out``.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .evaluation import EvaluationReport, evaluate, format_report, report_to_json
from .peers import PEERS, make_peer, score_with_peer
from .tables import LabelJoin, LabelRow, PairRow, join_labels, join_pairs, read_labels, read_pairs, read_predictions

if TYPE_CHECKING:
    from .scorer import Scorer, ScoreResult

log = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")
SHOW_FIRST = 5
"""How many unmatched or failed paths a warning names."""
TIME_PLOTS_MAX = 50
"""Score-over-time figures drawn at most (one per scored file, in label order)."""
SHARD_BATCH = 32
"""Quadruples per forward pass when scoring shards (4 frames each)."""


# ----------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class EvaluateConfig:
    """Everything `run_evaluate` needs; the fields mirror `sesqa evaluate`'s options."""

    pred: Path | None = None
    pred_column: str | None = None
    model: str | None = None
    """Checkpoint path, "default", or None: the packaged model when there is no ``pred``."""
    labels: Path | None = None
    pairs: Path | None = None
    shards: Path | None = None
    split: str = "test"
    max_quadruples: int | None = None
    strengths: Path | None = None
    """CSV ``path,type,strength`` of user-degraded files for the strength figure."""
    out: Path | None = None
    n_boot: int = 1000
    level: float = 0.95
    seed: int = 0
    plot: Path | None = None
    peer: str | None = None
    device: str = "auto"
    precision: str = "fp32"
    batch_size: int = 32
    kfold: int | None = None
    runs: Path | None = None
    """Folder of the k-fold training runs; default: beside ``out``, named after it."""
    init: str | None = None
    train_shards: Path | None = None
    steps: int | None = None
    model_size: str = "paper"
    train_batch_size: int = 16
    train_precision: str = "auto"
    progress: bool = False

    def __post_init__(self) -> None:
        if self.kfold is None and not (self.labels or self.pairs or self.shards):
            raise ValueError("nothing to evaluate: give --labels, --pairs and/or --shards")
        if self.n_boot < 0:
            raise ValueError(f"--boot must be >= 0, got {self.n_boot}")
        if not 0.0 < self.level < 1.0:
            raise ValueError(f"the confidence level must lie in (0, 1), got {self.level}")
        if self.split not in SPLITS:
            raise ValueError(f"--split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        if self.peer is not None and self.peer not in PEERS:
            raise ValueError(f"--peer: unknown peer {self.peer!r}; choose from {', '.join(PEERS)}")
        if self.max_quadruples is not None and self.max_quadruples < 1:
            raise ValueError(f"--max-quadruples must be >= 1, got {self.max_quadruples}")
        if self.kfold is not None:
            self._check_kfold()
        elif self.shards is not None and self.pred is not None and self.model is None:
            raise ValueError(
                f"--shards {self.shards}: quadruples are evaluated on the scores of their four 1 s frames, "
                f"which a predictions CSV ({self.pred}) does not hold; add --model CKPT (or --model default)"
            )
        for name in ("pred", "labels", "pairs", "strengths"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise FileNotFoundError(f"{path}: --{name} file not found")
        if self.shards is not None and not Path(self.shards).is_dir():
            raise FileNotFoundError(f"{self.shards}: --shards directory not found")

    def _check_kfold(self) -> None:
        if self.kfold is None or self.kfold < 2:
            raise ValueError(f"--kfold must be at least 2, got {self.kfold}")
        if self.labels is None:
            raise ValueError("--kfold needs --labels (the MOS data set to cross-validate on)")
        if self.pred is not None or self.model is not None:
            raise ValueError("--kfold trains its own model per fold: drop --pred/--model (use --init to start from a checkpoint)")
        if self.pairs is not None:
            raise ValueError("--kfold evaluates MOS labels only: drop --pairs")
        if self.runs is None and self.out is None:
            raise ValueError("--kfold needs a folder for its training runs: give --runs DIR (or --out FILE.json, runs then go beside it)")

    @property
    def runs_dir(self) -> Path:
        """Where k-fold training runs go: ``runs``, else ``out`` without its suffix."""
        if self.runs is not None:
            return Path(self.runs)
        assert self.out is not None
        return Path(self.out).with_suffix("")


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PredictorReport:
    """One predictor's figures on the evaluated data, and what to keep in mind reading them."""

    name: str
    description: str
    report: EvaluationReport
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FoldResult:
    """One fold of k-fold cross-validation: sizes, its run folder, its held-out figures."""

    fold: int
    n_train: int
    n_test: int
    run_dir: Path
    report: EvaluationReport


@dataclass(frozen=True)
class EvaluationRun:
    """What `sesqa evaluate` found: one report per predictor (sesqa first), folds, files written."""

    predictors: tuple[PredictorReport, ...]
    folds: tuple[FoldResult, ...] = ()
    kfold_groups: str | None = None
    unmatched: dict[str, Any] = field(default_factory=dict)
    plots: tuple[Path, ...] = ()
    written: tuple[Path, ...] = ()


# ----------------------------------------------------------------------------- small helpers


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` under a temporary name in the same folder, then rename it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _first(items: Sequence[Any], n: int = SHOW_FIRST) -> str:
    shown = ", ".join(str(i) for i in items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")


def resolve_audio(name: str, base: Path) -> Path:
    """The audio file a CSV names: absolute as is; else the first existing of the CSV's folder,
    the working directory, the folder above (NISQA corpus), ``wav/`` in or beside it (BVCC);
    the first candidate when none exists (scoring then reports it missing)."""
    p = Path(name).expanduser()
    if p.is_absolute():
        return p
    candidates = [base / p, p, base.parent / p, base / "wav" / p, base.parent / "wav" / p]
    return next((c for c in candidates if c.is_file()), candidates[0])


def _bootstrap_kwargs(config: EvaluateConfig) -> dict[str, Any]:
    return {"n_boot": config.n_boot, "level": config.level, "seed": config.seed}


# ----------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class _Inputs:
    labels: tuple[LabelRow, ...] | None
    pairs: tuple[PairRow, ...] | None
    strengths: tuple[LabelRow, ...] | None
    """(path, strength as ``mos``, type as ``system``): joined to scores like labels."""
    audio: dict[str, Path]
    """Every path the CSVs name, as written -> the audio file it resolves to."""


def read_strengths(source: Path) -> list[LabelRow]:
    """Rows ``path,type,strength`` of a strength list, as LabelRow(path, strength, type)."""
    rows: list[LabelRow] = []
    with Path(source).open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = {h.lower().strip(): h for h in reader.fieldnames or ()}
        need = {"path", "type", "strength"}
        if not need <= set(header):
            raise ValueError(f"{source}: expected a header with path,type,strength (got {', '.join(reader.fieldnames or ()) or 'nothing'})")
        for row in reader:
            where = f"{source}:{reader.line_num}"
            try:
                strength = float(row[header["strength"]])
            except ValueError:
                raise ValueError(f"{where}: strength {row[header['strength']]!r} is not a number") from None
            if not math.isfinite(strength):
                raise ValueError(f"{where}: strength {row[header['strength']]!r} is not finite")
            kind = (row[header["type"]] or "").strip() or "clean"
            rows.append(LabelRow(row[header["path"]].strip(), strength, kind))
    if not rows:
        raise ValueError(f"{source}: no rows")
    return rows


def _read_inputs(config: EvaluateConfig) -> _Inputs:
    audio: dict[str, Path] = {}
    labels = pairs = strengths = None
    if config.labels is not None:
        labels = tuple(read_labels(config.labels))
        for row in labels:
            audio.setdefault(row.path, resolve_audio(row.path, Path(config.labels).parent))
    if config.pairs is not None:
        pairs = tuple(read_pairs(config.pairs))
        for pair in pairs:
            for name in pair:
                audio.setdefault(name, resolve_audio(name, Path(config.pairs).parent))
    if config.strengths is not None:
        strengths = tuple(read_strengths(config.strengths))
        for row in strengths:
            audio.setdefault(row.path, resolve_audio(row.path, Path(config.strengths).parent))
    return _Inputs(labels, pairs, strengths, audio)


# ----------------------------------------------------------------------------- scoring


def _open_scorer(config: EvaluateConfig, checkpoint: str | Path | None = None) -> Scorer:
    from .default import resolve_model
    from .scorer import Scorer

    path = resolve_model(checkpoint if checkpoint is not None else config.model)
    return Scorer.from_checkpoint(path, device=config.device, precision=config.precision, batch_size=config.batch_size)


def score_audio(scorer: Scorer, audio: dict[str, Path]) -> tuple[dict[str, float], dict[str, ScoreResult], list[tuple[str, str]]]:
    """Score every distinct file once: (score per name as written, result per file under the first
    name that named it, (name, error) failures)."""
    from ..audio import AudioError

    by_file: dict[Path, ScoreResult | str] = {}
    scores: dict[str, float] = {}
    results: dict[str, ScoreResult] = {}
    failed: list[tuple[str, str]] = []
    for name, path in audio.items():
        key = path.resolve()
        if key not in by_file:
            try:
                by_file[key] = results[name] = scorer.score(path)
            except AudioError as e:
                by_file[key] = str(e)
        outcome = by_file[key]
        if isinstance(outcome, str):
            failed.append((name, outcome))
        else:
            scores[name] = outcome.score
    if failed:
        log.warning("%d of %d files could not be scored and are left out: %s", len(failed), len(audio), _first([e for _, e in failed]))
    return scores, results, failed


@dataclass(frozen=True)
class ShardScores:
    """Frame scores of generated quadruples and what was done to them (for the strength figure)."""

    scores: np.ndarray
    """(Q, 4): x_ik, x_il, x_jk, x_jl."""
    first_type: tuple[str, ...]
    """Type of the first degradation x_j got on top of x_i."""
    first_strength: np.ndarray
    clean_i: np.ndarray
    """True where x_i is undegraded."""
    n_shards: int


def score_shards(scorer: Scorer, directory: Path, split: str = "test", max_quadruples: int | None = None) -> ShardScores:
    """Score the four frames of every quadruple in ``<directory>/<split>-*.tar`` (in shard order)."""
    import torch

    from ..shards.reader import read_shard

    shards = sorted(Path(directory).glob(f"{split}-*.tar"))
    if not shards:
        raise ValueError(f"{directory}: no {split}-*.tar shards (generate them with `sesqa generate --out {directory}`, or pick --split)")
    model, device = scorer.inference_model, scorer.device
    frame_samples, sample_rate = model.config.frame_samples, model.config.sample_rate
    out: list[np.ndarray] = []
    kinds: list[str] = []
    strengths: list[float] = []
    clean: list[bool] = []
    pending: list[np.ndarray] = []

    def flush() -> None:
        if pending:
            with torch.inference_mode(), scorer.autocast():
                x = torch.from_numpy(np.stack(pending)).to(device)
                out.append(model(x).float().cpu().numpy())
            pending.clear()

    limit = max_quadruples if max_quadruples is not None else math.inf
    for shard in shards:
        for sample in read_shard(shard):
            record = sample.record
            if record.frame_samples != frame_samples or record.sample_rate != sample_rate:
                raise ValueError(
                    f"{shard}: quadruple {record.key} has {record.frame_samples}-sample frames at {record.sample_rate} Hz; "
                    f"the model takes {frame_samples} at {sample_rate} Hz"
                )
            pending.append(np.stack(sample.frames()).astype(np.float32))
            kinds.append(record.chain_j[0].type)
            strengths.append(record.chain_j[0].strength)
            clean.append(not record.chain_i)
            if len(pending) == SHARD_BATCH:
                flush()
            if len(kinds) >= limit:
                break
        if len(kinds) >= limit:
            break
    flush()
    scores = np.concatenate(out) if out else np.zeros((0, 4), np.float32)
    log.info("scored %d quadruples from %d %s shards in %s", len(scores), len(shards), split, directory)
    return ShardScores(scores.astype(np.float64), tuple(kinds), np.asarray(strengths), np.asarray(clean, bool), len(shards))


# ----------------------------------------------------------------------------- joining, reporting


def _join_labels_checked(scores: dict[str, float], labels: Sequence[LabelRow], source: str, labels_path: Path, who: str) -> LabelJoin:
    """Scores joined to labels; warns about what is unmatched; ValueError when nothing matches."""
    joined = join_labels(scores, labels)
    if not len(joined.paths):
        raise ValueError(
            f"{source}: none of its {len(scores)} {who}s matches any of the {len(labels)} labels in {labels_path} "
            f"(first labels: {_first([r.path for r in labels], 3)}; first scored: {_first(list(scores), 3)})"
        )
    if joined.unmatched_labels:
        log.warning("%s: %d of %d labels have no %s and are left out: %s", labels_path, len(joined.unmatched_labels), len(labels), who, _first(joined.unmatched_labels))
    return joined


def _join_pairs_checked(scores: dict[str, float], pairs: Sequence[PairRow], source: str, pairs_path: Path, who: str) -> tuple[np.ndarray, np.ndarray, int]:
    joined = join_pairs(scores, pairs)
    if not len(joined.s_better):
        raise ValueError(
            f"{source}: no pair of {pairs_path} has {who} for both files "
            f"(first pair: {pairs[0].better}, {pairs[0].worse}; first scored: {_first(list(scores), 3)})"
        )
    if joined.unmatched_pairs:
        shown = [f"{p.better} > {p.worse}" for p in joined.unmatched_pairs]
        log.warning("%s: %d of %d pairs lack %s for a file and are left out: %s", pairs_path, len(shown), len(pairs), who, _first(shown))
    return joined.s_better, joined.s_worse, len(joined.unmatched_pairs)


@dataclass
class _Scored:
    """One predictor's file scores joined to the inputs, ready for `evaluate`."""

    mos: LabelJoin | None = None
    pairs: tuple[np.ndarray, np.ndarray] | None = None
    strengths: LabelJoin | None = None
    unmatched: dict[str, Any] = field(default_factory=dict)


def _join_all(scores: dict[str, float], inputs: _Inputs, config: EvaluateConfig, source: str, who: str) -> _Scored:
    scored = _Scored()
    if inputs.labels is not None:
        assert config.labels is not None
        scored.mos = _join_labels_checked(scores, inputs.labels, source, config.labels, who)
        left = scored.mos.unmatched_predictions
        if left and inputs.pairs is None and inputs.strengths is None:
            log.warning("%s: %d of %d %ss match no label: %s", source, len(left), len(scores), who, _first(left))
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
            log.warning("%s: %d files have no %s and are left out of the strength figure: %s", config.strengths, len(joined.unmatched_labels), who, _first(joined.unmatched_labels))
        scored.strengths = joined
    return scored


def _evaluate_scored(scored: _Scored, quadruples: np.ndarray | None, config: EvaluateConfig) -> EvaluationReport:
    return evaluate(
        mos=(scored.mos.pred, scored.mos.mos, scored.mos.systems) if scored.mos is not None else None,
        pairs=scored.pairs,
        quadruples=tuple(quadruples.T) if quadruples is not None else None,
        **_bootstrap_kwargs(config),
    )


# ----------------------------------------------------------------------------- plots


def _plots(
    config: EvaluateConfig,
    name: str,
    scored: _Scored,
    results: dict[str, ScoreResult] | None,
    shard_scores: ShardScores | None,
    scorer: Scorer | None = None,
) -> list[Path]:
    """The figures of one predictor in ``config.plot``; names are documented in the README."""
    from . import plots

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


# ----------------------------------------------------------------------------- the command


def run_evaluate(config: EvaluateConfig) -> EvaluationRun:
    """Evaluate as `config` says (k-fold when ``config.kfold``), write ``out`` and plots, return all."""
    if config.plot is not None:
        from .plots import pyplot

        pyplot()  # fail now, before minutes of scoring, when matplotlib is missing
    peer = make_peer(config.peer) if config.peer is not None else None
    run = _run_kfold(config, peer) if config.kfold is not None else _run_once(config, peer)
    if config.out is not None:
        write_atomic(Path(config.out), json.dumps(run_to_json(run, config), indent=2) + "\n")
        run = EvaluationRun(run.predictors, run.folds, run.kfold_groups, run.unmatched, run.plots, (*run.written, Path(config.out)))
    return run


def _write_scores(config: EvaluateConfig, name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path | None:
    """Per-file scores beside ``out`` (``<out stem>.<name>.csv``), reusable as ``--pred``."""
    if config.out is None:
        return None
    from .plots import safe_name

    out = Path(config.out)
    path = out.with_name(f"{out.stem}.{safe_name(name)}.csv")
    write_atomic(path, _csv_text(header, rows))
    return path


def _run_once(config: EvaluateConfig, peer: Any) -> EvaluationRun:
    inputs = _read_inputs(config)
    needs_files = bool(inputs.audio)
    scorer = _open_scorer(config) if config.pred is None or config.shards is not None else None
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
            raise ValueError(f"none of the {len(inputs.audio)} audio files named in the input CSVs could be scored (first: {_first(list(inputs.audio.values()), 1)})")
        written += [p for p in [_write_scores(config, name, ("path", "score"), ((k, f"{v:.6f}") for k, v in scores.items()))] if p]
    scored = _join_all(scores, inputs, config, source, "prediction")
    shard_scores = score_shards(scorer, Path(config.shards), config.split, config.max_quadruples) if config.shards is not None and scorer is not None else None
    quadruples = shard_scores.scores if shard_scores is not None else None
    reports = [PredictorReport(name, description, _evaluate_scored(scored, quadruples, config), tuple(notes))]
    plots: list[Path] = []
    if config.plot is not None:
        plots += _plots(config, name, scored, results, shard_scores, scorer)
    if peer is not None:
        peer_report, peer_plots, peer_files = _run_peer(peer, inputs, config)
        reports.append(peer_report)
        plots += peer_plots
        written += peer_files
    return EvaluationRun(tuple(reports), unmatched=scored.unmatched, plots=tuple(plots), written=tuple(written))


def _run_peer(peer: Any, inputs: _Inputs, config: EvaluateConfig, labels_only: bool = False) -> tuple[PredictorReport, list[Path], list[Path]]:
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
    scored = _join_all(found.scores, inputs, config, peer.name, f"{peer.name} score")
    report = PredictorReport(peer.name, peer.description, _evaluate_scored(scored, None, config), tuple(notes))
    plots = _plots(config, peer.name, scored, None, None) if config.plot is not None else []
    rows = ((k, *(f"{found.details[k][c]:.6f}" for c in peer.columns)) for k in found.details)
    written = [p for p in [_write_scores(config, peer.name, ("path", *peer.columns), rows)] if p]
    return report, plots, written


# ----------------------------------------------------------------------------- k-fold


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


def _run_kfold(config: EvaluateConfig, peer: Any) -> EvaluationRun:
    from ..trainer import TrainConfig, train
    from ..trainer.loop import LAST

    assert config.labels is not None and config.kfold is not None
    inputs = _read_inputs(config)
    labels = [row for row in inputs.labels or () if inputs.audio[row.path].is_file()]
    missing = [row.path for row in inputs.labels or () if not inputs.audio[row.path].is_file()]
    if missing:
        log.warning("%s: %d of %d labelled files do not exist and are left out: %s", config.labels, len(missing), len(missing) + len(labels), _first(missing))
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
            write_atomic(path, _csv_text(("path", "mos", "system"), ((inputs.audio[r.path].resolve(), r.mos, r.system or "") for r in rows)))
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
        scorer = _open_scorer(config, fold_dir / LAST)
        held_out = {row.path: inputs.audio[row.path] for row in test_rows}
        scores, _, _ = score_audio(scorer, held_out)
        write_atomic(fold_dir / "predictions.csv", _csv_text(("path", "score"), ((p, f"{s:.6f}") for p, s in scores.items())))
        pooled |= scores
        joined = _join_labels_checked(scores, test_rows, f"fold {k + 1}", Path(config.labels), "prediction")
        report = evaluate(mos=(joined.pred, joined.mos, joined.systems), **_bootstrap_kwargs(config))
        results.append(FoldResult(k + 1, len(train_rows), len(test_rows), fold_dir, report))
    write_atomic(runs / "predictions.csv", _csv_text(("path", "score"), ((p, f"{s:.6f}") for p, s in pooled.items())))
    written.append(runs / "predictions.csv")
    pooled_inputs = _Inputs(tuple(labels), None, None, {row.path: inputs.audio[row.path] for row in labels})
    scored = _join_all(pooled, pooled_inputs, config, "k-fold held-out predictions", "prediction")
    description = f"sesqa, {config.kfold}-fold cross-validation, pooled held-out predictions"
    note = f"each item scored by the model of the fold that held it out; folds split by {'system' if by_system else 'file'}"
    reports = [PredictorReport("sesqa", description, _evaluate_scored(scored, None, config), (note,))]
    plots = _plots(config, "sesqa-kfold", scored, None, None) if config.plot is not None else []
    if peer is not None:
        peer_report, peer_plots, peer_files = _run_peer(peer, pooled_inputs, config, labels_only=True)
        reports.append(peer_report)
        plots += peer_plots
        written += peer_files
    return EvaluationRun(tuple(reports), tuple(results), "system" if by_system else "file", scored.unmatched, tuple(plots), tuple(written))


# ----------------------------------------------------------------------------- output


def _fold_table(folds: Sequence[FoldResult]) -> str:
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


def format_run(run: EvaluationRun) -> str:
    """The printed report: one metrics table per predictor, then the folds of a k-fold run."""
    blocks = []
    for predictor in run.predictors:
        lines = [f"== {predictor.name}: {predictor.description}", format_report(predictor.report)]
        lines += [f"  note: {n}" for n in predictor.notes]
        blocks.append("\n".join(lines))
    if run.folds:
        blocks.append(f"== per fold (utterance level; folds split by {run.kfold_groups})\n" + _fold_table(run.folds))
    if run.plots:
        folder = run.plots[0].parent
        blocks.append(f"{len(run.plots)} figures in {folder}")
    if run.written:
        blocks.append("wrote " + ", ".join(str(p) for p in run.written))
    return "\n\n".join(blocks)


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
        {"name": p.name, "description": p.description, "notes": list(p.notes), **report_to_json(p.report)}
        for p in run.predictors
    ]
    if run.unmatched:
        out["unmatched"] = run.unmatched
    if run.folds:
        out["folds"] = {
            "groups": run.kfold_groups,
            "folds": [
                {"fold": f.fold, "n_train": f.n_train, "n_test": f.n_test, "run": str(f.run_dir), **report_to_json(f.report)}
                for f in run.folds
            ],
        }
    if run.plots:
        out["plots"] = [str(p) for p in run.plots]
    return out


def progress_wanted() -> bool:
    """Progress bars only where someone watches: stderr is a terminal."""
    return sys.stderr.isatty()


__all__ = [
    "EvaluateConfig",
    "EvaluationRun",
    "FoldResult",
    "PredictorReport",
    "ShardScores",
    "assign_folds",
    "format_run",
    "read_strengths",
    "resolve_audio",
    "run_evaluate",
    "run_to_json",
    "score_audio",
    "score_shards",
    "write_atomic",
]
