"""`manifest.json` of a shard directory, and the vocabulary of degradation types it carries.

The generator writes the manifest; the trainer reads the ordered list of degradation types
from it (key `degradation_types`), so it never asks the generator which degradations exist.
Manifests written before the key existed (format 1) get `FORMAT_1_DEGRADATION_TYPES`: the 37
types in the registry order the trainer used then, frozen here so those shards keep their labels.

It also carries which of those types have no strength (key `strengthless_types`, e.g. reverse):
their steps' strength is noise, so the trainer gives them no strength label. Manifests written
before that key get `FORMAT_1_STRENGTHLESS_TYPES` among their types.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
DEGRADATION_TYPES = "degradation_types"
"""Manifest key of the ordered degradation types (without "clean")."""

FORMAT_1_DEGRADATION_TYPES: tuple[str, ...] = (
    "ac3", "additive_noise", "band_pass", "band_reject", "chorus", "clipping", "coloured_noise",
    "eac3", "echo", "extreme_eq", "griffin_lim", "high_pass", "hum", "insert_attenuation",
    "insert_noise", "insert_silence", "low_pass", "mp2", "mp3", "mu_law", "ogg_vorbis", "opus",
    "overdrive", "perturb_amplitude", "phase_randomisation", "phase_shuffle", "phaser",
    "resample", "reverb", "reverse", "sample_duplicate", "spectrogram_convolution",
    "spectrogram_holes", "spectrogram_noise", "tonal_noise", "tremolo", "wma",
)
"""The degradation types of shards whose manifest predates `degradation_types` (sesqa 0.1.0)."""

STRENGTHLESS_TYPES = "strengthless_types"
"""Manifest key of the degradation types (a subset of `degradation_types`) that have no strength."""

FORMAT_1_STRENGTHLESS_TYPES: tuple[str, ...] = ("reverse",)
"""The types without a strength of shards whose manifest predates `strengthless_types` (frozen)."""


def read_manifest(directory: str | Path) -> dict[str, Any] | None:
    """The manifest of a shard directory; None when it has none; ValueError naming the file when malformed."""
    path = Path(directory) / MANIFEST
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from e
    if not isinstance(data, dict):
        raise ValueError(f"{path}: holds {type(data).__name__}, expected an object")
    return data


def degradation_types_of(manifest: dict[str, Any] | None, source: str = MANIFEST) -> tuple[str, ...]:
    """The ordered degradation types a manifest declares; format 1's when it predates the key or is None."""
    if manifest is None or DEGRADATION_TYPES not in manifest:
        return FORMAT_1_DEGRADATION_TYPES
    types = manifest[DEGRADATION_TYPES]
    if not isinstance(types, list) or not all(isinstance(t, str) and t for t in types):
        raise ValueError(f"{source}: {DEGRADATION_TYPES} must be a list of non-empty strings, got {types!r}")
    if len(set(types)) != len(types):
        raise ValueError(f"{source}: {DEGRADATION_TYPES} lists a type twice: {types}")
    return tuple(types)


def read_degradation_types(directory: str | Path) -> tuple[str, ...]:
    """The ordered degradation types of a shard directory, from its manifest (format 1's when it has none)."""
    manifest = read_manifest(directory)
    if manifest is None:
        log.warning("%s: no %s; assuming the degradation types of shard format 1", directory, MANIFEST)
    return degradation_types_of(manifest, str(Path(directory) / MANIFEST))


def read_vocabulary(directories: Iterable[str | Path]) -> tuple[str, ...]:
    """The degradation types shared by several shard directories (e.g. train and valid).

    Raises ValueError naming both directories when they declare different types or orders:
    labels encoded with one vocabulary mean nothing under another.
    """
    found: tuple[str, ...] | None = None
    first: Path | None = None
    for directory in dict.fromkeys(Path(d) for d in directories):
        types = read_degradation_types(directory)
        if found is None:
            found, first = types, directory
        elif types != found:
            only_a, only_b = sorted(set(found) - set(types)), sorted(set(types) - set(found))
            detail = f"only in {first}: {only_a}; only in {directory}: {only_b}" if only_a or only_b else "same types, other order"
            raise ValueError(f"directories: {first} and {directory} declare different degradation types ({detail}); generate them with the same sesqa")
    if found is None:
        raise ValueError("directories: no shard directory given")
    return found


def strengthless_types_of(manifest: dict[str, Any] | None, source: str = MANIFEST) -> tuple[str, ...]:
    """The degradation types without a strength that a manifest declares, in its types' order.

    A manifest (or None) that predates the key gets `FORMAT_1_STRENGTHLESS_TYPES` among its types.
    ValueError naming `source` when the key is not a list of distinct names of its types.
    """
    types = degradation_types_of(manifest, source)
    if manifest is None or STRENGTHLESS_TYPES not in manifest:
        return tuple(t for t in types if t in FORMAT_1_STRENGTHLESS_TYPES)
    names = manifest[STRENGTHLESS_TYPES]
    if not isinstance(names, list) or not all(isinstance(t, str) and t for t in names):
        raise ValueError(f"{source}: {STRENGTHLESS_TYPES} must be a list of non-empty strings, got {names!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"{source}: {STRENGTHLESS_TYPES} lists a type twice: {names}")
    if unknown := sorted(set(names) - set(types)):
        raise ValueError(f"{source}: {STRENGTHLESS_TYPES} names {unknown}, which are not among its {DEGRADATION_TYPES}")
    return tuple(t for t in types if t in names)


def read_strengthless(directories: Iterable[str | Path]) -> tuple[str, ...]:
    """The degradation types without a strength shared by several shard directories (as `read_vocabulary`).

    Raises ValueError naming both directories when they disagree.
    """
    found: tuple[str, ...] | None = None
    first: Path | None = None
    for directory in dict.fromkeys(Path(d) for d in directories):
        names = strengthless_types_of(read_manifest(directory), str(directory / MANIFEST))
        if found is None:
            found, first = names, directory
        elif names != found:
            raise ValueError(
                f"directories: {first} and {directory} declare different types without a strength ({list(found)} and "
                f"{list(names)}); generate them with the same sesqa"
            )
    if found is None:
        raise ValueError("directories: no shard directory given")
    return found
