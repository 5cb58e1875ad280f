"""Training speed: steps/s and frames/s of one training step per model size and precision, and the
shard pipeline's decode rate. Prints figures; asserts nothing. Run from the repository root:

    .venv/bin/python benchmarks/train.py [--batch-size 16] [--presets paper small] [--shards DIR]

A step is the full SESQA step: 4 frames per quadruple through the encoder, all losses that
generated data feeds (rank, cons, sd, dt, ds, mr), backward, RangerQH. Batches are synthetic
(random frames and labels) so that the figure is the model's cost alone; `--shards` adds the
decode rate of the real data pipeline, which runs in DataLoader workers beside the model.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from sesqa.runtime.device import autocast as precision_autocast
from sesqa.model import SesqaModel
from sesqa.trainer import MODEL_PRESETS, TrainConfig
from sesqa.trainer.batch import Batch, QuadBatch
from sesqa.trainer.loop import TrainStep
from sesqa.trainer.losses import select_losses
from sesqa.trainer.optim import make_optimizer
from sesqa.trainer.quadruples import QuadrupleStream, vocabulary

METRICS = ("pesq", "stoi", "si_sdr")


def synthetic_batch(batch_size: int, n_types: int, frame_samples: int = 48_000) -> Batch:
    g = torch.Generator().manual_seed(0)
    types = (torch.rand(batch_size, n_types, generator=g) < 0.1).float()
    return Batch(
        quad=QuadBatch(
            frames=0.1 * torch.randn(batch_size, 4, frame_samples, generator=g),
            types_i=types, types_j=types, strength_i=types * 0.5, strength_j=types * 0.5, rated_i=types, rated_j=types,
            metrics=torch.randn(batch_size, len(METRICS), generator=g),
            metrics_mask=torch.ones(batch_size, len(METRICS), dtype=torch.bool),
        )
    )


def step_seconds(preset: str, precision: str, batch_size: int, repeats: int) -> float:
    """Median wall time of one training step."""
    config = TrainConfig(out=Path("unused"), shards=Path("unused"), model_preset=preset)
    vocab = vocabulary()
    model = SesqaModel(config.model_config(vocab, METRICS))
    step = TrainStep(model, select_losses(("mos", "jnd")))
    optimizer = make_optimizer(model.parameters())
    batch = synthetic_batch(batch_size, len(vocab))
    autocast = precision_autocast(torch.device("cpu"), precision)
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        with autocast:
            total = sum(step(batch).values())
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def decode_rate(shards: Path, batch_size: int) -> float:
    """Quadruples/s the shard pipeline decodes and labels in one process."""
    from sesqa.shards.manifest import read_vocabulary
    from sesqa.shards.stats import read_stats

    stats = read_stats(shards)
    files = sorted(shards.glob("train-*.tar"))
    vocab = vocabulary(read_vocabulary([shards]))
    stream = QuadrupleStream(files, vocab, tuple(stats.names), stats, batch_size=batch_size, shuffle_buffer=100)
    start, n = time.perf_counter(), 0
    for batch in stream:
        n += batch.frames.shape[0]
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=16, help="quadruples per step")
    parser.add_argument("--presets", nargs="+", default=["paper", "small"], choices=list(MODEL_PRESETS))
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shards", type=Path, help="a shard directory, to measure the data pipeline too")
    args = parser.parse_args()

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch_size} quadruples ({4 * args.batch_size} frames of 1 s)")
    print(f"{'preset':<8} {'precision':<9} {'s/step':>7} {'frames/s':>9} {'steps/hour':>10}")
    for preset in args.presets:
        for precision in args.precisions:
            seconds = step_seconds(preset, precision, args.batch_size, args.repeats)
            print(f"{preset:<8} {precision:<9} {seconds:>7.2f} {4 * args.batch_size / seconds:>9.1f} {3600 / seconds:>10.0f}")
    if args.shards:
        print(f"shard pipeline: {decode_rate(args.shards, args.batch_size):.0f} quadruples/s decoded and labelled in one process")


if __name__ == "__main__":
    main()
