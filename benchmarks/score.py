"""Scoring speed on CPU: sesqa against DNSMOS on the same 10 s files, in one run, as a ratio.

Makes N files of 10 s (48 kHz mono WAV) from the bundled speech, looped and concatenated, then
times, per file and end to end from the file on disk:

- sesqa `Scorer.score` with the packaged default model (or a checkpoint given by --model, or an
  untrained model of --model-size: the speed does not depend on the weights), fp32 and bf16
  (autocast), 1 s frames every 0.5 s (the default hop) and every 1 s;
- DNSMOS P.835 via speechmos (`sesqa.evaluation.peers.DnsmosPeer`: decode, resample to 16 kHz,
  ONNX models), the figure `sesqa evaluate --peer dnsmos` uses.

Throughput is seconds of audio scored per second of wall time; each scorer is warmed up on one
file first (DNSMOS's first call compiles librosa's numba kernels, about 15 s). Both use all the
cores they find (torch intra-op threads; onnxruntime's default). Also times CLI start-up,
`sesqa --help`, median of 5. Prints figures; asserts nothing. From the repository root:

    .venv/bin/python benchmarks/score.py [--n 20] [--model CKPT | --model-size paper] [--json out.json]

Needs the peer extra (`pip install -e '.[peer]'`) for the DNSMOS half.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from sesqa.audio import SAMPLE_RATE, load
from sesqa.model import ModelConfig, SesqaModel
from sesqa.scoring.default import resolve_model
from sesqa.scoring.scorer import Scorer
from sesqa.trainer.config import MODEL_PRESETS
from sesqa.trainer.quadruples import vocabulary

log = logging.getLogger("benchmarks.score")
BUNDLED_SPEECH = Path(__file__).resolve().parent.parent / "sesqa" / "data" / "speech"


def make_files(folder: Path, n: int, seconds: float) -> list[Path]:
    """N files of ``seconds`` each, cut from all bundled speech looped end to end, peak 0.5."""
    speech = np.concatenate([load(p, SAMPLE_RATE) for p in sorted(BUNDLED_SPEECH.glob("*/*.flac"))])
    length = int(seconds * SAMPLE_RATE)
    stride = max(1, (len(speech) - 1) // max(n, 1))
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for k in range(n):
        start = (k * stride) % len(speech)
        x = np.resize(np.roll(speech, -start), length)
        path = folder / f"speech{k:03d}.wav"
        sf.write(path, (0.5 * x / np.max(np.abs(x))).astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
        files.append(path)
    return files


def throughput(score_one, files: list[Path], seconds: float) -> tuple[float, float]:
    """(seconds of audio per second, wall seconds) for scoring ``files`` one after another."""
    score_one(files[0])  # warm-up: first-call costs are not throughput
    t0 = time.perf_counter()
    for path in files:
        score_one(path)
    wall = time.perf_counter() - t0
    return len(files) * seconds / wall, wall


def cli_startup(repeats: int) -> float | None:
    """Median wall seconds of `sesqa --help` (the installed console script), or None if absent."""
    script = shutil.which("sesqa", path=str(Path(sys.executable).parent)) or shutil.which("sesqa")
    if script is None:
        return None
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([script, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def sesqa_scorer(model: Path | None, size: str | None, precision: str, hop_s: float) -> Scorer:
    """A checkpoint's scorer, or an untrained one of preset ``size`` when given instead."""
    if size is not None:
        torch.manual_seed(0)
        config = ModelConfig(degradation_types=vocabulary(), **MODEL_PRESETS[size])
        return Scorer(SesqaModel(config), device="cpu", precision=precision, hop_s=hop_s)
    return Scorer.from_checkpoint(resolve_model(model), device="cpu", precision=precision, hop_s=hop_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20, help="files to score (default 20)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each file (default 10 s)")
    parser.add_argument("--model", type=Path, default=None, help="checkpoint (default: the packaged default model)")
    parser.add_argument("--model-size", choices=sorted(MODEL_PRESETS), default=None, help="time an untrained model of this size instead")
    parser.add_argument("--precision", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    parser.add_argument("--hop", nargs="+", type=float, default=[0.5, 1.0], help="sesqa hops to time (default 0.5 1.0)")
    parser.add_argument("--no-dnsmos", action="store_true", help="time sesqa only")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    figures: dict[str, object] = {
        "files": args.n,
        "seconds_per_file": args.seconds,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "model": f"untrained {args.model_size}" if args.model_size else str(resolve_model(args.model)),
    }
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(Path(tmp), args.n, args.seconds)
        rates: dict[str, float] = {}
        for precision in args.precision:
            for hop in args.hop:
                scorer = sesqa_scorer(args.model, args.model_size, precision, hop)
                rate, wall = throughput(scorer.score, files, args.seconds)
                rates[f"sesqa {precision} hop {hop:g} s"] = rate
                print(f"sesqa {precision:<4} hop {hop:g} s: {rate:7.2f} s of audio per s ({wall:.1f} s for {args.n} files)", flush=True)
        dnsmos = None
        if not args.no_dnsmos:
            from sesqa.evaluation.peers import DnsmosPeer

            peer = DnsmosPeer()
            dnsmos, wall = throughput(peer.score_file, files, args.seconds)
            rates["dnsmos"] = dnsmos
            print(f"DNSMOS (speechmos):  {dnsmos:7.2f} s of audio per s ({wall:.1f} s for {args.n} files)", flush=True)
    figures["audio_seconds_per_second"] = rates
    if dnsmos:
        ratios = {name: rate / dnsmos for name, rate in rates.items() if name != "dnsmos"}
        figures["ratio_to_dnsmos"] = ratios
        for name, ratio in ratios.items():
            print(f"{name} / DNSMOS: {ratio:.2f}x")
    startup = cli_startup(5)
    figures["cli_startup_s"] = startup
    print(f"CLI start-up (sesqa --help, median of 5): {startup:.2f} s" if startup is not None else "CLI start-up: no sesqa script found")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
