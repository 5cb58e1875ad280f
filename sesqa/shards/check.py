"""`sesqa shards check`: verify every shard of a directory and count what it holds."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..runtime.progress import track
from .manifest import DEGRADATION_TYPES, MANIFEST, degradation_types_of, read_manifest, strengthless_types_of
from .moments import RunningStats
from .reader import QuadrupleSample, UnreadableShard, iter_samples
from .schema import SPLITS, QuadrupleRecord, ShardError
from .stats import STATS_FILE, read_stats, stats_of

MAX_LISTED = 20
"""Bad samples named one by one in the report; the rest are counted."""


@dataclass
class CheckReport:
    """Counts over every valid sample, and the problems found."""

    shards: int = 0
    quadruples: Counter[str] = field(default_factory=Counter)
    """Per split."""
    degradations_i: Counter[str] = field(default_factory=Counter)
    degradations_j: Counter[str] = field(default_factory=Counter)
    chain_lengths_i: Counter[int] = field(default_factory=Counter)
    chain_lengths_j: Counter[int] = field(default_factory=Counter)
    strength_sum: Counter[str] = field(default_factory=Counter)
    train_metrics: dict[str, list[float | None]] = field(default_factory=dict)
    """Metric values of the train split, by measure, for the statistics table."""
    stored_stats: RunningStats | None = None
    measure_order: tuple[str, ...] = ()
    """The manifest's order of the measures, for the statistics table (else the order they were met)."""
    errors: list[str] = field(default_factory=list)
    bad_samples: Counter[str] = field(default_factory=Counter)
    """Samples that failed validation, per split (from the shard's file name when the record is unreadable)."""
    seeds: Counter[int] = field(default_factory=Counter)
    """Samples per recorded seed."""
    incomplete_splits: set[str] = field(default_factory=set)
    """Splits with a bad sample or an unreadable shard: their counts cover only what was read."""

    @property
    def ok(self) -> bool:
        return not self.errors and self.shards > 0


