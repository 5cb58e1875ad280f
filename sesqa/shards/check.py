"""`sesqa shards check`: verify every shard of a directory and count what it holds."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .manifest import DEGRADATION_TYPES, MANIFEST, degradation_types_of, read_manifest
from .moments import RunningStats
from .reader import read_shard
from .schema import ShardError
from .stats import STATS_FILE, read_stats, stats_of


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


def check(path: Path, progress: bool = True) -> CheckReport:
    """Read and validate every sample of every shard; compare with the manifest when present.

    For a directory, every degradation type must be one of the manifest's `degradation_types`
    (format 1's when the manifest predates them): the trainer's labels are built from that list.
    """
    report = CheckReport()
    paths = shard_paths(path)
    is_dir = Path(path).is_dir()
    manifest = None
    if is_dir:
        try:
            manifest = read_manifest(path)
            known: frozenset[str] | None = frozenset(degradation_types_of(manifest, str(Path(path) / MANIFEST)))
        except ValueError as e:
            report.errors.append(str(e))
            known = None
        if manifest is not None and isinstance(manifest.get("metrics"), list):
            report.measure_order = tuple(str(m) for m in manifest["metrics"])
    else:
        known = None
    unknown: Counter[str] = Counter()
    for shard in tqdm(paths, desc="check", unit="shard", disable=not progress):
        report.shards += 1
        seen, failed = 0, False
        try:
            for sample in read_shard(shard):
                seen += 1
                r = sample.record
                report.quadruples[r.split] += 1
                if r.split == "train":
                    for name, value in r.metrics.items():
                        report.train_metrics.setdefault(name, []).append(value)
                report.chain_lengths_i[len(r.chain_i)] += 1
                report.chain_lengths_j[len(r.chain_j)] += 1
                for step in r.chain_i:
                    report.degradations_i[step.type] += 1
                    report.strength_sum[step.type] += step.strength
                for step in r.chain_j:
                    report.degradations_j[step.type] += 1
                    report.strength_sum[step.type] += step.strength
                if known is not None:
                    unknown.update(s.type for s in (*r.chain_i, *r.chain_j) if s.type not in known)
        except ShardError as e:
            report.errors.append(str(e))
            failed = True
        if seen == 0 and not failed:
            report.errors.append(f"{shard}: holds no samples")
    for name, count in sorted(unknown.items()):
        report.errors.append(f"unknown degradation {name!r} in {count} step(s): not among the {DEGRADATION_TYPES} of {MANIFEST}")
    if manifest is not None:
        _compare_with_manifest(manifest, paths, report)
    if is_dir and (Path(path) / STATS_FILE).exists():
        _compare_with_stats(path, report)
    return report


def _computed_stats(report: CheckReport) -> RunningStats:
    order = {name: i for i, name in enumerate(report.measure_order)}
    names = sorted(report.train_metrics, key=lambda n: order.get(n, len(order)))  # stable: unlisted ones as met
    return stats_of({n: report.train_metrics[n] for n in names})


def _compare_with_stats(path: Path, report: CheckReport) -> None:
    try:
        report.stored_stats = read_stats(path)
    except ValueError as e:
        report.errors.append(str(e))
        return
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
        if missing:
            report.errors.append(f"{split}: {len(missing)} of {len(info['shards'])} shards missing (first: {missing[0]})")
        elif report.quadruples[split] != info.get("quadruples"):
            report.errors.append(f"{split}: {report.quadruples[split]} quadruples, manifest says {info.get('quadruples')}")


def format_report(report: CheckReport) -> str:
    """A plain-text summary: counts per split, chain lengths and a degradation histogram."""
    lines = [f"shards: {report.shards}", "quadruples: " + ", ".join(f"{s} {n}" for s, n in sorted(report.quadruples.items()))]
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
        source = f"matches {STATS_FILE}" if report.stored_stats is not None else f"no {STATS_FILE}"
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
