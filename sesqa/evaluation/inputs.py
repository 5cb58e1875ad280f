"""`sesqa evaluate`'s inputs: the labels, pairs and strengths CSVs, the audio they name, its scores.

Shared by the single run and k-fold cross-validation.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .tables import LabelRow, PairRow, read_labels, read_pairs

if TYPE_CHECKING:
    from ..scoring.scorer import Scorer, ScoreResult
    from .config import EvaluateConfig

log = logging.getLogger(__name__)

SHOW_FIRST = 5
"""How many unmatched or failed paths a warning names."""


def show_first(items: Sequence[Any], n: int = SHOW_FIRST) -> str:
    """The first ``n`` items, comma-separated, and how many more there are."""
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


@dataclass(frozen=True)
class EvaluateInputs:
    """The rows of the input CSVs, and the audio file each path they name resolves to."""

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


def read_inputs(config: EvaluateConfig) -> EvaluateInputs:
    """Read the labels, pairs and strengths CSVs ``config`` names, resolving every path they name."""
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
    return EvaluateInputs(labels, pairs, strengths, audio)


def open_scorer(config: EvaluateConfig, checkpoint: str | Path | None = None) -> Scorer:
    """A Scorer on ``checkpoint`` (default: ``config.model``) with ``config``'s device, precision and batch size."""
    from ..scoring.default import resolve_model
    from ..scoring.scorer import Scorer

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
        log.warning("%d of %d files could not be scored and are left out: %s", len(failed), len(audio), show_first([e for _, e in failed]))
    return scores, results, failed


__all__ = [
    "SHOW_FIRST",
    "EvaluateInputs",
    "open_scorer",
    "read_inputs",
    "read_strengths",
    "resolve_audio",
    "score_audio",
    "show_first",
]