def shard_paths(path: Path) -> list[Path]:
    """A shard file, or every shard (*.tar, not hidden) under a directory."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is neither a shard file nor a directory")
    return sorted(p for p in path.rglob("*.tar") if not p.name.startswith("."))


def check(path: Path, progress: bool = True, max_listed: int = MAX_LISTED) -> CheckReport:
    """Read and validate every sample of every shard; compare with the manifest when present.

    Every bad sample is counted, and the first `max_listed` are named (a bad sample does not hide
    the rest of its shard). For a directory, every degradation type must be one of the
    manifest's `degradation_types` (format 1's when the manifest predates them): the trainer's
    labels are built from that list, and its `strengthless_types` must be some of them. Each
    record's seed and measures must be the manifest's (without a manifest: one seed for all), and
    `stats.json` must exist once the manifest plans train quadruples: the trainer refuses the
    directory without it.
    """
    if max_listed < 0:
        raise ValueError(f"max_listed must be >= 0, got {max_listed}")
    report = CheckReport()
    paths = shard_paths(path)
    is_dir = Path(path).is_dir()
    manifest = None
    if is_dir:
        source = str(Path(path) / MANIFEST)
        try:
            manifest = read_manifest(path)
            known: frozenset[str] | None = frozenset(degradation_types_of(manifest, source))
        except ValueError as e:
            report.errors.append(str(e))
            known = None
        if known is not None:
            try:  # the trainer reads it to decide which steps get a strength label
                strengthless_types_of(manifest, source)
            except ValueError as e:
                report.errors.append(str(e))
        if manifest is not None and isinstance(manifest.get("metrics"), list):
            report.measure_order = tuple(str(m) for m in manifest["metrics"])
    else:
        known = None
    unknown: Counter[str] = Counter()
    sample_errors: list[str] = []
    for shard in track(paths, desc="check", unit="shard", enabled=progress):
        report.shards += 1
        seen, unreadable = 0, False
        for sample in iter_samples(shard):
            if isinstance(sample, UnreadableShard):  # about the file, not a sample: always listed
                report.errors.append(str(sample))
                report.incomplete_splits.add(_split_of(shard, sample))
                unreadable = True
                break
            seen += 1
            problem = str(sample) if isinstance(sample, ShardError) else _against_manifest(manifest, shard, sample.record)
            if problem is not None:
                sample_errors.append(problem)
                report.bad_samples[_split_of(shard, sample)] += 1
                report.incomplete_splits.add(_split_of(shard, sample))
                continue
            _count(report, sample.record)
            if known is not None:
                unknown.update(s.type for s in (*sample.record.chain_i, *sample.record.chain_j) if s.type not in known)
        if seen == 0 and not unreadable:
            report.errors.append(f"{shard}: holds no samples")
    report.errors.extend(sample_errors[:max_listed])
    if len(sample_errors) > max_listed:
        report.errors.append(f"... and {len(sample_errors) - max_listed} more bad sample(s)")
    if manifest is None and len(report.seeds) > 1:
        report.errors.append("records carry several seeds (seed: samples): " + ", ".join(f"{s}: {n}" for s, n in sorted(report.seeds.items())))
    for name, count in sorted(unknown.items()):
        report.errors.append(f"unknown degradation {name!r} in {count} step(s): not among the {DEGRADATION_TYPES} of {MANIFEST}")
    if manifest is not None:
        _compare_with_manifest(manifest, paths, report)
    if is_dir and (Path(path) / STATS_FILE).exists():
        _compare_with_stats(path, report)
    elif manifest is not None and _planned(manifest, "train"):
        targets = f" with the metric targets {manifest['metrics']}" if manifest.get("metrics") else ""
        report.errors.append(
            f"{Path(path) / STATS_FILE}: missing, though {MANIFEST} plans train quadruples{targets} and `sesqa train` "
            "needs it (a run stopped after its last shard?); rerun the same `sesqa generate` command to write it"
        )
    return report


def _count(report: CheckReport, r: QuadrupleRecord) -> None:
    """Add one valid record to the report's counts and histograms."""
    report.seeds[r.seed] += 1
    report.quadruples[r.split] += 1
    if r.split == "train":
        for name, value in r.metrics.items():
            report.train_metrics.setdefault(name, []).append(value)
    report.chain_lengths_i[len(r.chain_i)] += 1
    report.chain_lengths_j[len(r.chain_j)] += 1
    for step in (*r.chain_i, *r.chain_j):
        report.strength_sum[step.type] += step.strength
    for step in r.chain_i:
        report.degradations_i[step.type] += 1
    for step in r.chain_j:
        report.degradations_j[step.type] += 1


def _planned(manifest: dict, split: str) -> int:
    """Quadruples the manifest plans for `split` (0 when it does not say)."""
    info = manifest.get("splits", {}).get(split, {})
    count = info.get("quadruples", 0) if isinstance(info, dict) else 0
    return count if isinstance(count, int) else 0


def _split_of(shard: Path, sample: QuadrupleSample | ShardError) -> str:
    """The split a bad sample counts against: its record's, else its shard file's name prefix."""
    if isinstance(sample, QuadrupleSample):
        return sample.record.split
    prefix = shard.name.partition("-")[0]
    return prefix if prefix in SPLITS else "unknown"


def _against_manifest(manifest: dict | None, shard: Path, record: QuadrupleRecord) -> str | None:
    """What a valid record contradicts in the manifest: its seed or its set of measures."""
    if manifest is None:
        return None
    seed = manifest.get("seed")
    if isinstance(seed, int) and record.seed != seed:
        return f"{shard}: sample {record.key}: seed {record.seed}, {MANIFEST} says {seed}"
    metrics = manifest.get("metrics")
    if isinstance(metrics, list) and set(record.metrics) != set(metrics):
        return f"{shard}: sample {record.key}: measures {sorted(record.metrics)}, {MANIFEST} says {sorted(metrics)}"
    return None


