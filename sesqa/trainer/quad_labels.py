"""Labels of a generated quadruple: its record -> degradation types, strengths, normalised metrics.

The vocabulary of degradation types comes from the shards' manifest (`read_vocabulary` in
`sesqa.shards.manifest`), never from the generator; "clean" is prepended as index 0. So do the
types without a strength (`read_strengthless`, e.g. reverse): they get no strength label, and
L_DS regresses only the `rated` types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..shards.manifest import FORMAT_1_DEGRADATION_TYPES, FORMAT_1_STRENGTHLESS_TYPES
from ..shards.moments import RunningStats
from ..shards.schema import DegradationStep, QuadrupleRecord
from .batch import QuadBatch

CLEAN = "clean"
"""Type label of an undegraded signal (index 0 of the vocabulary)."""


def vocabulary(degradation_types: Sequence[str] = FORMAT_1_DEGRADATION_TYPES) -> tuple[str, ...]:
    """The degradation-type labels: "clean", then `degradation_types` in order.

    Give the types of the shards trained on (`sesqa.shards.manifest.read_vocabulary`); the
    default is shard format 1's 37 (the registry order of sesqa 0.1.0).
    """
    types = tuple(degradation_types)
    if CLEAN in types:
        raise ValueError(f"degradation_types must not contain {CLEAN!r}: it is the label of an empty chain")
    return (CLEAN, *types)


@dataclass(frozen=True)
class QuadLabels:
    """Label arrays of one quadruple (V = vocabulary size, M = metric count)."""

    types_i: np.ndarray
    """(V,) float32 0/1."""
    types_j: np.ndarray
    """(V,) float32 0/1: the types of chain_i and chain_j."""
    strength_i: np.ndarray
    """(V,) float32: max strength over repeats of a type; 0 where absent, for "clean" and for a
    type without a strength."""
    strength_j: np.ndarray
    rated_i: np.ndarray
    """(V,) float32 0/1: the types present that have a strength ("clean" among them, its strength
    0): the ones L_DS regresses."""
    rated_j: np.ndarray
    metrics: np.ndarray
    """(M,) float32 normalised metric targets; 0 where missing."""
    metrics_mask: np.ndarray
    """(M,) bool: True where the target exists."""


def quad_labels(
    record: QuadrupleRecord,
    vocabulary: Sequence[str],
    metric_names: Sequence[str],
    stats: RunningStats | None,
    strengthless_types: Sequence[str] = FORMAT_1_STRENGTHLESS_TYPES,
) -> QuadLabels:
    """The labels of one quadruple; ValueError if a type is not in `vocabulary`.

    x_j is degraded on top of x_i, so it carries the types of both chains; "clean" is set only
    for an empty chain (so never for x_j). Only each step's type and strength are read, never
    its params. A type in `strengthless_types` (the manifest's, `read_strengthless`; names not
    in the vocabulary are ignored) gets strength 0 and is not rated: its recorded strength is
    noise. Metrics are normalised with the training statistics; None, NaN, or a measure
    without statistics is masked.
    """
    index = {name: n for n, name in enumerate(vocabulary)}
    if CLEAN not in index:
        raise ValueError(f"vocabulary must contain {CLEAN!r}, got {list(vocabulary)[:5]}...")
    if CLEAN in strengthless_types:
        raise ValueError(f"strengthless_types must not contain {CLEAN!r}, got {list(strengthless_types)}")
    unrated = [index[name] for name in strengthless_types if name in index]

    def encode(chain: Sequence[DegradationStep]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        types = np.zeros(len(index), np.float32)
        strength = np.zeros(len(index), np.float32)
        if not chain:
            types[index[CLEAN]] = 1.0
        for step in chain:
            k = index.get(step.type)
            if k is None:
                raise ValueError(f"record {record.key}: degradation {step.type!r} is not in the vocabulary")
            types[k] = 1.0
            strength[k] = max(strength[k], np.float32(step.strength))
        rated = types.copy()
        rated[unrated] = 0.0
        strength[unrated] = 0.0
        return types, strength, rated

    types_i, strength_i, rated_i = encode(record.chain_i)
    types_j, strength_j, rated_j = encode((*record.chain_i, *record.chain_j))
    names = tuple(metric_names)
    if names and stats is None:
        raise ValueError(f"stats: metric targets {list(names)} need normalisation statistics, got None")
    normalised = stats.normalise({n: record.metrics.get(n) for n in names}) if names else {}
    metrics = np.array([normalised[n] for n in names], dtype=np.float32)
    mask = np.isfinite(metrics)
    metrics[~mask] = 0.0
    return QuadLabels(types_i, types_j, strength_i, strength_j, rated_i, rated_j, metrics, mask)


def collate(frames: Sequence[np.ndarray], labels: Sequence[QuadLabels]) -> QuadBatch:
    """One QuadBatch from per-quadruple (4, T) frames and their labels."""

    def stack(name: str) -> torch.Tensor:
        return torch.from_numpy(np.stack([getattr(l, name) for l in labels]))

    return QuadBatch(
        frames=torch.from_numpy(np.stack(frames).astype(np.float32, copy=False)),
        types_i=stack("types_i"),
        types_j=stack("types_j"),
        strength_i=stack("strength_i"),
        strength_j=stack("strength_j"),
        rated_i=stack("rated_i"),
        rated_j=stack("rated_j"),
        metrics=stack("metrics"),
        metrics_mask=stack("metrics_mask"),
    )
