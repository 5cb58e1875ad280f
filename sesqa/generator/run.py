"""Parallel, deterministic, resumable, distributable generation of quadruple shards.

Each quadruple's randomness comes from (seed, split, shard, index) alone, so the bytes of a
shard do not depend on the number of workers or machines, or on which shards were made before.
A shard is written under a hidden temporary name and renamed when complete, so a killed run
leaves no partial shard under a final name; a rerun keeps the complete shards made with its
settings and makes the others (resume.py).
"""

from __future__ import annotations

import json
import logging
import math
import multiprocessing as mp
import os
import queue
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from .. import __version__
from ..audio import SAMPLE_RATE
from ..data import BUNDLED_NOISE_DIR, default_clean_roots, portable_path
from ..runtime.device import available_cpus, single_threaded_children
from ..runtime.distributed_env import task_slot
from ..runtime.files import PARTIAL_MARK, atomic_write_text
from ..runtime.progress import forward_records, progress_bar, queue_logging
from ..runtime.seeds import check_seed
from ..shards.schema import SCHEMA, SPLITS, QuadrupleRecord, SourceRef
from ..shards.writer import ShardWriter, encode_pair, gain_for
from ..shards.manifest import DEGRADATION_TYPES, MANIFEST, STRENGTHLESS_TYPES
from ..shards.stats import write_stats
from .degradations.base import strengthless_types
from .degradations.band_limit import for_source
from .degradations.pools import DEFAULT_POOL, check_balance, check_encoders, check_pool, label_types, pool_weights
from .chunks import CHUNK, Chunk, ChunkResult, write_chunks
from .metrics import METRIC_NAMES, compute
from .quadruple import QuadrupleMaker
from .resume import check_manifest, complete_shards, train_stats
from .sources import SOURCE_FRAME_S, Corpus, FrameSampler, NoiseBank, ScanReport, scan_corpus

log = logging.getLogger(__name__)

PAPER_RATIOS = (50_000.0, 10_000.0, 10_000.0)
MIN_NOISE_S = 0.5
BUNDLED_SPEAKER_PATTERN = r"speech/([^/]+)/"
"""The bundled corpus has one speaker per language directory."""


