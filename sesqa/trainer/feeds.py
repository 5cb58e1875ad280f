"""Endless batch supplies that know where they are, so a killed run resumes at the same batch."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

import torch

from ..model import SesqaModel
from .batch import Batch, Encoded

T = TypeVar("T")


class EpochFeed(Generic[T]):
    """Batches from one pass of a stream after another; `state()` is (pass, batches into it)."""

    def __init__(self, make_pass: Callable[[int, int], Iterable[T]], epoch: int = 0, position: int = 0):
        self._make_pass = make_pass
        self.epoch = epoch
        self.position = position
        self._it: Iterator[T] | None = None

    def __next__(self) -> T:
        for _ in range(2):
            if self._it is None:
                self._it = iter(self._make_pass(self.epoch, self.position))
            try:
                batch = next(self._it)
            except StopIteration:
                empty = self.position == 0
                self.epoch, self.position, self._it = self.epoch + 1, 0, None
                if empty:
                    break
                continue
            self.position += 1
            return batch
        raise RuntimeError(f"pass {self.epoch - 1} of the training data yielded no batch: every shard was unreadable or empty")

    def __iter__(self) -> "EpochFeed[T]":
        return self

    def state(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position}


def encode_batch(model: SesqaModel, batch: Batch) -> Encoded:
    """One encoder pass over every frame of the batch (BatchNorm sees them all), split back by group."""
    groups = [(name, getattr(batch, name).frames) for name in ("quad", "mos", "jnd") if getattr(batch, name) is not None]
    if not groups:
        raise ValueError("empty batch: no quadruples, MOS items or JND pairs")
    flat = torch.cat([frames.reshape(-1, frames.shape[-1]) for _, frames in groups])
    z = model.encode(flat)
    out: dict[str, torch.Tensor] = {}
    start = 0
    for name, frames in groups:
        lead = frames.shape[:-1]
        count = lead.numel()
        out[name] = z[start : start + count].reshape(*lead, z.shape[-1])
        start += count
    return Encoded(**out)
