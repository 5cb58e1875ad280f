"""`sesqa evaluate`'s inputs: the labels, pairs and strengths CSVs, the audio they name, its scores.

Shared by the single run and k-fold cross-validation.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...labels import Column, ListFormat, find_audio, read_list, read_mos, read_pairs
from .tables import LabelRow, PairRow

if TYPE_CHECKING:
    from ...scoring.scorer import Scorer, ScoreResult
    from .config import EvaluateConfig

log = logging.getLogger(__name__)

SHOW_FIRST = 5
"""How many unmatched or failed paths a warning names."""


def show_first(items: Sequence[Any], n: int = SHOW_FIRST) -> str:
    """The first ``n`` items, comma-separated, and how many more there are."""
    shown = ", ".join(str(i) for i in items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")


STRENGTH_FORMATS: tuple[ListFormat, ...] = (
    ListFormat("strength list", (Column("path", ("path",), "path"), Column("type", ("type",)), Column("strength", ("strength",), "number"))),
)
"""Strength lists: ``path,type,strength`` with a header; an empty type means clean audio."""


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
    """Rows ``path,type,strength`` of a strength list, as LabelRow(path, strength, type).

    Read by `sesqa.labels`' table reader: the same separators, comments and errors as labels.
    """
    listed = read_list(source, STRENGTH_FORMATS, "strength list")
    return [LabelRow(str(v["path"]), float(v["strength"]), str(v["type"] or "clean")) for _, v in listed.rows]  # type: ignore[arg-type]


def read_inputs(config: EvaluateConfig) -> EvaluateInputs:
    """Read the labels, pairs and strengths CSVs ``config`` names, resolving every path they name.

    Labels and pairs come from `sesqa.labels` (one reader, one audio lookup for train and
    evaluate); a name is resolved by the first list that names it.
    """
    audio: dict[str, Path] = {}
    labels = pairs = strengths = None
    if config.labels is not None:
        items = read_mos(config.labels)
        labels = tuple(LabelRow(item.name, item.mos, item.system, item.dataset, item.fold) for item in items)
        for item in items:
            audio.setdefault(item.name, item.path)
    if config.pairs is not None:
        ordered = read_pairs(config.pairs)
        pairs = tuple(PairRow(*pair.names) for pair in ordered)
        for pair in ordered:
            audio.setdefault(pair.names[0], pair.better)
            audio.setdefault(pair.names[1], pair.worse)
    if config.strengths is not None:
        strengths = tuple(read_strengths(config.strengths))
        for row in strengths:
            audio.setdefault(row.path, find_audio(row.path, Path(config.strengths).parent))
    return EvaluateInputs(labels, pairs, strengths, audio)


def open_scorer(config: EvaluateConfig, checkpoint: str | Path | None = None) -> Scorer:
    """A Scorer on ``checkpoint`` (default: ``config.model``: a file or a packaged model's name) with
    ``config``'s device, precision and batch size."""
    from ...scoring.scorer import Scorer

    model = checkpoint if checkpoint is not None else config.model
    return Scorer.from_checkpoint(model, device=config.device, precision=config.precision, batch_size=config.batch_size)


def score_audio(scorer: Scorer, audio: dict[str, Path]) -> tuple[dict[str, float], dict[str, ScoreResult], list[tuple[str, str]]]:
    """Score every distinct file once: (score per name as written, result per file under the first
    name that named it, (name, error) failures).

    A file scored without a number (silence, DC only, no speech frame) is left out of the scores
    with a warning, as `read_predictions` leaves out an empty score: a NaN would void every figure.
    """
    from ...audio import AudioError

    by_file: dict[str, ScoreResult | str] = {}
    scores: dict[str, float] = {}
    results: dict[str, ScoreResult] = {}
    failed: list[tuple[str, str]] = []
    unscored: list[str] = []
    warned: list[str] = []
    for name, path in audio.items():
        key = os.path.realpath(path)  # never raises, unlike Path.resolve() on a symlink loop
        if key not in by_file:
            try:
                by_file[key] = results[name] = scorer.score(path)
            except AudioError as e:
                by_file[key] = str(e)
        outcome = by_file[key]
        if isinstance(outcome, str):
            failed.append((name, outcome))
        elif not outcome.scored:
            unscored.append(f"{name} ({'; '.join(outcome.warnings)})")
        else:
            scores[name] = outcome.score
            if outcome.warnings and results.get(name) is outcome:  # once per file
                warned.append(f"{name} ({'; '.join(outcome.warnings)})")
    if failed:
        log.warning("%d of %d files could not be scored and are left out: %s", len(failed), len(audio), show_first([e for _, e in failed]))
    if unscored:
        log.warning("%d of %d files got no score and are left out: %s", len(unscored), len(audio), show_first(unscored))
    if warned:  # a WAV cut short, clipping, a quiet file: scored, but worth knowing
        log.warning("%d of %d files were scored with warnings: %s", len(warned), len(audio), show_first(warned))
    return scores, results, failed


__all__ = [
    "SHOW_FIRST",
    "EvaluateInputs",
    "open_scorer",
    "read_inputs",
    "STRENGTH_FORMATS",
    "read_strengths",
    "score_audio",
    "show_first",
]