@dataclass(frozen=True)
class GenerateConfig:
    """Everything that decides the content of the shards (plus how to run)."""

    out: Path
    n: int = 70_000
    seed: int = 0
    ratios: tuple[float, float, float] = PAPER_RATIOS
    """Relative sizes of train, valid, test."""
    shard_size: int = 1000
    clean: tuple[Path, ...] = ()
    """Clean speech roots, one data set each; empty = the bundled corpus, one data set per language."""
    noise: tuple[Path, ...] = ()
    speaker_pattern: str | None = None
    splits: tuple[str, ...] = SPLITS
    """Which splits this run writes."""
    workers: int = field(default_factory=available_cpus)
    shard_range: tuple[int, int] | None = None
    """[A, B) over the global shard list; None = from SLURM / torchrun variables, or all."""
    cache_dir: Path | None = None
    metrics: tuple[str, ...] = METRIC_NAMES
    """Reference-based measures computed on each (x_i, x_j); () for none."""
    pool: str = DEFAULT_POOL
    """The degradation pool drawn from (`degradations/pools.py`): paper, telephony or all."""
    balance: float = 0.0
    """How far the pool's weights are flattened: 0 keeps them, 1 draws every type equally."""

    def __post_init__(self) -> None:
        check_seed(self.seed)
        check_pool(self.pool)
        check_balance(self.balance)
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")
        if self.shard_size < 1:
            raise ValueError(f"shard_size must be >= 1, got {self.shard_size}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if len(self.ratios) != 3 or any(r < 0 or not math.isfinite(r) for r in self.ratios) or sum(self.ratios) <= 0:
            raise ValueError(f"ratios must be three non-negative numbers (train, valid, test) with a positive sum, got {self.ratios}")
        if empty := [s for s, r in zip(SPLITS, self.ratios) if r > 0 and _split_sizes(self.n, self.ratios)[s] == 0]:
            start = max(self.n, math.ceil(sum(self.ratios) / min(r for r in self.ratios if r > 0)) - 2)
            need = next((m for m in range(start, start + 10**6) if all(_split_sizes(m, self.ratios)[s] for s in empty)), start)
            raise ValueError(
                f"n={self.n} gives the {' and '.join(empty)} split{'s' if len(empty) > 1 else ''} 0 quadruples "
                f"at ratios {','.join(f'{r:g}' for r in self.ratios)}; "
                f"use n >= {need}, or ratio 0 for a split you do not want"
            )
        if unknown := set(self.splits) - set(SPLITS):
            raise ValueError(f"splits must be among {SPLITS}, got {sorted(unknown)}")
        if unknown := [m for m in self.metrics if m not in METRIC_NAMES]:
            raise ValueError(f"metrics must be among {list(METRIC_NAMES)}, got {unknown}")
        if self.shard_range is not None and not 0 <= self.shard_range[0] < self.shard_range[1]:
            raise ValueError(f"shard_range must be A:B with 0 <= A < B, got {self.shard_range}")

    @property
    def clean_roots(self) -> tuple[Path, ...]:
        if self.clean:
            return self.clean
        return default_clean_roots()

    @property
    def noise_roots(self) -> tuple[Path, ...]:
        if self.noise:
            return self.noise
        return tuple(sorted(p for p in BUNDLED_NOISE_DIR.iterdir() if p.is_dir()))

    @property
    def effective_speaker_pattern(self) -> str | None:
        return self.speaker_pattern if (self.clean or self.speaker_pattern) else BUNDLED_SPEAKER_PATTERN

    def split_sizes(self) -> dict[str, int]:
        """Quadruples per split: n in proportion to ratios, the rounding remainder to train."""
        return _split_sizes(self.n, self.ratios)

    def identity(self) -> dict[str, object]:
        """What must match for a rerun to resume into the same directory."""
        return {
            "schema": SCHEMA,
            "seed": self.seed,
            "n": self.n,
            "ratios": [r / sum(self.ratios) for r in self.ratios],
            "shard_size": self.shard_size,
            "clean": [portable_path(p) for p in self.clean_roots],
            "noise": [portable_path(p) for p in self.noise_roots],
            "speaker_pattern": self.effective_speaker_pattern,
            "degradations": pool_weights(self.pool, self.balance),
            "metrics": list(self.metrics),
        }


def _split_sizes(n: int, ratios: Sequence[float]) -> dict[str, int]:
    """Quadruples per split for n and (train, valid, test) ratios; the rounding remainder to train."""
    total = sum(ratios)
    sizes = {s: int(n * r / total) for s, r in zip(SPLITS, ratios)}
    sizes["train"] += n - sum(sizes.values())
    return sizes


@dataclass(frozen=True)
class ShardTask:
    split: str
    shard: int
    size: int

    @property
    def name(self) -> str:
        return f"{self.split}-{self.shard:06d}.tar"


def plan_shards(config: GenerateConfig) -> list[ShardTask]:
    """The global shard list: train, then valid, then test."""
    tasks = []
    for split, size in config.split_sizes().items():
        for shard in range(math.ceil(size / config.shard_size)):
            tasks.append(ShardTask(split, shard, min(config.shard_size, size - shard * config.shard_size)))
    return tasks


def my_shards(tasks: list[ShardTask], config: GenerateConfig, env: dict[str, str] | None = None) -> list[ShardTask]:
    """The shards this process makes: --shard-range, else a Slurm array task or a torchrun rank."""
    env = dict(os.environ) if env is None else env
    if config.shard_range is not None:
        a, b = config.shard_range
        mine = tasks[a:b]
    else:  # a Slurm array task, else a torchrun rank, else (0, 1): all
        slot = task_slot(env)
        mine = tasks[slot.rank :: slot.world_size]
    return [t for t in mine if t.split in config.splits]


def item_rng(seed: int, split: str, shard: int, index: int) -> np.random.Generator:
    """The generator of one quadruple, from (seed, split, shard, index) alone."""
    return np.random.default_rng(np.random.SeedSequence([seed, SPLITS.index(split), shard, index]))


@dataclass
class ShardResult:
    task: ShardTask
    quadruples: int = 0
    degradation_failures: int = 0
    bad_files: dict[str, str] = field(default_factory=dict)


class _Worker:
    """Per-process state: one frame sampler and quadruple maker per split."""

    def __init__(self, config: GenerateConfig, clean: Corpus, noise: Corpus):
        self.config = config
        self.makers: dict[str, QuadrupleMaker] = {}
        for split in SPLITS:
            if clean.files(split):
                noise_sets = noise.files(split)
                if not noise_sets:
                    noise_sets = tuple(d for s in SPLITS for d in noise.files(s))
                    log.warning("no noise file fell in the %s split; it uses the noise of every split", split)
                self.makers[split] = QuadrupleMaker(FrameSampler(clean.files(split)), NoiseBank(noise_sets), pool=config.pool, balance=config.balance)

    def make_item(self, task: ShardTask, index: int) -> tuple[QuadrupleRecord, np.ndarray, np.ndarray]:
        """Quadruple `index` of `task`'s shard: its record and two signals (from its own rng alone)."""
        q = self.makers[task.split].make(item_rng(self.config.seed, task.split, task.shard, index))
        values, errors = compute(q.x_i, q.x_j, SAMPLE_RATE, self.config.metrics) if self.config.metrics else ({}, {})
        record = QuadrupleRecord(
            key=f"{task.split}-{task.shard:06d}-{index:06d}",
            split=task.split,
            seed=self.config.seed,
            shard=task.shard,
            index=index,
            sample_rate=SAMPLE_RATE,
            frame_samples=q.frame_samples,
            delay_samples=q.delay_samples,
            source=SourceRef(q.frame.source.path, q.frame.source.dataset, q.frame.offset_s, SOURCE_FRAME_S, dc_removed=True),
            chain_i=tuple(step.to_step() for step in q.chain_i),
            chain_j=tuple(step.to_step() for step in q.chain_j),
            gain_i=gain_for(q.x_i),
            gain_j=gain_for(q.x_j),
            metrics={k: (v if math.isfinite(v) else None) for k, v in values.items()},
            metric_errors=errors,
        )
        return record, q.x_i, q.x_j

    def make_shard(self, task: ShardTask, on_item: Callable[[], object] = lambda: None) -> ShardResult:
        maker = self.makers[task.split]
        failures_before = maker.failures
        result = ShardResult(task)
        with ShardWriter(self.config.out / task.name) as writer:
            for index in range(task.size):
                writer.write(*self.make_item(task, index))
                result.quadruples += 1
                on_item()
        result.degradation_failures = maker.failures - failures_before
        result.bad_files = dict(maker.frames.bad_files)
        return result

    def make_chunk(self, chunk: Chunk) -> ChunkResult:
        """Quadruples [start, stop) of a shard, for the parent to write (`chunks.py`)."""
        maker = self.makers[chunk.task.split]
        failures_before = maker.failures
        items = []
        for index in range(chunk.start, chunk.stop):
            record, x_i, x_j = self.make_item(chunk.task, index)  # type: ignore[arg-type]
            items.append((record, *encode_pair(record, x_i, x_j)))
        return ChunkResult(chunk, items, maker.failures - failures_before, dict(maker.frames.bad_files))


_worker: _Worker | None = None


def _init_worker(config: GenerateConfig, clean: Corpus, noise: Corpus, records: "queue.Queue[logging.LogRecord]") -> None:
    global _worker
    queue_logging(records, logging.WARNING)  # written by the parent, above its progress bar
    _worker = _Worker(config, clean, noise)


def _run_chunk(chunk: Chunk) -> ChunkResult:
    if _worker is None:
        raise RuntimeError("generation worker was not initialised")
    return _worker.make_chunk(chunk)


@dataclass
class GenerateSummary:
    """What a run did; printed by the CLI and returned to API callers."""

    out: Path
    planned_shards: int
    assigned_shards: int
    existing_shards: int
    written_shards: int
    quadruples: int
    seconds: float
    degradation_failures: int
    clean_report: ScanReport
    noise_report: ScanReport
    bad_files: dict[str, str]
    split_files: dict[str, int]
    stats_written: bool = False
    """Whether stats.json was (re)written: only once every train shard exists."""
    remade_shards: int = 0
    """Existing shards made again because they were damaged or incomplete."""
    band_limited_files: int = 0
    """Clean files whose measured band edge puts a band_limit step before their frames' chains."""

    @property
    def rate(self) -> float:
        return self.quadruples / self.seconds if self.seconds > 0 else 0.0


def _write_manifest(config: GenerateConfig, tasks: list[ShardTask], clean: Corpus) -> None:
    path = config.out / MANIFEST
    manifest = {
        **config.identity(),
        "sesqa_version": __version__,
        "sample_rate": SAMPLE_RATE,
        "pool": config.pool,
        "balance": config.balance,
        DEGRADATION_TYPES: list(label_types(config.pool)),  # the trainer's label vocabulary
        STRENGTHLESS_TYPES: list(strengthless_types(label_types(config.pool))),  # no strength label for these
        "splits": {
            split: {
                "quadruples": size,
                "shards": [t.name for t in tasks if t.split == split],
                "clean_files": clean.count(split),
            }
            for split, size in config.split_sizes().items()
        },
    }
    if not path.exists():  # an existing one was compared by check_manifest
        atomic_write_text(path, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def generate(config: GenerateConfig, progress: bool = True) -> GenerateSummary:
    """Make the shards of `config` that this process is assigned and that are not complete yet.

    Existing shards are kept only when complete and made with these settings (`resume.py`);
    a folder made with other settings is refused (ValueError) rather than mixed.
    """
    start = time.perf_counter()
    check_encoders(config.pool)
    config.out.mkdir(parents=True, exist_ok=True)
    check_manifest(config.out, config.identity())
    tasks = plan_shards(config)
    assigned = my_shards(tasks, config)
    complete = complete_shards(config.out, [(t.name, t.split, t.shard, t.size) for t in assigned], config.seed, config.metrics)
    clean, clean_report = scan_corpus(
        config.clean_roots, _ratio_dict(config), SOURCE_FRAME_S, config.effective_speaker_pattern, config.cache_dir, measure_band=True
    )
    noise, noise_report = scan_corpus(config.noise_roots, _ratio_dict(config), MIN_NOISE_S, None, config.cache_dir)
    if clean_report.usable == 0:
        raise ValueError(f"no usable clean speech in {', '.join(map(str, config.clean_roots))} (every file was skipped)")
    if noise_report.usable == 0:
        raise ValueError(f"no usable noise in {', '.join(map(str, config.noise_roots))} (every file was skipped)")
    for split in config.splits:
        if config.split_sizes()[split] and not clean.files(split):
            raise ValueError(f"the {split} split has no clean files: too few speakers/files for the ratios {config.ratios}")

    _write_manifest(config, tasks, clean)
    todo = [t for t in assigned if t.name not in complete]
    remade = sum((config.out / t.name).exists() for t in todo)
    for t in todo:  # partial shards of a killed run
        for stale in config.out.glob(f".{t.name}{PARTIAL_MARK}*"):
            stale.unlink(missing_ok=True)

    results = _execute(config, clean, noise, todo, progress)
    stats_written = _write_stats_when_complete(config, tasks)
    bad_files: dict[str, str] = {}
    for r in results:
        bad_files.update(r.bad_files)
    return GenerateSummary(
        out=config.out,
        planned_shards=len(tasks),
        assigned_shards=len(assigned),
        existing_shards=len(complete),
        remade_shards=remade,
        written_shards=len(results),
        quadruples=sum(r.quadruples for r in results),
        seconds=time.perf_counter() - start,
        degradation_failures=sum(r.degradation_failures for r in results),
        clean_report=clean_report,
        noise_report=noise_report,
        bad_files=bad_files,
        split_files={s: clean.count(s) for s in SPLITS},
        stats_written=stats_written,
        band_limited_files=sum(bool(for_source(f.band_edge_hz)) for s in SPLITS for d in clean.files(s) for f in d),
    )


def _write_stats_when_complete(config: GenerateConfig, tasks: list[ShardTask]) -> bool:
    """Write the metric normalisation stats once every train shard exists (by any process).

    With no metric targets the file is still written (with no measures): it is what tells the
    trainer that the train split is complete. Its records must all be this run's (`train_stats`).
    """
    train = [config.out / t.name for t in tasks if t.split == "train"]
    if not train or not all(p.exists() for p in train):
        return False
    write_stats(config.out, train_stats(train, config.seed, config.metrics, config.split_sizes()["train"]))
    return True


def _ratio_dict(config: GenerateConfig) -> dict[str, float]:
    return dict(zip(SPLITS, config.ratios))


def _execute(config: GenerateConfig, clean: Corpus, noise: Corpus, todo: Sequence[ShardTask], progress: bool) -> list[ShardResult]:
    total = sum(t.size for t in todo)
    results: list[ShardResult] = []
    workers = min(config.workers, math.ceil(total / CHUNK)) or 1
    with progress_bar(total, enabled=progress and total > 0, desc="generate", unit="quad", smoothing=0.05) as bar:
        if workers == 1:
            worker = _Worker(config, clean, noise)
            for task in todo:
                results.append(worker.make_shard(task, lambda: bar.update(1)))
            return results
        # Workers make chunks of quadruples and this process writes the shards (chunks.py): work
        # is shared out by chunk, not by shard, so a run of few or uneven shards keeps every worker busy.
        ctx = mp.get_context("spawn")
        records = ctx.Queue()
        by_task: dict[str, ShardResult] = {t.name: ShardResult(t) for t in todo}

        def written(chunk: ChunkResult) -> None:
            r = by_task[chunk.chunk.task.name]
            r.quadruples += len(chunk.items)
            r.degradation_failures += chunk.degradation_failures
            r.bad_files.update(chunk.bad_files)
            bar.update(len(chunk.items))

        with single_threaded_children(), ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(config, clean, noise, records)) as pool:
            for task in write_chunks(lambda c: pool.submit(_run_chunk, c), todo, config.out, 2 * workers, written, lambda: forward_records(records), CHUNK):
                results.append(by_task[task.name])
        forward_records(records)
        return results


