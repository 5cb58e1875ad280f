"""`sesqa ablate`: the paper's loss ablation (Table 2), trained and evaluated row by row.

Each row is one training run on identical data, seed and schedule, differing only in the losses
it trains with: the full model, the model without each of the eight losses, and L_MOS alone.
Every run lands in ``<out>/rows/<row>/`` and its final weights (``last.ckpt``, never the
best-on-validation one, so no row is tuned on held-out data) are evaluated on the generated
``test`` split (R_RANK and L_CONS over its quadruples) and, with ``labels``, on a MOS list
(L_MOS, hence E_TOTAL), each figure with a bootstrap interval (`sesqa.evaluation.evaluate`).

Rows are resumable: a finished row's figures are kept in ``<row>/ablation.json`` and not
recomputed; an unfinished run continues from its last checkpoint (`sesqa train --resume`).
A row that removes a loss this data cannot feed anyway (L_MOS or L_JND without MOS or JND data)
would repeat the full model, and "only L_MOS" has nothing to train without MOS data: such rows
are marked n/a with the reason, not trained. The table (`ablation.csv`, `ablation.md`, beside
the paper's figures) is rewritten after every row.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..runtime.seeds import check_seed
from .run.config import SPLITS
from .run.results import csv_text, write_atomic

log = logging.getLogger(__name__)

FIGURES = ("l_mos", "r_rank", "l_cons", "e_total")
"""The paper's four figures, in its column order."""

PAPER_TABLE_2: dict[str, tuple[float, float, float, float]] = {
    "full": (0.474, 0.090, 0.067, 0.394),
    "without-mos": (0.839, 0.079, 0.044, 0.543),
    "without-rank": (0.492, 0.201, 0.061, 0.508),
    "without-cons": (0.441, 0.096, 0.130, 0.447),
    "without-sd": (0.482, 0.091, 0.067, 0.399),
    "without-jnd": (0.475, 0.089, 0.067, 0.394),
    "without-dt": (0.476, 0.089, 0.067, 0.394),
    "without-ds": (0.479, 0.090, 0.067, 0.396),
    "without-mr": (0.488, 0.093, 0.066, 0.403),
    "only-mos": (0.480, 0.265, 0.137, 0.643),
}
"""Serrà et al. 2021, Table 2: L_MOS, R_RANK, L_CONS, E_TOTAL averaged over their three MOS sets."""


@dataclass(frozen=True)
class AblationRow:
    """One row of Table 2: a name, the paper's label, and the losses switched off."""

    name: str
    label: str
    without: tuple[str, ...]


def ablation_rows() -> tuple[AblationRow, ...]:
    """Table 2's rows in its order: the full model, without each loss, L_MOS alone."""
    from ..trainer.losses import LOSS_NAMES

    rows = [AblationRow("full", "SESQA (all eight losses)", ())]
    rows += [AblationRow(f"without-{n}", f"Without L_{n.upper()}", (n,)) for n in LOSS_NAMES]
    rows.append(AblationRow("only-mos", "Only L_MOS", tuple(n for n in LOSS_NAMES if n != "mos")))
    return tuple(rows)


