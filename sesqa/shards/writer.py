"""Atomic shard writing: a shard appears under its final name only when complete."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import TracebackType

import numpy as np
import webdataset as wds

from .codec import encode_flac, gain_for
from .schema import QuadrupleRecord

PARTIAL_MARK = ".partial-"


def partial_name(path: Path) -> Path:
    """The temporary name a shard is written under (hidden, with the writer's pid)."""
    return path.with_name(f".{path.name}{PARTIAL_MARK}{os.getpid()}")


class ShardWriter:
    """Writes quadruples to a WebDataset tar, byte-reproducibly (fixed mtime, owner, order)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.tmp = partial_name(self.path)
        self._file = open(self.tmp, "wb")
        self._tar = wds.TarWriter(self._file, encoder=False, mtime=0.0, user="sesqa", group="sesqa", mode=0o444)
        self.count = 0

    def write(self, record: QuadrupleRecord, x_i: np.ndarray, x_j: np.ndarray) -> None:
        """Add one quadruple; record.gain_i / gain_j must be `gain_for` of the signals."""
        text = json.dumps(record.to_json(), sort_keys=True, allow_nan=False)
        self._tar.write(
            {
                "__key__": record.key,
                "json": text.encode(),
                "i.flac": encode_flac(x_i, record.sample_rate, record.gain_i),
                "j.flac": encode_flac(x_j, record.sample_rate, record.gain_j),
            }
        )
        self.count += 1

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._tar.close()
        self._file.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


__all__ = ["ShardWriter", "gain_for", "partial_name"]
