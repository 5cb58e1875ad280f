"""Streaming reader of generated quadruples: WebDataset shards -> labelled, augmented QuadBatch.

The stream is built from webdataset's pipeline pieces (DataPipeline, the tar expander and
key grouping, the shuffle buffer) and decodes every sample with the validating shard reader
(tar + JSON + FLAC: never pickle). Batches are made inside the dataset, so a DataLoader with
`batch_size=None` passes them through.

Determinism. All randomness comes from numpy generators seeded by SeedSequence:
- the shard order of an epoch from (seed, epoch): every rank computes the same order, then
  takes every world_size-th shard (split by node), and every DataLoader worker every
  num_workers-th of those (split by worker);
- the sample shuffle buffer of a worker from (seed, epoch, rank, worker);
- the augmentation of a sample from (seed, epoch, rank, worker, position of the sample in the
  worker's shuffled stream), not from a running generator, so skipping samples keeps it exact.

Resume. A DataLoader with W workers takes batches round-robin from workers 0, 1, ..., W-1 and,
once a worker is exhausted, from the others in the same order. Given the batches this rank
consumed in the epoch (`skip_batches`), the stream works out how many of them each worker
role yielded (from the sample counts of every role's shards, read from the tar headers) and
which role was due next; since a fresh DataLoader asks its worker 0 first, DataLoader worker w
takes role (w + next) mod W. Each role then drops its consumed samples right after the shuffle
buffer, before any FLAC decoding or augmentation. The continuation equals the uninterrupted
stream, except when a sample in the skipped part had corrupt FLAC audio (only its JSON is
checked while skipping) or the worker count changed.

Bad input. An unreadable or corrupt shard is logged with its name and the rest of it skipped;
a bad sample is logged with its shard and key and skipped (`skipped_samples` counts them in
this process). Neither stops the stream.

The labels of a record (`vocabulary`, `quad_labels`, `collate`) live in quad_labels.py and the
shard bookkeeping (`shard_sizes`, `count_samples`, `round_robin_share`, node and worker
identity) in shard_plan.py; their public names are importable from here too.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import webdataset as wds
from torch.utils.data import IterableDataset
from webdataset.tariterators import group_by_keys, tar_file_expander

from ..audio import SAMPLE_RATE
from ..shards.manifest import FORMAT_1_STRENGTHLESS_TYPES
from ..shards.moments import RunningStats
from ..shards.reader import MEMBERS, decode_sample
from ..shards.schema import QuadrupleRecord, ShardError
from .augment import Augment, augment_group
from .batch import QuadBatch
from .quad_labels import CLEAN, QuadLabels, collate, quad_labels, vocabulary
from .shard_plan import Pass, Randint, count_samples, node_info, round_robin_share, seeded_rng, shard_sizes, worker_info

__all__ = [
    "CLEAN", "FRAME_SAMPLES", "QuadLabels", "QuadrupleStream", "collate", "count_samples", "holds_a_readable_sample", "node_info",
    "quad_labels", "round_robin_share", "shard_sizes", "vocabulary", "worker_info",
]

log = logging.getLogger(__name__)

FRAME_SAMPLES = SAMPLE_RATE
"""1 s frames at 48 kHz (spec section 3)."""

_TAG_SHARDS, _TAG_SHUFFLE, _TAG_RESAMPLE, _TAG_AUGMENT = 101, 102, 103, 104
"""Distinct SeedSequence words, so the generators of different purposes never coincide."""
_MAX_FRUITLESS_DRAWS = 100
"""Resampled streams give up after this many (and 3 x the shard count) draws without a sample."""


# --- the stream ---------------------------------------------------------------------------------


class QuadrupleStream(IterableDataset):
    """QuadBatch after QuadBatch from WebDataset shards of generated quadruples.

    One iteration is one epoch over this rank's shards (endless when `resampled`). Use it with
    `torch.utils.data.DataLoader(stream, batch_size=None, num_workers=W)`.
    """

    def __init__(
        self,
        shards: Sequence[str | Path],
        vocabulary: Sequence[str],
        metric_names: Sequence[str],
        stats: RunningStats | None,
        batch_size: int,
        seed: int = 0,
        shuffle_buffer: int = 1000,
        resampled: bool = False,
        augment: Augment | None = None,
        epoch: int = 0,
        skip_batches: int = 0,
        drop_last: bool = False,
        frame_samples: int = FRAME_SAMPLES,
        rank: int | None = None,
        world_size: int | None = None,
        strengthless_types: Sequence[str] = FORMAT_1_STRENGTHLESS_TYPES,
    ):
        """
        shards: tar files; shuffle_buffer: samples held for shuffling (0 = file order, no shard
        shuffling: for validation); resampled: draw shards with replacement, endlessly;
        skip_batches: batches this rank already consumed in `epoch` (resume); drop_last: drop each
        worker's final partial batch; rank/world_size: override node detection (torch.distributed,
        else RANK/WORLD_SIZE, else 0/1, read when the stream is made); strengthless_types: the
        types without a strength label (the manifest's, `read_strengthless`).
        """
        super().__init__()
        self.shards = tuple(str(s) for s in shards)
        if not self.shards:
            raise ValueError("shards: no shard files given")
        self.vocabulary = tuple(vocabulary)
        if CLEAN not in self.vocabulary:
            raise ValueError(f"vocabulary must contain {CLEAN!r}")
        self.strengthless_types = tuple(strengthless_types)
        if CLEAN in self.strengthless_types:
            raise ValueError(f"strengthless_types must not contain {CLEAN!r}, got {list(self.strengthless_types)}")
        self.metric_names = tuple(metric_names)
        if self.metric_names:
            if stats is None:
                raise ValueError(f"stats: metric targets {list(self.metric_names)} need normalisation statistics, got None")
            if unknown := [n for n in self.metric_names if n not in stats.names]:
                raise ValueError(f"metric_names: {unknown} have no statistics (stats track {list(stats.names)})")
        self.stats = stats
        for name, value, least in (("batch_size", batch_size, 1), ("seed", seed, 0), ("shuffle_buffer", shuffle_buffer, 0), ("epoch", epoch, 0), ("skip_batches", skip_batches, 0), ("frame_samples", frame_samples, 1)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        if (rank is None) != (world_size is None):
            raise ValueError(f"give both rank and world_size or neither, got rank={rank!r}, world_size={world_size!r}")
        if world_size is not None and not (world_size >= 1 and 0 <= rank < world_size):
            raise ValueError(f"rank must lie in [0, world_size), got rank={rank}, world_size={world_size}")
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.shuffle_buffer = int(shuffle_buffer)
        self.resampled = bool(resampled)
        self.augment = augment
        self.epoch = int(epoch)
        self.skip_batches = int(skip_batches)
        self.drop_last = bool(drop_last)
        self.frame_samples = int(frame_samples)
        # Resolved here, in the launching process: DataLoader workers need no process group.
        self.rank, self.world_size = (rank, world_size) if world_size is not None else node_info()
        self.skipped_samples = 0
        """Bad samples met by iterations in this process (DataLoader workers keep their own)."""
        self.bad_shards: set[str] = set()
        """Shards found unreadable or corrupt by iterations in this process."""

    def set_epoch(self, epoch: int, skip_batches: int = 0) -> None:
        """Start the next iteration at `epoch`, after `skip_batches` batches already consumed."""
        if epoch < 0 or skip_batches < 0:
            raise ValueError(f"epoch and skip_batches must be >= 0, got {epoch}, {skip_batches}")
        self.epoch, self.skip_batches = int(epoch), int(skip_batches)

    # --- planning ---

    def node(self) -> tuple[int, int]:
        """(rank, world size) this stream reads for (given, or detected when it was made)."""
        return self.rank, self.world_size

    def epoch_shards(self) -> list[str]:
        """Every shard in this epoch's order: shuffled by (seed, epoch), or as given when shuffle_buffer is 0."""
        if self.shuffle_buffer == 0:
            return list(self.shards)
        order = seeded_rng(self.seed, self.epoch, _TAG_SHARDS).permutation(len(self.shards))
        return [self.shards[k] for k in order]

    def worker_shards(self, worker: int = 0, num_workers: int = 1) -> list[str]:
        """The shards one worker of this rank reads in this epoch (split by node, then by worker)."""
        rank, world = self.node()
        return self.epoch_shards()[rank::world][worker::num_workers]

    def worker_batches(self, num_workers: int = 1) -> list[int]:
        """Batches each worker of this rank yields in this epoch (from tar headers; not for resampled)."""
        if self.resampled:
            raise ValueError("a resampled stream is endless: it has no batch count")
        counts = []
        for w in range(num_workers):
            n = sum(shard_sizes(self.worker_shards(w, num_workers)))
            counts.append(n // self.batch_size if self.drop_last else -(-n // self.batch_size))
        return counts

    def planned_batches(self, num_workers: int = 1) -> int:
        """Batches this rank yields in one epoch through a DataLoader with `num_workers` (0 = 1)."""
        return sum(self.worker_batches(max(1, num_workers)))

    def resume_plan(self, num_workers: int = 1) -> tuple[list[int], int]:
        """(batches of `skip_batches` that each worker role yielded, the role whose batch is next).

        A fresh DataLoader asks worker 0 first, so on resume DataLoader worker w plays role
        (w + next) % W: the round-robin order of the roles then continues where it stopped.
        """
        if self.skip_batches == 0:
            return [0] * num_workers, 0
        if num_workers == 1:
            return [self.skip_batches], 0
        counts: list[float] = [math.inf] * num_workers if self.resampled else list(self.worker_batches(num_workers))
        share, first = round_robin_share(self.skip_batches, counts)
        if sum(share) < self.skip_batches:
            log.warning("skip_batches %d exceeds the %d batches of epoch %d on this rank: nothing is left", self.skip_batches, sum(share), self.epoch)
        return share, first

    # --- iteration ---

    def __iter__(self) -> Iterator[QuadBatch]:
        rank, world = self.node()
        process, num_workers = worker_info()
        share, first = self.resume_plan(num_workers)
        worker = (process + first) % num_workers
        state = Pass()
        if self.resampled:
            urls: Iterable[str] = self._resampled_urls(rank, worker, state)
        else:
            urls = self.worker_shards(worker, num_workers)
            if not urls:
                log.warning(
                    "worker %d of %d on rank %d of %d has no shard in epoch %d (%d shards): use more shards or fewer workers",
                    worker, num_workers, rank, world, self.epoch, len(self.shards),
                )
        skip = share[worker] * self.batch_size
        stages: list[Any] = [
            lambda: ({"url": u} for u in urls),
            functools.partial(self._open, state=state),
            functools.partial(tar_file_expander, handler=functools.partial(self._tar_error, state=state)),
            functools.partial(group_by_keys, handler=functools.partial(self._tar_error, state=state)),
        ]
        if self.shuffle_buffer > 0:
            rng = Randint(seeded_rng(self.seed, self.epoch, rank, worker, _TAG_SHUFFLE))
            stages.append(wds.shuffle(bufsize=self.shuffle_buffer, initial=self.shuffle_buffer, rng=rng))
        stages += [
            functools.partial(self._number_and_skip, skip=skip, state=state),
            functools.partial(self._decode, rank=rank, worker=worker, state=state),
            self._batch,
        ]
        return iter(wds.DataPipeline(*stages))

    def _resampled_urls(self, rank: int, worker: int, state: Pass) -> Iterator[str]:
        rng = seeded_rng(self.seed, self.epoch, rank, worker, _TAG_RESAMPLE)
        limit = max(_MAX_FRUITLESS_DRAWS, 3 * len(self.shards))
        while True:
            if state.fruitless_draws > limit:
                raise ShardError(f"{state.fruitless_draws} shard draws in a row gave no readable quadruple: are all {len(self.shards)} shards corrupt?")
            state.fruitless_draws += 1
            yield self.shards[int(rng.integers(len(self.shards)))]

    def _open(self, sources: Iterable[dict[str, Any]], state: Pass) -> Iterator[dict[str, Any]]:
        """Open each shard for the tar expander; closes it when the expander moves on."""
        for source in sources:
            url = source["url"]
            state.shard = url
            try:
                with open(url, "rb") as stream:
                    yield {**source, "stream": stream}
            except OSError as e:  # only open() raises here: reading happens (and is handled) downstream
                self._bad_shard(url, e)

    def _tar_error(self, exn: Exception, state: Pass) -> bool:
        """webdataset handler: log the damaged shard, skip the rest of it, go on."""
        self._bad_shard(state.shard, exn)
        return True

    def _bad_shard(self, shard: str, exn: BaseException) -> None:
        self.bad_shards.add(shard)
        message = str(exn.args[0]) if getattr(exn, "args", None) else repr(exn)
        log.warning("%s: unreadable or corrupt shard, skipping the rest of it (%s: %s)", shard, type(exn).__name__, message)

    def _number_and_skip(self, samples: Iterable[dict[str, Any]], skip: int, state: Pass) -> Iterator[tuple[int, dict[str, Any]]]:
        """(position, raw sample), after dropping the first `skip` good samples undecoded."""
        for position, raw in enumerate(samples):
            if skip > 0:
                if self._looks_good(raw):
                    skip -= 1
                    state.fruitless_draws = 0
                continue
            yield position, raw

    def _looks_good(self, raw: dict[str, Any]) -> bool:
        """The checks of decoding minus the FLAC audio: members, JSON record, key, frame length."""
        if any(m not in raw for m in MEMBERS):
            return False
        try:
            record = QuadrupleRecord.from_json(json.loads(raw["json"]))
        except ValueError:  # as _decode: malformed JSON or record (ShardError is a ValueError)
            return False
        return record.key == raw.get("__key__") and self._frame_problem(record) is None

    def _frame_problem(self, record: QuadrupleRecord) -> str | None:
        if record.sample_rate != SAMPLE_RATE or record.frame_samples != self.frame_samples:
            return f"frames of {record.frame_samples} samples at {record.sample_rate} Hz, expected {self.frame_samples} at {SAMPLE_RATE} Hz"
        return None

    def _decode(
        self, samples: Iterable[tuple[int, dict[str, Any]]], rank: int, worker: int, state: Pass
    ) -> Iterator[tuple[np.ndarray, QuadLabels]]:
        for position, raw in samples:
            shard, key = raw.get("__url__", state.shard), raw.get("__key__", "?")
            try:
                sample = decode_sample(shard, key, raw)
                if problem := self._frame_problem(sample.record):
                    raise ShardError(f"{shard}: sample {key}: {problem}")
                labels = quad_labels(sample.record, self.vocabulary, self.metric_names, self.stats, self.strengthless_types)
            except ValueError as e:  # ShardError, or a type outside the vocabulary
                self.skipped_samples += 1
                log.warning("%s: skipping bad sample %s (%s)", shard, key, e)
                continue
            frames = np.stack(sample.frames())
            if self.augment is not None:
                frames = augment_group(frames, self.augment, seeded_rng(self.seed, self.epoch, rank, worker, position, _TAG_AUGMENT))
            state.fruitless_draws = 0
            yield frames.astype(np.float32, copy=False), labels

    def _batch(self, items: Iterable[tuple[np.ndarray, QuadLabels]]) -> Iterator[QuadBatch]:
        frames: list[np.ndarray] = []
        labels: list[QuadLabels] = []
        for f, l in items:
            frames.append(f)
            labels.append(l)
            if len(frames) == self.batch_size:
                yield collate(frames, labels)
                frames, labels = [], []
        if frames and not self.drop_last:
            yield collate(frames, labels)


def holds_a_readable_sample(
    shards: Sequence[str | Path], vocabulary: Sequence[str], metric_names: Sequence[str], stats: RunningStats | None
) -> bool:
    """Whether any of `shards` holds a quadruple the stream decodes and labels (read in file order, up to the first).

    The trainer asks before training: shards in which every sample is damaged or missing stop
    the run with a message, not with an empty first pass. Usually the first sample answers.
    """
    stream = QuadrupleStream(shards, vocabulary, metric_names, stats, batch_size=1, shuffle_buffer=0, rank=0, world_size=1)
    batches = iter(stream)
    try:
        return next(batches, None) is not None
    finally:
        if close := getattr(batches, "close", None):
            close()
