"""Generation speed: per-degradation cost, shard storage cost, quadruples/s per core.

Prints figures; asserts nothing. Run from the repository root:

    .venv/bin/python benchmarks/generate.py [--n 400] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from sesqa.generator.degradations import REGISTRY, SamplingContext
from sesqa.generator.metrics import METRIC_NAMES, METRICS, compute
from sesqa.generator.report import degradation_table
from sesqa.generator.run import GenerateConfig, generate
from sesqa.generator.sources import FrameSampler, NoiseBank, scan_corpus
from sesqa.shards.codec import encode_flac, gain_for


def degradation_costs(repeats: int) -> list[tuple[str, float, float, float]]:
    """(name, pool probability, median ms, p90 ms) per degradation on bundled 1.1 s frames."""
    config = GenerateConfig(out=Path("unused"))
    clean, _ = scan_corpus(config.clean_roots, {"train": 1.0}, 1.1, config.effective_speaker_pattern, measure_band=True)
    noise, _ = scan_corpus(config.noise_roots, {"train": 1.0}, 0.5)
    frames = FrameSampler(clean.files("train"))
    bank = NoiseBank(noise.files("train"))
    rng = np.random.default_rng(0)
    signals = [frames.sample(rng).audio for _ in range(8)]
    ctx = SamplingContext(n_samples=len(signals[0]), sr=48_000, noise=bank)
    rows = []
    for row in degradation_table():
        deg = REGISTRY[row["name"]]
        times = []
        for k in range(repeats):
            params = deg.sample_params(rng, float(rng.uniform()), ctx)
            x = signals[k % len(signals)]
            t0 = time.perf_counter()
            deg.apply(x, 48_000, params)
            times.append(1000 * (time.perf_counter() - t0))
        times.sort()
        rows.append((row["name"], float(row["probability"]), statistics.median(times), times[int(0.9 * (len(times) - 1))]))
    return rows


def metric_costs(repeats: int) -> list[tuple[str, float]]:
    """(measure, median ms alone) on bundled speech vs a noisy copy, and ("all 11 (shared)", ms)."""
    config = GenerateConfig(out=Path("unused"))
    clean, _ = scan_corpus(config.clean_roots, {"train": 1.0}, 1.1, config.effective_speaker_pattern, measure_band=True)
    rng = np.random.default_rng(1)
    ref = FrameSampler(clean.files("train")).sample(rng).audio
    deg = (ref + 0.05 * rng.standard_normal(len(ref))).astype(np.float32)
    rows = []
    for name in (*METRIC_NAMES, None):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            if name is None:
                compute(ref, deg, 48_000)
            else:
                METRICS[name].fn(ref, deg, 48_000)
            times.append(1000 * (time.perf_counter() - t0))
        rows.append((name or "all 11 (shared)", statistics.median(times)))
    return rows


def storage_costs(n: int = 50) -> list[tuple[str, float, float]]:
    """(format, kB per 1.1 s signal, ms to encode) on degraded-looking audio."""
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.standard_normal(52_800)).astype(np.float32)
    x = 0.8 * x / np.max(np.abs(x)) + 0.05 * rng.standard_normal(52_800).astype(np.float32)
    out = []
    for label, fn in (
        ("FLAC 16-bit (used)", lambda: encode_flac(x, 48_000, gain_for(x))),
        ("FLAC 24-bit", lambda: _sf_bytes(x, "FLAC", "PCM_24")),
        ("WAV float32", lambda: _sf_bytes(x, "WAV", "FLOAT")),
    ):
        t0 = time.perf_counter()
        for _ in range(n):
            data = fn()
        out.append((label, len(data) / 1000, 1000 * (time.perf_counter() - t0) / n))
    return out


def _sf_bytes(x: np.ndarray, fmt: str, subtype: str) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, 48_000, format=fmt, subtype=subtype)
    return buf.getvalue()


def throughput(n: int, workers: int, metrics: tuple[str, ...]) -> tuple[float, float]:
    """(quadruples/s, seconds) of a full generate run on the bundled corpus."""
    with tempfile.TemporaryDirectory() as tmp:
        config = GenerateConfig(out=Path(tmp), n=n, shard_size=max(1, n // (4 * workers)), workers=workers,
                                ratios=(1, 0, 0), metrics=metrics)
        generate(config, progress=False)  # warm the index cache
        for p in Path(tmp).glob("*"):
            p.unlink()
        t0 = time.perf_counter()
        summary = generate(config, progress=False)
        seconds = time.perf_counter() - t0
    return summary.quadruples / seconds, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="quadruples per throughput run")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, min(2, os.cpu_count() or 1)])
    parser.add_argument("--repeats", type=int, default=30, help="applications per degradation")
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    rows = degradation_costs(args.repeats)
    print(f"{'degradation':<24} {'p':>6} {'median ms':>10} {'p90 ms':>8}  (1.1 s at 48 kHz)")
    for name, p, med, p90 in sorted(rows, key=lambda r: -r[2]):
        print(f"{name:<24} {p:>6.3f} {med:>10.2f} {p90:>8.2f}")
    expected = sum(p * med for _, p, med, _ in rows)
    # 0.2 degradations in x_i and 1.31 in x_j on average (paper B.3 probabilities)
    print(f"\nexpected degradation cost per quadruple: {1.31 * expected + 0.2 * expected:.1f} ms "
          f"({expected:.2f} ms per draw)\n")

    print(f"{'measure':<20} {'median ms':>10}  (1.1 s pair at 48 kHz)")
    for name, ms in metric_costs(max(5, args.repeats // 3)):
        print(f"{name:<20} {ms:>10.2f}")
    print()

    print(f"{'shard audio format':<20} {'kB/signal':>10} {'encode ms':>10}")
    for label, kb, ms in storage_costs():
        print(f"{label:<20} {kb:>10.1f} {ms:>10.2f}")
    print()

    for label, metrics, n in (("no metrics", (), args.n), ("all 11 metrics", METRIC_NAMES, args.n // 4)):
        base = None
        for w in args.workers:
            rate, seconds = throughput(n, w, metrics)
            base = base or rate
            print(f"{label}, workers {w}: {rate:.1f} quadruples/s ({rate / w:.1f} per core), {n} in {seconds:.1f} s "
                  f"including start-up; scaling x{rate / base:.2f}")


if __name__ == "__main__":
    main()
