"""Generation throughput: quadruples per second with all 11 metric targets, 1 and 2 workers, and
where the time goes.

For each run size N (default 2,000, and 200 for a short run) and worker count W (default 1 and
2), runs `sesqa generate --out TMP --n N --workers W --quiet` as a user does (the bundled corpus,
the paper's split ratios, all metric targets, default shard size unless `--shard-size`), start-up
included, after one untimed run that fills the corpus index cache. Per run it prints the wall
time and the CPU time of the whole process tree (so "cores busy" = CPU / wall), and the shards
the run was cut into (workers take whole shards). `--profile M` also profiles M quadruples made
in this process (cProfile) and prints each stage's time per quadruple: frame sampling and
degradations, metric targets, writing the shard (FLAC), and the rest. Prints figures; asserts
nothing. From the repository root, under the heavy lock:

    flock /tmp/sesqa-heavy.lock .venv/bin/python benchmarks/generate_throughput.py [--n 2000 200] [--workers 1 2] [--profile 200]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sesqa.generator.run import GenerateConfig, generate, plan_shards
from sesqa.runtime.device import cpu_name

STAGES = {
    "frame sampling and degradations": ("sesqa/generator/quadruple.py", "make"),
    "metric targets": ("sesqa/generator/metrics/registry.py", "compute"),
    "writing the shard (FLAC, tar)": ("sesqa/shards/writer.py", "write"),
}
"""Stage -> (source file, function) whose cumulative time it is; the rest of the run is "other"."""


def timed_run(n: int, workers: int, shard_size: int | None) -> tuple[float, float]:
    """(wall s, CPU s of the process tree) of `sesqa generate` into a fresh folder."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "sesqa", "generate", "--out", tmp, "--n", str(n), "--workers", str(workers), "--quiet"]
        cmd += ["--shard-size", str(shard_size)] if shard_size else []
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def shard_sizes(n: int, shard_size: int | None) -> list[int]:
    config = GenerateConfig(out=Path("unused"), n=n, **({"shard_size": shard_size} if shard_size else {}))
    return [t.size for t in plan_shards(config)]


def profile_stages(n: int) -> dict[str, float]:
    """Milliseconds per quadruple of each stage (cProfile cumulative times), in this process."""
    with tempfile.TemporaryDirectory() as tmp:
        config = GenerateConfig(out=Path(tmp), n=n, shard_size=n, workers=1, ratios=(1, 0, 0))
        generate(config, progress=False)  # warm: imports, caches, first calls
    with tempfile.TemporaryDirectory() as tmp:
        config = GenerateConfig(out=Path(tmp), n=n, shard_size=n, workers=1, ratios=(1, 0, 0))
        profiler = cProfile.Profile()
        profiler.runcall(generate, config, progress=False)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = max(ct for (_, _, _), (_, _, _, ct, _) in stats.items())
    out = {}
    for name, (file, function) in STAGES.items():
        out[name] = sum(ct for (f, _, fn), (_, _, _, ct, _) in stats.items() if fn == function and f.replace(os.sep, "/").endswith(file))
    out["other (set-up, manifest, stats, bookkeeping)"] = total - sum(out.values())
    return {name: 1000 * t / n for name, t in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[2000, 200], help="quadruples per run (default 2000 200)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--shard-size", type=int, default=None, help="quadruples per shard (default: generate's)")
    parser.add_argument("--profile", type=int, default=0, metavar="M", help="also profile M quadruples in process")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    timed_run(7, 1, None)  # fills the corpus index cache: not what is timed
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; all 11 metric targets; `sesqa generate` start-up included\n")
    print(f"{'quadruples':>10} {'shards':<22} {'workers':>7} {'quad/s':>8} {'wall s':>8} {'CPU s':>8} {'cores busy':>10}", flush=True)
    rows = []
    for n in args.n:
        sizes = ",".join(map(str, shard_sizes(n, args.shard_size)))
        for w in args.workers:
            wall, cpu = timed_run(n, w, args.shard_size)
            rows.append({"n": n, "shards": sizes, "workers": w, "rate": n / wall, "wall_s": wall, "cpu_s": cpu})
            print(f"{n:>10} {sizes:<22} {w:>7} {n / wall:>8.1f} {wall:>8.1f} {cpu:>8.1f} {cpu / wall:>10.2f}", flush=True)
    print()
    for n in args.n:
        same = [r for r in rows if r["n"] == n]
        for r in same[1:]:
            print(f"{n} quadruples, {r['workers']} workers / {same[0]['workers']}: x{r['rate'] / same[0]['rate']:.2f}")
    stages = {}
    if args.profile:
        stages = profile_stages(args.profile)
        print(f"\nwhere the time goes, in process, {args.profile} quadruples after a warm-up (ms per quadruple):")
        for name, ms in stages.items():
            print(f"  {name:<46} {ms:>7.1f}")
    if args.json is not None:
        args.json.write_text(json.dumps({"cpu": cpu_name(), "cores": os.cpu_count(), "runs": rows, "stages_ms": stages}, indent=2) + "\n")


if __name__ == "__main__":
    main()
