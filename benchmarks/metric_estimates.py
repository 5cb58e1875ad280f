"""How far `sesqa compare`'s estimated measures (PESQ, STOI, SI-SDR...) are from the true ones.

The "mr" head estimates the reference-based measures of a (reference, degraded) pair without
computing them. On a held-out split of generated shards, whose records hold the true measures of
each (x_i, x_j), this prints per measure the mean absolute error of the estimate (over the
(x_ik, x_jk) and (x_il, x_jl) frame pairs, as the model was trained), the spread of the true
measure (std) for scale, and the Pearson correlation. It runs the model through the backend
`sesqa compare` uses (the packaged ONNX file by default), so the figures are those of the
estimates a user reads. Prints figures; asserts nothing:

    .venv/bin/python benchmarks/metric_estimates.py SHARD_DIR [--split test] [--model CKPT] [--max 3000]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from sesqa.scoring.backend import open_backend
from sesqa.scoring.compare import metric_map
from sesqa.shards.reader import read_shard

PAIRS = ((0, 2), (1, 3))
"""(x_ik, x_jk) and (x_il, x_jl) of a quadruple's four frames."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shards", type=Path)
    parser.add_argument("--split", default="test")
    parser.add_argument("--model", default=None, help="checkpoint, .onnx file or packaged model's name (default: the packaged model)")
    parser.add_argument("--max", type=int, default=3000, help="quadruples at most")
    args = parser.parse_args(argv)
    backend = open_backend(args.model)
    mr = metric_map(backend)
    if not mr.indices:
        print("no estimates: " + "; ".join(mr.notes))
        return 1
    estimates: list[np.ndarray] = []
    truth: list[list[float]] = []
    batch: list[np.ndarray] = []

    def flush() -> None:
        if batch:
            x = np.stack(batch)  # (quadruples, 4, T)
            z = backend.frames(x.reshape(-1, x.shape[-1])).z.reshape(len(x), 4, -1)
            pairs = [backend.pairs(z[:, a], z[:, b]).mr[:, list(mr.indices)] for a, b in PAIRS]
            estimates.append(mr.denormalise(np.mean(pairs, axis=0)))
            batch.clear()

    for shard in sorted(args.shards.glob(f"{args.split}-*.tar")):
        for sample in read_shard(shard):
            batch.append(np.stack(sample.frames()).astype(np.float32))
            truth.append([math.nan if (v := sample.record.metrics.get(n)) is None else v for n in mr.names])
            if len(batch) == 32:
                flush()
            if len(truth) >= args.max:
                break
        if len(truth) >= args.max:
            break
    flush()
    est, true = np.concatenate(estimates), np.asarray(truth, dtype=np.float64)
    print(f"{len(true)} {args.split} quadruples from {args.shards}; model {backend.source} ({backend.device})")
    print("| measure | n | MAE of the estimate | std of the true measure | Pearson r |")
    print("|---|---|---|---|---|")
    absent = []
    for k, name in enumerate(mr.names):
        ok = np.isfinite(true[:, k])
        if not ok.any():
            absent.append(name)
            continue
        e, t = est[ok, k], true[ok, k]
        r = float(np.corrcoef(e, t)[0, 1]) if ok.sum() > 2 and np.std(t) > 0 else math.nan
        print(f"| {name} | {int(ok.sum())} | {np.mean(np.abs(e - t)):.3f} | {np.std(t):.3f} | {r:.3f} |")
    if absent:
        print(f"not measured in these shards (no true value to compare with): {', '.join(absent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
