"""Validating shard reader (tar + JSON + FLAC only: never pickle)."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from .codec import decode_flac
from .schema import QuadrupleRecord, ShardError

MEMBERS = ("json", "i.flac", "j.flac")
T = TypeVar("T")


class UnreadableShard(ShardError):
    """The shard is not a readable tar (from some point on): an error about the file, not one sample."""


@dataclass(frozen=True)
class QuadrupleSample:
    """A decoded quadruple: its record and x_i, x_j (1 s + delay each)."""

    record: QuadrupleRecord
    x_i: np.ndarray
    x_j: np.ndarray

    def frames(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x_ik, x_il, x_jk, x_jl), each `frame_samples` long."""
        n, d = self.record.frame_samples, self.record.delay_samples
        return self.x_i[:n], self.x_i[d : d + n], self.x_j[:n], self.x_j[d : d + n]


def decode_sample(shard: str, key: str, members: dict[str, bytes]) -> QuadrupleSample:
    """Validate and decode one sample's members; raises ShardError naming shard and key."""
    missing = [m for m in MEMBERS if m not in members]
    if missing:
        raise ShardError(f"{shard}: sample {key} lacks {missing}")
    try:
        record = QuadrupleRecord.from_json(json.loads(members["json"]))
    except (ValueError, UnicodeDecodeError) as e:
        raise ShardError(f"{shard}: sample {key}: {e}") from e
    if record.key != key:
        raise ShardError(f"{shard}: sample {key} holds a record keyed {record.key!r}")
    expected = record.frame_samples + record.delay_samples
    audio = []
    for name, gain in (("i.flac", record.gain_i), ("j.flac", record.gain_j)):
        try:
            x, sr = decode_flac(members[name], gain)
        except Exception as e:  # noqa: BLE001 - libsndfile raises several types on corrupt data
            raise ShardError(f"{shard}: sample {key}: {name} is not valid FLAC ({e})") from e
        if sr != record.sample_rate or x.ndim != 1 or len(x) != expected:
            raise ShardError(f"{shard}: sample {key}: {name} is {len(x)} samples at {sr} Hz, expected {expected} at {record.sample_rate} Hz")
        audio.append(x)
    return QuadrupleSample(record, audio[0], audio[1])


def read_shard(path: str | Path) -> Iterator[QuadrupleSample]:
    """Yield every quadruple of a shard, validated; raises ShardError at the first bad one."""
    for item in iter_samples(path):
        if isinstance(item, ShardError):
            raise item
        yield item


def iter_samples(path: str | Path) -> Iterator[QuadrupleSample | ShardError]:
    """Every sample of a shard, decoded, or the ShardError naming what is wrong with it.

    A bad sample does not end the iteration (so `shards check` can report every one); a shard
    that stops being a readable tar ends it with one ShardError saying after how many samples.
    """
    path = str(path)
    seen = 0
    try:
        with tarfile.open(path, "r:") as tar:
            for key, members in _grouped(tar, lambda info: tar.extractfile(info).read()):  # type: ignore[union-attr]
                seen += 1
                try:
                    yield decode_sample(path, key, members)
                except ShardError as e:
                    yield e
    except (tarfile.TarError, OSError, EOFError) as e:
        error = UnreadableShard(f"{path}: not a readable tar shard ({e})" + (f" after {seen} sample(s)" if seen else ""))
        error.__cause__ = e
        yield error


def _grouped(tar: tarfile.TarFile, content: Callable[[tarfile.TarInfo], T]) -> Iterator[tuple[str, dict[str, T]]]:
    """(key, {extension: content(member)}) per run of consecutive members sharing a key, in tar order."""
    key, members = None, {}
    for info in tar:
        if not info.isfile():
            continue
        k, _, ext = Path(info.name).name.partition(".")
        if k != key:
            if key is not None:
                yield key, members
            key, members = k, {}
        members[ext] = content(info)
    if key is not None:
        yield key, members


@dataclass(frozen=True)
class ShardContents:
    """What a shard holds, from its tar headers and JSON records alone (no audio decoded)."""

    records: dict[str, QuadrupleRecord]
    """The samples whose members are all there (non-empty) and whose record is valid, by key."""
    problems: dict[str, str]
    """What is wrong with each other sample, by key."""


def shard_contents(path: str | Path) -> ShardContents:
    """Read a shard's records and check each sample has every member, without decoding audio.

    Cheap enough to run over every existing shard when a generation run resumes; raises
    ShardError naming the file when it is not a readable tar to its end.
    """
    path = str(path)
    records: dict[str, QuadrupleRecord] = {}
    problems: dict[str, str] = {}
    try:
        with tarfile.open(path, "r:") as tar:

            def content(info: tarfile.TarInfo) -> bytes | int:
                return tar.extractfile(info).read() if info.name.endswith(".json") else info.size  # type: ignore[union-attr]

            for key, members in _grouped(tar, content):
                if missing := [m for m in MEMBERS if not members.get(m)]:
                    problems[key] = f"lacks {missing} (or they are empty)"
                    continue
                try:
                    record = QuadrupleRecord.from_json(json.loads(members["json"]))
                except (ValueError, UnicodeDecodeError) as e:
                    problems[key] = str(e)
                    continue
                if record.key != key:
                    problems[key] = f"holds a record keyed {record.key!r}"
                    continue
                records[key] = record
    except (tarfile.TarError, OSError, EOFError) as e:
        raise ShardError(f"{path}: not a readable tar shard ({e})") from e
    return ShardContents(records, problems)


def read_records(path: str | Path) -> Iterator[QuadrupleRecord]:
    """Yield the validated JSON records of a shard without decoding its audio (for statistics)."""
    path = str(path)
    try:
        with tarfile.open(path, "r:") as tar:
            for info in tar:
                if info.isfile() and info.name.endswith(".json"):
                    try:
                        yield QuadrupleRecord.from_json(json.loads(tar.extractfile(info).read()))
                    except (ValueError, UnicodeDecodeError) as e:
                        raise ShardError(f"{path}: {info.name}: {e}") from e
    except (tarfile.TarError, OSError, EOFError) as e:
        raise ShardError(f"{path}: not a readable tar shard ({e})") from e
