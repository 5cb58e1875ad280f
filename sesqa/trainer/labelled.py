"""Human-labelled data streamed for training: MOS items and JND pairs as random 1 s crops.

The lists are read by `sesqa.labels` (`read_mos`, `read_jnd`; formats in docs/train.md, "Label
files: MOS, JND and pairs"); training skips items whose audio is missing, with a warning, and
drops with a warning an item whose file cannot be read or is shorter than the minimum `sesqa
score` accepts (`sesqa.audio.check_duration`: one rule, so no clip is trained on that could not
be scored).

The streams are endless: they walk their items in a fresh seeded order every pass (MOS and JND
items are reused within an epoch, as in the paper) and take a random 1 s crop of each file
(temporal sampling), the same offset for both files of a pair, then augment the group. Each
position's randomness comes from (seed, pass, index in pass), so `state()`/`restore()` and
`skip()` resume the same sequence exactly. Pass a different seed per rank for distributed runs.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import torch

from .. import audio
from ..audio import SAMPLE_RATE, AudioError, check_duration
from ..labels import JndItem, MosItem
from .augment import Augment, augment_group
from .batch import JndBatch, MosBatch

log = logging.getLogger(__name__)

FRAME_SAMPLES = SAMPLE_RATE
"""1 s crops at 48 kHz."""
_TAG_ORDER, _TAG_ITEM, _TAG_HOLDOUT = 201, 202, 203


T = TypeVar("T")


def split_holdout(items: Sequence[T], fraction: float = 0.1, seed: int = 0) -> tuple[list[T], list[T]]:
    """(kept, held out): a seeded random `fraction` of the items held out (at least one of two or more).

    Items are held out one by one, not by system, so validation sees the training systems.
    """
    if not (math.isfinite(fraction) and 0.0 < fraction < 1.0):
        raise ValueError(f"fraction must lie in (0, 1), got {fraction!r}")
    n = len(items)
    n_held = min(n - 1, max(1, round(fraction * n))) if n >= 2 else 0
    held = set(_rng(seed, _TAG_HOLDOUT).permutation(n)[:n_held].tolist())
    return [x for k, x in enumerate(items) if k not in held], [x for k, x in enumerate(items) if k in held]


# --- streams ------------------------------------------------------------------------------------


def _rng(*words: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(w) for w in words]))


def fit(x: np.ndarray, n: int) -> np.ndarray:
    """`x` cut or zero-padded at the end to `n` samples (a file shorter than a frame, but not than
    `sesqa.audio.MIN_DURATION_S`, is padded, as the scorer pads its one frame)."""
    if len(x) >= n:
        return x[:n]
    return np.concatenate([x, np.zeros(n - len(x), dtype=x.dtype)])


class _CropStream(Generic[T]):
    """Endless, seeded batches of random crops of labelled items; see the module docstring."""

    what = "items"

    def __init__(
        self,
        items: Sequence[T],
        batch_size: int,
        seed: int = 0,
        augment: Augment | None = None,
        frame_samples: int = FRAME_SAMPLES,
        sample_rate: int = SAMPLE_RATE,
    ):
        self.items = tuple(items)
        if not self.items:
            raise ValueError(f"items: no {self.what} to stream")
        for name, value, least in (("batch_size", batch_size, 1), ("seed", seed, 0), ("frame_samples", frame_samples, 1), ("sample_rate", sample_rate, 1)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.augment = augment
        self.frame_samples = int(frame_samples)
        self.sample_rate = int(sample_rate)
        self._pass = 0
        self._index = 0
        self._batches = 0
        self._dropped: set[int] = set()
        self._order_cache: tuple[int, np.ndarray] | None = None
        self._durations: dict[Path, float] = {}

    # subclasses
    def _paths(self, item: T) -> tuple[Path, ...]:
        raise NotImplementedError

    def _target(self, item: T) -> float:
        raise NotImplementedError

    def _make(self, frames: np.ndarray, targets: np.ndarray) -> Any:
        raise NotImplementedError

    # position bookkeeping
    def _order(self, p: int) -> np.ndarray:
        if self._order_cache is None or self._order_cache[0] != p:
            self._order_cache = (p, _rng(self.seed, p, _TAG_ORDER).permutation(len(self.items)))
        return self._order_cache[1]

    def _next_position(self) -> tuple[int, int, int]:
        """(pass, index in pass, item) of the next item still in the pool; moves the cursor."""
        if len(self._dropped) >= len(self.items):
            raise ValueError(f"every one of the {len(self.items)} {self.what} failed to read: nothing left to stream")
        while True:
            if self._index >= len(self.items):
                self._pass, self._index = self._pass + 1, 0
            p, i = self._pass, self._index
            k = int(self._order(p)[i])
            self._index += 1
            if k not in self._dropped:
                return p, i, k

    def state(self) -> dict[str, Any]:
        """Where the stream is: enough for `restore` to continue the same sequence."""
        return {"items": len(self.items), "seed": self.seed, "pass": self._pass, "index": self._index, "batches": self._batches, "dropped": sorted(self._dropped)}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a `state()`; ValueError if it belongs to another item list or seed."""
        try:
            items, seed = int(state["items"]), int(state["seed"])
            p, i, b = int(state["pass"]), int(state["index"]), int(state["batches"])
            dropped = {int(k) for k in state["dropped"]}
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"state: not a {type(self).__name__} state ({e!r})") from e
        if items != len(self.items) or seed != self.seed:
            raise ValueError(f"state: saved for {items} {self.what} with seed {seed}, this stream has {len(self.items)} with seed {self.seed}")
        if p < 0 or not 0 <= i <= items or b < 0 or any(not 0 <= k < items for k in dropped):
            raise ValueError(f"state: position pass {p}, index {i}, batches {b} or dropped {sorted(dropped)[:5]} out of range")
        self._pass, self._index, self._batches, self._dropped = p, i, b, dropped

    def skip(self, n_batches: int) -> None:
        """Move past `n_batches` batches without reading audio (exact unless a file in them fails)."""
        if n_batches < 0:
            raise ValueError(f"n_batches must be >= 0, got {n_batches}")
        for _ in range(n_batches * self.batch_size):
            self._next_position()
        self._batches += n_batches

    @property
    def dropped(self) -> list[T]:
        """Items dropped because their audio failed to read."""
        return [self.items[k] for k in sorted(self._dropped)]

    # reading
    def _duration(self, path: Path) -> float:
        """The file's length; AudioError when it is shorter than the minimum `sesqa score` accepts."""
        if path not in self._durations:
            found = audio.info(path)
            check_duration(path, round(found.duration_s * found.sample_rate), found.sample_rate)
            self._durations[path] = found.duration_s
        return self._durations[path]

    def _crop(self, item: T, rng: np.random.Generator) -> np.ndarray:
        """(files, frame_samples): one random crop at the same offset in every file of the item."""
        paths = self._paths(item)
        frame_s = self.frame_samples / self.sample_rate
        span = max(0.0, min(self._duration(p) for p in paths) - frame_s)
        offset = float(rng.uniform(0.0, span))
        group = np.stack([fit(audio.load(p, self.sample_rate, offset, frame_s), self.frame_samples) for p in paths])
        return augment_group(group, self.augment, rng)

    def __iter__(self) -> _CropStream[T]:
        return self

    def __next__(self) -> Any:
        frames, targets = [], []
        while len(frames) < self.batch_size:
            p, i, k = self._next_position()
            item = self.items[k]
            try:
                frames.append(self._crop(item, _rng(self.seed, p, i, _TAG_ITEM)))
            except (AudioError, OSError) as e:
                self._dropped.add(k)
                files = ", ".join(str(f) for f in self._paths(item))
                log.warning("dropping %s from the %s pool (%d of %d dropped): %s", files, self.what, len(self._dropped), len(self.items), e)
                continue
            targets.append(self._target(item))
        self._batches += 1
        return self._make(np.stack(frames).astype(np.float32, copy=False), np.asarray(targets, dtype=np.float32))


class MosStream(_CropStream[MosItem]):
    """Endless MosBatch of `batch_size` random 1 s crops of rated recordings."""

    what = "MOS items"

    def _paths(self, item: MosItem) -> tuple[Path, ...]:
        return (item.path,)

    def _target(self, item: MosItem) -> float:
        return item.mos

    def _make(self, frames: np.ndarray, targets: np.ndarray) -> MosBatch:
        return MosBatch(frames=torch.from_numpy(np.ascontiguousarray(frames[:, 0])), mos=torch.from_numpy(targets))


class JndStream(_CropStream[JndItem]):
    """Endless JndBatch of `batch_size` pairs, both cropped at the same random offset."""

    what = "JND pairs"

    def _paths(self, item: JndItem) -> tuple[Path, ...]:
        return (item.path_a, item.path_b)

    def _target(self, item: JndItem) -> float:
        return float(item.label)

    def _make(self, frames: np.ndarray, targets: np.ndarray) -> JndBatch:
        return JndBatch(frames=torch.from_numpy(frames), label=torch.from_numpy(targets))
