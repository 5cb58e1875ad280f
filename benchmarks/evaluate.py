"""Evaluation speed: bootstrap confidence intervals of the MOS metrics (`sesqa evaluate`).

Times `bootstrap_mos` (all five MOS metrics from one set of resamples) on N files with tied
scores, as MOS lists from few listeners and coarse predictions have, median of a few runs.
(Was a pass/fail bound in tests/test_evaluation.py; about 0.4 s for 1,000 files and 1,000
resamples on 2 cores.) Prints figures; asserts nothing. From the repository root:

    .venv/bin/python benchmarks/evaluate.py [--files 1000 10000] [--resamples 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from sesqa.measures.bootstrap import bootstrap_mos


def tied_scores(n: int, seed: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """(predicted, true) MOS of `n` files: true on a half-point grid, predictions to one decimal."""
    rng = np.random.default_rng(seed)
    true = rng.uniform(1.0, 5.0, n)
    pred = np.round(true + rng.normal(0.0, 0.8, n), 1)
    return pred, np.round(true * 2) / 2


def bootstrap_seconds(n: int, resamples: int, repeats: int) -> float:
    """Median wall time of `bootstrap_mos` over `repeats` runs."""
    pred, true = tied_scores(n)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        bootstrap_mos(pred, true, n_boot=resamples, rng=0)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, nargs="+", default=[1000, 10000], help="files per evaluation")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (the default of sesqa evaluate)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'files':>8} {'resamples':>10} {'seconds':>9}")
    for n in args.files:
        print(f"{n:>8} {args.resamples:>10} {bootstrap_seconds(n, args.resamples, args.repeats):>9.3f}")


if __name__ == "__main__":
    main()
