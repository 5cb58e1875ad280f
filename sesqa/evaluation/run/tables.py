"""CSV plumbing for ``sesqa evaluate``: read predictions, join them to MOS labels and ordered pairs by path.

Labels and pairs are read by `sesqa.labels` (formats in docs/train.md, "Label files: MOS, JND and
pairs"); this module turns them into join rows (`LabelRow`, `PairRow`: paths as written).

Predictions (`read_predictions`), read by the same table reader (separators, comments, errors
naming file and line): a header with a path column and a score column. Path columns, first
found wins: `sesqa.labels.PATH_COLUMNS` (``path``, ``filepath_deg``, ``filepath``, ``file_path``,
``filename``, ``deg``, ``file``, ``wav``, ``utt``, ``utterance``, ``utt_id``). Score columns:
``score`` (``sesqa score``), ``mos_pred`` (NISQA), ``prediction``, ``predicted_mos``, ``pred``,
``OVRL`` then ``P808_MOS`` (DNSMOS' ``dnsmos_local.py``: ``filename`` plus ``OVRL``, ``SIG``,
``BAK``, ``P808_MOS``, and an unnamed pandas index column, which is ignored); ``column=`` picks
any other. Header names match case-insensitively. A file without a header whose second field is
a number is read as ``path,score`` (VoiceMOS answer files: ``sys64e2f-utt491a78a,3.25``).
A row with an empty score (what ``sesqa score`` writes for a file it could not score) is left
out with a warning.

Joining (`join_labels`, `join_pairs`) matches a label's path to a prediction's by normalised
path; failing that by file name, when that name is unique among the predictions and among the
paths being looked up; failing that by file name without extension, under the same rule. What
matches nothing is returned, never silently dropped.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ...labels import PATH_COLUMNS, Column, ListFormat, normalise_path, read_list

SCORE_COLUMNS: tuple[str, ...] = (
    "score",
    "mos_pred",
    "prediction",
    "predicted_mos",
    "pred",
    "ovrl",
    "p808_mos",
)
PREDICTION_FORMATS: tuple[ListFormat, ...] = (
    ListFormat("scores CSV", (Column("path", PATH_COLUMNS, "path"), Column("score", SCORE_COLUMNS, "number", blank=True))),
    ListFormat("VoiceMOS answer file", (Column("path", kind="path"), Column("score", kind="number", blank=True)), header=False),
)
"""Prediction lists: a header naming a path and a score column, or header-less ``path,score``.
An empty score is a file the predictor gave no number (`read_predictions` leaves it out)."""

SHOW_UNSCORED = 5
"""How many rows without a score the warning of `read_predictions` names."""

log = logging.getLogger(__name__)


class LabelRow(NamedTuple):
    """One MOS label: the audio path as written, its MOS, its system id, data set and fixed fold (None if unknown)."""

    path: str
    mos: float
    system: str | None
    dataset: str | None = None
    fold: str | None = None


class PairRow(NamedTuple):
    """One ordered pair: ``better`` should score higher than ``worse``."""

    better: str
    worse: str


@dataclass(frozen=True)
class LabelJoin:
    """Labels matched to predictions, in label order, and what matched nothing.

    ``matched_by`` counts matches per rule: "path", "basename", "stem".
    """

    paths: tuple[str, ...]
    pred: np.ndarray
    mos: np.ndarray
    systems: tuple[str | None, ...]
    unmatched_labels: tuple[str, ...]
    unmatched_predictions: tuple[str, ...]
    matched_by: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PairJoin:
    """Scores of the pairs whose two paths both have a prediction, and the pairs left out."""

    s_better: np.ndarray
    s_worse: np.ndarray
    unmatched_pairs: tuple[PairRow, ...]
    matched_by: dict[str, int] = field(default_factory=dict)


# ----------------------------------------------------------------------------- reading


def read_predictions(source: str | Path, column: str | None = None) -> dict[str, float]:
    """Path -> predicted score from a CSV of ``sesqa score``, NISQA, DNSMOS or a VoiceMOS answer file.

    ``column`` names the score column when it is none of `SCORE_COLUMNS` (or to pick DNSMOS'
    ``P808_MOS`` over ``OVRL``). A path listed twice is an error. A row with an empty score (a
    file `sesqa score` could not read, or that got no number: silence, no speech) is left out,
    and one warning counts such rows and names the first few.
    """
    formats = PREDICTION_FORMATS
    if column is not None:
        scores_csv = replace(formats[0], columns=(formats[0].columns[0], Column("score", (column,), "number", blank=True)))
        formats = (scores_csv, *formats[1:])
    scores: dict[str, float] = {}
    seen: dict[str, str] = {}
    unscored: list[str] = []
    for where, values in read_list(source, formats, "predictions list").rows:
        name = str(values["path"])
        key = normalise_path(name)
        if key in seen:
            raise ValueError(f"{where}: path {name!r} already listed at {seen[key]}")
        seen[key] = where
        if values["score"] is None:
            unscored.append(name)
        else:
            scores[name] = float(values["score"])  # type: ignore[arg-type]
    if unscored:
        shown = ", ".join(unscored[:SHOW_UNSCORED]) + (f" and {len(unscored) - SHOW_UNSCORED} more" if len(unscored) > SHOW_UNSCORED else "")
        log.warning(
            "%s: %d of %d rows have no score (a file that failed or got no number: unreadable, silence, no speech) and are left out: %s",
            source, len(unscored), len(seen), shown,
        )  # fmt: skip
    return scores


# ----------------------------------------------------------------------------- joining


def _stem(key: str) -> str:
    base = posixpath.basename(key)
    stem, dot, _ = base.rpartition(".")
    return stem if dot and stem else base


class _Matcher:
    """Finds a prediction for a path: by normalised path, else unique file name, else unique stem."""

    def __init__(self, predictions: dict[str, float], queries: Iterable[str]) -> None:
        self.by_path = {normalise_path(p): p for p in predictions}
        query_keys = {normalise_path(q) for q in queries}
        self.by_name = self._unique(self.by_path, query_keys, posixpath.basename)
        self.by_stem = self._unique(self.by_path, query_keys, _stem)

    @staticmethod
    def _unique(by_path: dict[str, str], query_keys: set[str], part: Callable[[str], str]) -> dict[str, str]:
        """part(key) -> prediction for parts occurring once among predictions and once among queries."""
        found: dict[str, list[str]] = {}
        for key, original in by_path.items():
            found.setdefault(part(key), []).append(original)
        asked: dict[str, int] = {}
        for key in query_keys:
            asked[part(key)] = asked.get(part(key), 0) + 1
        return {name: hits[0] for name, hits in found.items() if len(hits) == 1 and asked.get(name, 0) <= 1}

    def find(self, path: str) -> tuple[str, str] | None:
        """(prediction path, rule) for ``path``, or None."""
        key = normalise_path(path)
        if key in self.by_path:
            return self.by_path[key], "path"
        if posixpath.basename(key) in self.by_name:
            return self.by_name[posixpath.basename(key)], "basename"
        if _stem(key) in self.by_stem:
            return self.by_stem[_stem(key)], "stem"
        return None


def join_labels(predictions: dict[str, float], labels: Sequence[LabelRow]) -> LabelJoin:
    """Predictions matched to labels; labels and predictions left unmatched are returned too."""
    matcher = _Matcher(predictions, (row.path for row in labels))
    paths, pred, mos, systems, unmatched = [], [], [], [], []
    used: dict[str, str] = {}
    matched_by = {"path": 0, "basename": 0, "stem": 0}
    for row in labels:
        hit = matcher.find(row.path)
        if hit is None or hit[0] in used:
            unmatched.append(row.path)
            continue
        used[hit[0]] = row.path
        matched_by[hit[1]] += 1
        paths.append(row.path)
        pred.append(predictions[hit[0]])
        mos.append(row.mos)
        systems.append(row.system)
    left = tuple(p for p in predictions if p not in used)
    return LabelJoin(
        tuple(paths),
        np.asarray(pred, dtype=np.float64),
        np.asarray(mos, dtype=np.float64),
        tuple(systems),
        tuple(unmatched),
        left,
        matched_by,
    )


def join_pairs(predictions: dict[str, float], pairs: Sequence[PairRow]) -> PairJoin:
    """Scores of ordered pairs; pairs with a path that has no prediction are returned apart."""
    matcher = _Matcher(predictions, {p for pair in pairs for p in pair})
    better, worse, unmatched = [], [], []
    matched_by = {"path": 0, "basename": 0, "stem": 0}
    for pair in pairs:
        hits = (matcher.find(pair.better), matcher.find(pair.worse))
        if hits[0] is None or hits[1] is None:
            unmatched.append(pair)
            continue
        for _, rule in hits:
            matched_by[rule] += 1
        better.append(predictions[hits[0][0]])
        worse.append(predictions[hits[1][0]])
    return PairJoin(
        np.asarray(better, dtype=np.float64),
        np.asarray(worse, dtype=np.float64),
        tuple(unmatched),
        matched_by,
    )