@dataclass(frozen=True)
class AblateConfig:
    """Everything `run_ablation` needs; the fields mirror `sesqa ablate`'s options."""

    shards: Path
    out: Path
    mos: tuple[Path, ...] = ()
    jnd: tuple[Path, ...] = ()
    labels: Path | None = None
    """MOS list the rows are evaluated on (L_MOS, and so E_TOTAL); never trained on."""
    rows: tuple[str, ...] = ()
    """Rows to run (names from `ablation_rows`); empty: all of them."""
    steps: int = 600
    model_size: str = "tiny"
    batch_size: int = 16
    lr: float = 1e-3
    seed: int = 0
    split: str = "test"
    max_quadruples: int | None = None
    n_boot: int = 1000
    device: str = "auto"
    precision: str = "auto"
    """Training precision (`sesqa train --precision`); evaluation always scores in fp32."""
    workers: int = 1
    checkpoint_every: int = 200

    def __post_init__(self) -> None:
        from ..trainer.config import MODEL_PRESETS

        check_seed(self.seed)
        if self.steps < 1:
            raise ValueError(f"--steps must be >= 1, got {self.steps}")
        if self.batch_size < 1:
            raise ValueError(f"--batch-size must be >= 1, got {self.batch_size}")
        if self.n_boot < 0:
            raise ValueError(f"--boot must be >= 0, got {self.n_boot}")
        if self.split not in SPLITS:
            raise ValueError(f"--split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        if self.model_size not in MODEL_PRESETS:
            raise ValueError(f"--model-size must be one of {', '.join(MODEL_PRESETS)}, got {self.model_size!r}")
        known = [r.name for r in ablation_rows()]
        if unknown := [r for r in self.rows if r not in known]:
            raise ValueError(f"--rows: unknown row(s) {unknown}; the rows are {', '.join(known)}")
        if not Path(self.shards).is_dir():
            raise FileNotFoundError(f"{self.shards}: --shards directory not found")
        if not any(Path(self.shards).glob(f"{self.split}-*.tar")):
            raise ValueError(f"{self.shards}: no {self.split}-*.tar shards to evaluate on (generate them with --ratios, e.g. 80,10,10)")
        for path in (*self.mos, *self.jnd, *((self.labels,) if self.labels else ())):
            if not Path(path).is_file():
                raise FileNotFoundError(f"{path}: file not found")

    def selected(self) -> tuple[AblationRow, ...]:
        rows = ablation_rows()
        return tuple(r for r in rows if not self.rows or r.name in self.rows)

    def schedule(self) -> dict[str, Any]:
        """What must match for a stored row to count as this run's (data, seed, schedule, evaluation)."""
        keys = ("shards", "mos", "jnd", "labels", "steps", "model_size", "batch_size", "lr", "seed", "split", "max_quadruples", "n_boot")
        return {k: _plain(getattr(self, k)) for k in keys}


@dataclass(frozen=True)
class Figure:
    """One figure of one row: value and bootstrap interval (NaN where it cannot be computed)."""

    value: float = math.nan
    low: float = math.nan
    high: float = math.nan
    n: int = 0
    note: str = ""


@dataclass(frozen=True)
class RowResult:
    """One row's outcome: its figures, or why it is n/a."""

    row: AblationRow
    figures: dict[str, Figure] = field(default_factory=dict)
    na: str = ""
    """Why the row was not trained (empty when it was)."""
    steps: int = 0


def run_ablation(config: AblateConfig, progress: bool = False, on_row: Callable[[RowResult], None] | None = None) -> list[RowResult]:
    """Train and evaluate every selected row (module docstring); returns the rows in table order."""
    inactive = _inactive_losses(config)
    results: list[RowResult] = []
    for row in config.selected():
        reason = _not_applicable(row, inactive)
        result = RowResult(row, na=reason) if reason else _run_row(config, row, progress)
        results.append(result)
        write_tables(config.out, results, config)
        if on_row is not None:
            on_row(result)
    return results


def _inactive_losses(config: AblateConfig) -> dict[str, str]:
    """The losses this data cannot feed, with why (no MOS list, no JND pairs, no metric targets)."""
    from ..shards.manifest import read_manifest
    from ..trainer.losses import LOSSES, inactive_losses

    groups = {"quad"} | ({"mos"} if config.mos else set()) | ({"jnd"} if config.jnd else set())
    manifest = read_manifest(config.shards) or {}
    metrics = manifest.get("metrics")
    return inactive_losses(LOSSES, groups, len(metrics) if isinstance(metrics, list) else None)


def _not_applicable(row: AblationRow, inactive: dict[str, str]) -> str:
    """Why `row` would repeat another row or train nothing here; empty when it is worth training."""
    from ..trainer.losses import LOSS_NAMES

    kept = [n for n in LOSS_NAMES if n not in row.without and n not in inactive]
    if not kept:
        return "no loss left to train: " + "; ".join(f"L_{n.upper()} {inactive[n]}" for n in LOSS_NAMES if n not in row.without)
    if row.without and all(n in inactive for n in row.without):
        return "identical to the full model here: " + "; ".join(f"L_{n.upper()} {inactive[n]}" for n in row.without)
    return ""


def _run_row(config: AblateConfig, row: AblationRow, progress: bool) -> RowResult:
    """Train the row's run (resuming where it stopped), evaluate its last checkpoint, keep both."""
    from ..trainer import TrainConfig, train
    from ..trainer.loop import LAST

    folder = Path(config.out) / "rows" / row.name
    stored = _stored(folder, config)
    if stored is not None:
        log.info("ablation row %s: already trained and evaluated (%s)", row.name, folder / RESULT)
        return RowResult(row, stored, steps=config.steps)
    train_config = TrainConfig(
        out=folder, shards=config.shards, mos=config.mos, jnd=config.jnd, without=row.without, steps=config.steps,
        batch_size=config.batch_size, model_preset=config.model_size, lr=config.lr, seed=config.seed,
        checkpoint_every=config.checkpoint_every, workers=config.workers, device=config.device, precision=config.precision,
    )  # fmt: skip
    log.info("ablation row %s (%s): training %d steps in %s", row.name, row.label, config.steps, folder)
    train(train_config, resume=(folder / LAST).is_file(), progress=progress)
    figures = _evaluate_row(config, folder / LAST)
    payload = {"schedule": config.schedule(), "row": asdict(row), "figures": {k: asdict(v) for k, v in figures.items()}}
    write_atomic(folder / RESULT, json.dumps(payload, indent=2) + "\n")
    return RowResult(row, figures, steps=config.steps)


RESULT = "ablation.json"
"""A row's figures, kept in its run folder so a rerun skips it."""


def _stored(folder: Path, config: AblateConfig) -> dict[str, Figure] | None:
    """A row's stored figures when they were made with this data, seed and schedule; else None."""
    path = folder / RESULT
    if not path.is_file():
        return None
    try:
        payload = json.loads(path.read_text())
        if payload.get("schedule") != config.schedule():
            log.warning("%s: made with other settings; training and evaluating this row again", path)
            return None
        return {k: Figure(**v) for k, v in payload["figures"].items()}
    except (ValueError, KeyError, TypeError) as e:
        log.warning("%s: unreadable (%s); training and evaluating this row again", path, e)
        return None


def _evaluate_row(config: AblateConfig, checkpoint: Path) -> dict[str, Figure]:
    """R_RANK and L_CONS on the generated split, L_MOS on the labels, E_TOTAL from the three."""
    from .run.config import EvaluateConfig
    from .evaluate import run_evaluate

    evaluation = EvaluateConfig(
        model=str(checkpoint), labels=config.labels, shards=config.shards, split=config.split,
        max_quadruples=config.max_quadruples, n_boot=config.n_boot, seed=config.seed, device=config.device,
    )  # fmt: skip
    report = run_evaluate(evaluation).predictors[0].report
    figures = {}
    for name in FIGURES:
        estimate = report.get(name, "utterance" if name == "l_mos" else None)
        figures[name] = Figure() if estimate is None else Figure(estimate.value, estimate.low, estimate.high, estimate.n, estimate.note)
    return figures


# ----------------------------------------------------------------------------- the table


def _cell(figure: Figure | None) -> str:
    if figure is None or not math.isfinite(figure.value):
        return "n/a"
    if math.isfinite(figure.low):
        return f"{figure.value:.3f} [{figure.low:.3f}, {figure.high:.3f}]"
    return f"{figure.value:.3f}"


def table_rows(results: Sequence[RowResult]) -> list[list[str]]:
    """Row label, the four figures with intervals (or n/a), the paper's E_TOTAL, the note."""
    out = []
    for r in results:
        paper = PAPER_TABLE_2.get(r.row.name)
        cells = ["n/a"] * len(FIGURES) if r.na else [_cell(r.figures.get(n)) for n in FIGURES]
        out.append([r.row.label, *cells, " / ".join(f"{v:.3f}" for v in paper) if paper else "", r.na])
    return out


HEADER = ("row", "L_MOS", "R_RANK", "L_CONS", "E_TOTAL", "paper: L_MOS / R_RANK / L_CONS / E_TOTAL", "n/a because")


def markdown_table(results: Sequence[RowResult]) -> str:
    """The table as GitHub Markdown, intervals in brackets."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cells) + " |" for cells in table_rows(results)]
    return "\n".join(lines) + "\n"


def write_tables(out: Path, results: Sequence[RowResult], config: AblateConfig) -> tuple[Path, Path]:
    """``ablation.csv`` (one line per row, value and interval columns) and ``ablation.md``."""
    header = ["row", "label", "na", *[f"{n}{part}" for n in FIGURES for part in ("", "_low", "_high", "_n")]]
    lines = []
    for r in results:
        values: list[Any] = []
        for n in FIGURES:
            f = r.figures.get(n, Figure())
            values += [_number(f.value), _number(f.low), _number(f.high), f.n]
        lines.append([r.row.name, r.row.label, r.na, *values])
    csv_path, md_path = Path(out) / "ablation.csv", Path(out) / "ablation.md"
    write_atomic(csv_path, csv_text(header, lines))
    settings = ", ".join(f"{k}={v}" for k, v in config.schedule().items() if v not in (None, [], ()))
    write_atomic(md_path, f"Loss ablation ({settings})\n\n" + markdown_table(results))
    return csv_path, md_path


def _number(x: float) -> str:
    return f"{x:.6f}" if math.isfinite(x) else ""


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


__all__ = ["PAPER_TABLE_2", "AblateConfig", "AblationRow", "RowResult", "ablation_rows", "markdown_table", "run_ablation", "write_tables"]
