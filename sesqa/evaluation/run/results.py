"""What `sesqa evaluate` found (`EvaluationRun` and its parts) and the files that keep it.

Files are written atomically (`write_atomic`); per-file scores go beside ``out`` as CSVs that
`sesqa evaluate --pred` reads back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...runtime.files import atomic_write_text
from ...measures.report import EvaluationReport

if TYPE_CHECKING:
    from .config import EvaluateConfig
    from .shard_scores import TypeFigures


@dataclass(frozen=True)
class PredictorReport:
    """One predictor's figures on the evaluated data, and what to keep in mind reading them."""

    name: str
    description: str
    report: EvaluationReport
    notes: tuple[str, ...] = ()
    by_type: tuple[TypeFigures, ...] = ()
    """R_RANK and L_CONS per first degradation of x_j, when generated shards were scored."""


@dataclass(frozen=True)
class FoldResult:
    """One fold of k-fold cross-validation: sizes, its run folder, its held-out figures (per MOS set too)."""

    fold: int
    n_train: int
    n_test: int
    run_dir: Path
    report: EvaluationReport
    sets: tuple[tuple[str, EvaluationReport], ...] = ()
    """(set name, figures on the fold's held-out files of that set), when the labels hold several MOS sets."""


@dataclass(frozen=True)
class EvaluationRun:
    """What `sesqa evaluate` found: one report per predictor (sesqa first), folds, files written."""

    predictors: tuple[PredictorReport, ...]
    folds: tuple[FoldResult, ...] = ()
    kfold_groups: str | None = None
    unmatched: dict[str, Any] = field(default_factory=dict)
    plots: tuple[Path, ...] = ()
    written: tuple[Path, ...] = ()


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (`sesqa.runtime.files`), making its folder first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text, newline="")


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text (header, then rows) as written to files: comma-separated, rows ending in a bare newline."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_scores(config: EvaluateConfig, name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path | None:
    """Per-file scores beside ``out`` (``<out stem>.<name>.csv``), reusable as ``--pred``."""
    if config.out is None:
        return None
    from ..plots import safe_name

    out = Path(config.out)
    path = out.with_name(f"{out.stem}.{safe_name(name)}.csv")
    write_atomic(path, csv_text(header, rows))
    return path


__all__ = ["EvaluationRun", "FoldResult", "PredictorReport", "csv_text", "write_atomic", "write_scores"]
