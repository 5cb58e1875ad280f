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
cores they find (torch intra-op threads; onnxruntime's default).

Then the whole process, start-up included, as a user runs it: `sesqa score FILES --quiet` (the
packaged model: onnxruntime, no torch) against a minimal DNSMOS script (import speechmos, read
each file at 16 kHz, score it), for 1 file and for all N files, each command run once to warm
caches and then `--repeats` times (median reported), alternating between the two, with the
ratio sesqa / DNSMOS of the medians (below 1: sesqa takes less time). Also times `sesqa --help`,
median of 5. Prints figures; asserts nothing. From the repository root:

    .venv/bin/python benchmarks/score.py [--n 20] [--model CKPT | --model-size paper] [--json out.json]
    .venv/bin/python benchmarks/score.py --whole-process-only      # only the start-up-included race

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

from sesqa.audio import SAMPLE_RATE, load
from sesqa.scoring.scorer import Scorer
from sesqa.trainer.config import MODEL_PRESETS
from sesqa.runtime.device import cpu_name

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
    """A model file's scorer (default: the packaged model; fp32 runs its ONNX twin, bf16 its
    checkpoint), or an untrained one of preset ``size`` when given instead."""
    if size is not None:
        import torch

        from sesqa.model import ModelConfig, SesqaModel
        from sesqa.trainer.quadruples import vocabulary

        torch.manual_seed(0)
        config = ModelConfig(degradation_types=vocabulary(), **MODEL_PRESETS[size])
        return Scorer(SesqaModel(config), device="cpu", precision=precision, hop_s=hop_s)
    return Scorer.from_checkpoint(model if model is not None else "default", device="cpu", precision=precision, hop_s=hop_s)


DNSMOS_SCRIPT = """
import sys
import numpy as np
import librosa
from speechmos import dnsmos
for path in sys.argv[1:]:
    x, _ = librosa.load(path, sr=16000)
    dnsmos.run(np.clip(x, -1.0, 1.0), 16000)
"""
"""DNSMOS as a user scripts it: speechmos on each file read at 16 kHz (librosa, as its README shows)."""


def whole_process(files: list[Path], model: Path | None, repeats: int) -> dict[str, dict[str, float]]:
    """Median wall seconds of `sesqa score FILES --quiet` and of the DNSMOS script, start-up
    included, for the first file alone and for all files; and their ratios."""
    sesqa = [sys.executable, "-m", "sesqa", "score", "--quiet", *(["--model", str(model)] if model else [])]
    dns = [sys.executable, "-c", DNSMOS_SCRIPT]
    out: dict[str, dict[str, float]] = {}
    for label, chosen in (("1 file", files[:1]), (f"{len(files)} files", files)):
        runs: dict[str, list[float]] = {"sesqa": [], "dnsmos": []}
        for k in range(repeats + 1):  # the first round warms the OS file cache and numba's cache
            for name, command in (("sesqa", sesqa), ("dnsmos", dns)):
                t0 = time.perf_counter()
                subprocess.run([*command, *map(str, chosen)], check=True, capture_output=True)
                if k:
                    runs[name].append(time.perf_counter() - t0)
        med = {name: statistics.median(times) for name, times in runs.items()}
        out[label] = {"sesqa_s": med["sesqa"], "dnsmos_s": med["dnsmos"], "ratio": med["sesqa"] / med["dnsmos"]}
        print(
            f"whole process, {label}: sesqa {med['sesqa']:.2f} s, DNSMOS {med['dnsmos']:.2f} s "
            f"(medians of {repeats}); sesqa / DNSMOS = {med['sesqa'] / med['dnsmos']:.2f}",
            flush=True,
        )
    return out


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
    parser.add_argument("--repeats", type=int, default=3, help="whole-process runs per command after a warm-up (median; default 3)")
    parser.add_argument("--whole-process-only", action="store_true", help="only the start-up-included race against DNSMOS")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    figures: dict[str, object] = {
        "files": args.n,
        "seconds_per_file": args.seconds,
        "cpu_count": os.cpu_count(),
        "cpu": cpu_name(),
        "model": f"untrained {args.model_size}" if args.model_size else str(args.model or "packaged default"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(Path(tmp), args.n, args.seconds)
        if not args.no_dnsmos:
            figures["whole_process"] = whole_process(files, args.model, args.repeats)
        if args.whole_process_only:
            if args.json is not None:
                args.json.write_text(json.dumps(figures, indent=2) + "\n")
            return
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