def _computed_stats(report: CheckReport) -> RunningStats:
    order = {name: i for i, name in enumerate(report.measure_order)}
    names = sorted(report.train_metrics, key=lambda n: order.get(n, len(order)))  # stable: unlisted ones as met
    return stats_of({n: report.train_metrics[n] for n in names})


def _compare_with_stats(path: Path, report: CheckReport) -> None:
    """Check stats.json reads and agrees with the train records (when all were read: else the problem is listed already)."""
    try:
        stored = read_stats(path)
    except ValueError as e:
        report.errors.append(str(e))
        return
    if "train" in report.incomplete_splits:
        return
    report.stored_stats = stored
    computed = _computed_stats(report)
    for name in computed.names:
        if name not in report.stored_stats.names:
            report.errors.append(f"{STATS_FILE}: lacks {name}")
            continue
        a, b = computed.moments(name), report.stored_stats.moments(name)
        if a.count != b.count or not math.isclose(a.mean, b.mean, rel_tol=1e-9, abs_tol=1e-12):
            report.errors.append(f"{STATS_FILE}: {name} mean {b.mean:.6g} over {b.count}, records give {a.mean:.6g} over {a.count}")


def _compare_with_manifest(manifest: dict, paths: list[Path], report: CheckReport) -> None:
    present = {p.name for p in paths}
    for split, info in manifest.get("splits", {}).items():
        missing = [s for s in info.get("shards", []) if s not in present]
        found = report.quadruples[split] + report.bad_samples[split]  # bad samples are listed on their own
        if missing:
            report.errors.append(f"{split}: {len(missing)} of {len(info['shards'])} shards missing (first: {missing[0]})")
        elif found != info.get("quadruples"):
            bad = f" ({report.bad_samples[split]} of them bad)" if report.bad_samples[split] else ""
            report.errors.append(f"{split}: {found} quadruples{bad}, manifest says {info.get('quadruples')}")


def format_report(report: CheckReport) -> str:
    """A plain-text summary: counts per split, chain lengths and a degradation histogram."""
    lines = [f"shards: {report.shards}", "quadruples: " + ", ".join(f"{s} {n}" for s, n in sorted(report.quadruples.items()))]
    if report.bad_samples:
        lines.append("bad samples (not counted above): " + ", ".join(f"{s} {n}" for s, n in sorted(report.bad_samples.items())))
    total = sum(report.quadruples.values())
    for label, counter in (("x_i", report.chain_lengths_i), ("x_j (on top of x_i)", report.chain_lengths_j)):
        lines.append(f"degradations per {label}: " + ", ".join(f"{k}: {v / max(total, 1):.3f}" for k, v in sorted(counter.items())))
    all_types = report.degradations_i + report.degradations_j
    if all_types:
        width = max(map(len, all_types))
        peak = max(all_types.values())
        lines.append(f"\n{'degradation':<{width}}  {'in x_i':>7} {'in x_j':>7} {'mean str':>8}")
        for name, count in sorted(all_types.items(), key=lambda kv: (-kv[1], kv[0])):
            bar = "#" * max(1, round(30 * count / peak))
            mean = report.strength_sum[name] / count
            lines.append(f"{name:<{width}}  {report.degradations_i[name]:>7} {report.degradations_j[name]:>7} {mean:>8.2f}  {bar}")
    if report.train_metrics:
        stats = _computed_stats(report)
        source = f"matches {STATS_FILE}" if report.stored_stats is not None else f"not compared with {STATS_FILE}"
        lines.append(f"\nmetric targets on the train split ({source}):")
        lines.append(f"{'measure':<20} {'mean':>9} {'std':>9} {'NaN':>5}")
        for name in stats.names:
            m = stats.moments(name)
            lines.append(f"{name:<20} {stats.mean(name):>9.3f} {stats.std(name):>9.3f} {m.missing:>5}")
    if report.errors:
        lines.append(f"\n{len(report.errors)} problem(s):")
        lines.extend(f"  {e}" for e in report.errors)
    lines.append("\nOK" if report.ok else "\nFAILED")
    return "\n".join(lines)
