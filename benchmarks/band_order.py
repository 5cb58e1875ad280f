"""Does the score hear the band? Full-band clean speech against the same speech band-limited.

Scores every clip whose own band edge (`sesqa.audio.band`) reaches 15 kHz as it is, and limited
to each of `--edges` (default 8,000 and 4,000 Hz) by the `band_limit` degradation: the audio
passed through a rate of twice the edge, as if it had been recorded at 16 or 8 kHz. Clips below
15 kHz are listed and skipped: they have no full band to lose. Prints, per `--model`, the mean
score of each version and the share of clips in which each narrower version scores below the
next wider one (all of them: "ordered"). Asserts nothing. From the repository root:

    .venv/bin/python benchmarks/band_order.py /work/fullband [--model default --model run/best.ckpt] [--json out.json]

The held-out full-band clips come from `sesqa corpus build /work/fullband --set fullband` (docs/sweep.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sesqa.audio import AudioError, load
from sesqa.audio.band import file_band_edge_hz
from sesqa.generator.degradations.band_limit import FULL_BAND_EDGE_HZ, BandLimit
from sesqa.runtime.device import cpu_name
from sesqa.runtime.files import atomic_write_text
from sesqa.scoring.paths import find_audio

log = logging.getLogger("benchmarks.band_order")

def full_band_clips(paths: Sequence[Path]) -> list[Path]:
    """The clips whose measured band edge reaches FULL_BAND_EDGE_HZ; the others are logged and left out."""
    kept = []
    for path in paths:
        try:
            edge = file_band_edge_hz(path)
        except AudioError as e:
            log.warning("%s", e)
            continue
        if edge >= FULL_BAND_EDGE_HZ:
            kept.append(path)
        else:
            log.warning("%s: band edge %.0f Hz, below %.0f Hz: not full band, skipped", path, edge, FULL_BAND_EDGE_HZ)
    return kept


def band_scores(model: str, clips: Sequence[Path], edges_hz: Sequence[float]) -> dict[str, list[float]]:
    """Per clip, the score of the clip as it is and then limited to each edge, widest first."""
    from sesqa.scoring.scorer import open_scorer

    scorer = open_scorer(model, device="cpu")
    sr = scorer.sample_rate
    out = {}
    for path in clips:
        try:
            x = load(path, sr=sr)
        except AudioError as e:
            log.warning("%s", e)
            continue
        versions = [x] + [BandLimit.apply(x, sr, BandLimit.Params(edge_hz=edge)) for edge in edges_hz]
        out[str(path)] = [scorer.score(v, sr=sr).score for v in versions]
    return out


def summarise(scores: dict[str, list[float]], labels: Sequence[str]) -> dict[str, object]:
    """Mean score per version; per adjacent pair (wider, narrower), the share of clips scoring the narrower lower."""
    table = np.asarray(list(scores.values()), dtype=np.float64).reshape(len(scores), len(labels))
    below = table[:, 1:] < table[:, :-1]
    return {
        "clips": len(scores),
        "mean": dict(zip(labels, table.mean(axis=0).round(4).tolist())) if len(scores) else {},
        "narrower_below": {f"{labels[k + 1]} < {labels[k]}": float(below[:, k].mean()) for k in range(len(labels) - 1)} if len(scores) else {},
        "ordered": float(below.all(axis=1).mean()) if len(scores) else float("nan"),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="+", type=Path, help="Clean clips or folders of them.")
    parser.add_argument("--model", action="append", help="A packaged model's name or a checkpoint (repeatable; default: default).")
    parser.add_argument("--edges", default="8000,4000", help="Band edges in Hz, widest first (default: 8000,4000).")
    parser.add_argument("--json", type=Path, help="Write the figures and every clip's scores here.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        edges = [float(e) for e in args.edges.split(",") if e.strip()]
    except ValueError:
        parser.error(f"--edges: {args.edges!r} is not a comma-separated list of numbers")
    if not edges or sorted(edges, reverse=True) != edges or edges[0] >= FULL_BAND_EDGE_HZ:
        parser.error(f"--edges: give edges below {FULL_BAND_EDGE_HZ:.0f} Hz, widest first (got {args.edges!r})")
    paths, problems = find_audio(args.clips)
    for path, problem in problems:
        log.warning("%s: %s", path, problem)
    clips = full_band_clips(paths)
    if not clips:
        log.error("no full-band clip among %d file(s)", len(paths))
        return 1
    labels = ["full band"] + [f"{e / 1000:g} kHz" for e in edges]
    report: dict[str, object] = {"cpu": cpu_name(), "clips": [str(c) for c in clips], "edges_hz": edges, "models": {}}
    print(f"{len(clips)} full-band clip(s) of {len(paths)}; CPU: {cpu_name()}")
    print(f"{'model':<40}" + "".join(f"{label:>11}" for label in labels) + f"{'ordered':>9}")
    for model in args.model or ["default"]:
        scores = band_scores(model, clips, edges)
        figures = summarise(scores, labels)
        report["models"][model] = {**figures, "scores": scores}
        cells = "".join(f"{figures['mean'][label]:>11.3f}" for label in labels)
        print(f"{model[-40:]:<40}{cells}{figures['ordered']:>9.0%}")
        for pair, share in figures["narrower_below"].items():
            print(f"{'':<40}{pair}: {share:.0%} of clips")
    print("ordered: share of clips in which every narrower version scores below the wider one")
    if args.json:
        atomic_write_text(args.json, json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
