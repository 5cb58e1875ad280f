"""Validating shard reader (tar + JSON + FLAC only: never pickle)."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .codec import decode_flac
from .schema import QuadrupleRecord, ShardError

MEMBERS = ("json", "i.flac", "j.flac")


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
    path = str(path)
    try:
        with tarfile.open(path, "r:") as tar:
            key, members = None, {}
            for info in tar:
                if not info.isfile():
                    continue
                name = Path(info.name).name
                k, _, ext = name.partition(".")
                if k != key:
                    if key is not None:
                        yield decode_sample(path, key, members)
                    key, members = k, {}
                members[ext] = tar.extractfile(info).read()
            if key is not None:
                yield decode_sample(path, key, members)
    except (tarfile.TarError, OSError, EOFError) as e:
        raise ShardError(f"{path}: not a readable tar shard ({e})") from e


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
