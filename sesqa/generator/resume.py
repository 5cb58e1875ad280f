"""What a rerun of `generate` may keep: existing shards that are complete and made with its settings.

A shard under its final name is normally complete (it is renamed only when written), but a
folder can also hold a damaged file, a shard of another run (another seed or metric targets,
its manifest deleted), or one of another size. Keeping any of these would mix runs silently.
So a rerun reads every existing shard it is assigned (tar headers and JSON records, no audio):
complete and matching, it is kept; damaged or incomplete, it is made again (logged, with the
reason); made with other settings, the run stops with an error naming the folder and the mismatch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..shards.manifest import MANIFEST, read_manifest
from ..shards.moments import RunningStats
from ..shards.reader import read_records, shard_contents
from ..shards.schema import QuadrupleRecord, ShardError
from ..shards.stats import stats_of

log = logging.getLogger(__name__)


def check_manifest(out: Path, identity: dict[str, object]) -> None:
    """Refuse an `out` whose manifest.json records other settings than `identity` (ValueError naming them)."""
    previous = read_manifest(out)
    if previous is None:
        return
    differ = [k for k in identity if previous.get(k) != identity[k]]
    if differ:
        shown = "; ".join(k if k in ("clean", "noise", "degradations") else f"{k}: {previous.get(k)!r} there, {identity[k]!r} now" for k in differ)
        raise ValueError(
            f"{Path(out) / MANIFEST} was written with other settings ({shown}); "
            "use a new --out directory, or the same settings to resume"
        )


def _mismatch(record: QuadrupleRecord, seed: int, metrics: Sequence[str]) -> str | None:
    """How a record contradicts this run's seed or metric targets, or None."""
    if record.seed != seed:
        return f"seed {record.seed} (this run: --seed {seed})"
    if set(record.metrics) != set(metrics):
        return f"metric targets {sorted(record.metrics) or 'none'} (this run: --metrics {','.join(metrics) or 'none'})"
    return None


def _refuse(path: Path, what: str) -> ValueError:
    return ValueError(
        f"{path.parent}: {path.name} was made with {what}; keeping it would mix two runs in one folder. "
        "Use a new --out, or rerun with the settings that made it"
    )


def shard_problem(path: Path, split: str, shard: int, size: int, seed: int, metrics: Sequence[str]) -> str | None:
    """Why the existing file `path` is not a complete shard `split`/`shard` of `size` samples; None when it is.

    Raises ValueError (naming the folder and the mismatch) when its records were made with another
    seed or other metric targets, or when it holds more samples than this run's shards do.
    """
    try:
        contents = shard_contents(path)
    except ShardError as e:
        return str(e).removeprefix(f"{path}: ")
    expected = [f"{split}-{shard:06d}-{index:06d}" for index in range(size)]
    for key, record in contents.records.items():
        if (problem := _mismatch(record, seed, metrics)) is not None:
            raise _refuse(path, problem)
        if record.split != split or record.shard != shard:
            return f"holds sample {key} of another shard"
        if record.index >= size:
            raise _refuse(path, f"more than {size} samples per shard (other --n, --ratios or --shard-size)")
    if contents.problems:
        key, problem = next(iter(contents.problems.items()))
        return f"{len(contents.problems)} bad sample(s), first {key}: {problem}"
    if missing := [k for k in expected if k not in contents.records]:
        return f"holds {size - len(missing)} of its {size} samples (first missing: {missing[0]})"
    return None


def complete_shards(out: Path, names_and_sizes: Iterable[tuple[str, str, int, int]], seed: int, metrics: Sequence[str]) -> set[str]:
    """The names among (name, split, shard, size) that exist in `out` as complete shards of this run.

    The others are to be made: an existing but damaged or incomplete one is logged with the reason
    (the new one replaces it atomically). Raises ValueError when one was made with other settings.
    """
    complete = set()
    for name, split, shard, size in names_and_sizes:
        path = out / name
        if not path.exists():
            continue
        problem = shard_problem(path, split, shard, size, seed, metrics)
        if problem is None:
            complete.add(name)
        else:
            log.warning("%s: %s; making it again", path, problem)
    return complete


def train_stats(shards: Sequence[Path], seed: int, metrics: Sequence[str], expected: int) -> RunningStats:
    """The metric statistics of the train split, after checking its records are this run's.

    Every record must carry `seed` and exactly `metrics`, and there must be `expected` of them:
    stats.json is never written from a mixed, short or empty train split.
    """
    columns: dict[str, list[float | None]] = {m: [] for m in metrics}
    count = 0
    for path in shards:
        for record in read_records(path):
            if (problem := _mismatch(record, seed, metrics)) is not None:
                raise _refuse(Path(path), problem)
            count += 1
            for m in metrics:
                columns[m].append(record.metrics.get(m))
    if count != expected:
        folder = Path(shards[0]).parent if shards else "?"
        raise ValueError(f"{folder}: the train shards hold {count} records, this run plans {expected}; stats.json not written")
    return stats_of(columns)
