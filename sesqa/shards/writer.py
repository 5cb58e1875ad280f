"""Atomic shard writing: a shard appears under its final name only when complete."""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType

import numpy as np

from ..runtime.files import PARTIAL_MARK, AtomicFile
from .codec import encode_flac, gain_for
from .schema import QuadrupleRecord


def encode_pair(record: QuadrupleRecord, x_i: np.ndarray, x_j: np.ndarray) -> tuple[bytes, bytes]:
    """The two signals of a quadruple as the FLAC bytes a shard holds (gains from the record)."""
    return encode_flac(x_i, record.sample_rate, record.gain_i), encode_flac(x_j, record.sample_rate, record.gain_j)


class ShardWriter:
    """Writes quadruples to a WebDataset tar, byte-reproducibly (fixed mtime, owner, order)."""

    def __init__(self, path: Path):
        import webdataset as wds  # here, not at module level: webdataset imports torch, and reading a shard must not

        self._file = AtomicFile(path, "wb")  # under `.<name>.partial-<pid>-*` until complete
        self.path = self._file.path
        self._tar = wds.TarWriter(self._file.file, encoder=False, mtime=0.0, user="sesqa", group="sesqa", mode=0o444)
        self.count = 0

    def write(self, record: QuadrupleRecord, x_i: np.ndarray, x_j: np.ndarray) -> None:
        """Add one quadruple; record.gain_i / gain_j must be `gain_for` of the signals."""
        self.write_encoded(record, *encode_pair(record, x_i, x_j))

    def write_encoded(self, record: QuadrupleRecord, i_flac: bytes, j_flac: bytes) -> None:
        """Add one quadruple whose signals `encode_pair` made (in a worker process, so that the
        process writing the shard only appends bytes)."""
        text = json.dumps(record.to_json(), sort_keys=True, allow_nan=False)
        self._tar.write({"__key__": record.key, "json": text.encode(), "i.flac": i_flac, "j.flac": j_flac})
        self.count += 1

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            self._tar.close()
        except BaseException:
            self._file.discard()
            raise
        if exc_type is None:
            self._file.commit()
        else:
            self._file.discard()


__all__ = ["PARTIAL_MARK", "ShardWriter", "encode_pair", "gain_for"]
