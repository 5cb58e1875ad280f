"""Scoring a corpus: audio-seconds per second and peak memory of `sesqa score --jsonl` with 1 and 2
workers, and DNSMOS on the same files.

Makes N files of 10 s (16 kHz mono 16-bit WAV, as speech corpora come) from the bundled speech:
all clips decoded, joined end to end and looped, file k starting at a fixed offset k * stride
(`make_files`; the same files every run), or scores the audio files of `--corpus DIR` instead.
Then, each as a user runs it, start-up included, one process tree at a time:

- `sesqa score --files-from LIST --jsonl OUT --workers W --quiet` for each W (default 1 and 2);
  with `--pinned`, also 1 worker restricted to one CPU (`taskset -c 0`): what one core does,
  the base that 2 workers on 2 cores scale from;
- DNSMOS P.835 (speechmos, the peer of `sesqa evaluate --peer dnsmos`): one Python process that
  reads each file at 16 kHz and scores it, as its README shows.

CPU is user + system time of the whole tree (workers included), so "cores busy" = CPU / wall
says how much of the machine a run used. Memory is the resident memory of the whole process tree (the parent and its workers, summed),
sampled every 0.1 s from /proc (Linux); "at 25 %" is the peak until a quarter of the files was
written, so flat memory shows as the same figure at 25 % and at the end. Prints figures,
asserts nothing. From the repository root, under the heavy lock:

    flock /tmp/sesqa-heavy.lock .venv/bin/python benchmarks/score_throughput.py [--n 1000] [--json out.json]

Needs the peer extra (`pip install -e '.[peer]'`) for the DNSMOS row (`--no-dnsmos` skips it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from sesqa.audio import load
from sesqa.runtime.device import cpu_name

BUNDLED_SPEECH = Path(__file__).resolve().parent.parent / "sesqa" / "data" / "speech"
RATE = 16_000

DNSMOS_SCRIPT = """
import sys
import numpy as np
import librosa
from speechmos import dnsmos
with open(sys.argv[1]) as listing, open(sys.argv[2], "w") as out:
    for line in listing:
        path = line.rstrip("\\n")
        x, _ = librosa.load(path, sr=16000)
        out.write(f"{path}\\t{dnsmos.run(np.clip(x, -1.0, 1.0), 16000)['ovrl_mos']}\\n")
        out.flush()
"""
"""DNSMOS as a user scripts it; a line per file, so its progress can be followed like sesqa's."""


def make_files(folder: Path, n: int, seconds: float) -> list[Path]:
    """N files of `seconds` cut from all bundled speech looped end to end, peak 0.5, 16 kHz WAV."""
    speech = np.concatenate([load(p, RATE) for p in sorted(BUNDLED_SPEECH.glob("*/*.flac"))])
    length = int(seconds * RATE)
    stride = max(1, (len(speech) - 1) // max(n, 1))
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for k in range(n):
        x = np.resize(np.roll(speech, -((k * stride) % len(speech))), length)
        path = folder / f"speech{k:04d}.wav"
        sf.write(path, (0.5 * x / np.max(np.abs(x))).astype(np.float32), RATE, subtype="PCM_16")
        files.append(path)
    return files


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and all its descendants, MB (0 for a process gone)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, StopIteration, ValueError):
            continue
    return total / 1024


@dataclass
class Run:
    label: str
    files: int
    audio_s: float
    wall_s: float
    peak_mb: float
    peak_mb_at_25pct: float
    cpu_s: float
    """User + system CPU seconds of the whole tree (workers included)."""

    @property
    def rate(self) -> float:
        return self.audio_s / self.wall_s


def run_tree(label: str, command: list[str], out: Path, n: int, audio_s: float) -> Run:
    """Run `command` to its end, sampling its tree's memory and the lines it has written to `out`."""
    out.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak, peak_quarter, stop = [0.0], [0.0], threading.Event()

    def sample() -> None:
        quarter_open = True
        while not stop.is_set():
            rss = _tree_rss_mb(proc.pid)
            peak[0] = max(peak[0], rss)
            if quarter_open:
                peak_quarter[0] = max(peak_quarter[0], rss)
                quarter_open = not out.exists() or out.read_bytes().count(b"\n") < n // 4
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # a reaped tree's CPU, grandchildren included
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{label}: exit {proc.returncode}\n{err[-2000:]}")
    lines = out.read_bytes().count(b"\n")
    if lines != n:
        raise RuntimeError(f"{label}: {lines} lines written for {n} files")
    return Run(label, n, audio_s, wall, peak[0], peak_quarter[0], cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="files to make (default 1000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each made file (default 10 s)")
    parser.add_argument("--corpus", type=Path, default=None, help="score the audio files of this folder instead of made ones")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--pinned", action="store_true", help="also 1 worker on one CPU (taskset -c 0)")
    parser.add_argument("--no-dnsmos", action="store_true", help="time sesqa only")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.corpus is not None:
            from sesqa.scoring.paths import find_audio

            files, _ = find_audio([args.corpus])
        else:
            files = make_files(folder / "corpus", args.n, args.seconds)
        audio_s = sum(sf.info(str(p)).duration for p in files)
        listing = folder / "files.txt"
        listing.write_text("".join(f"{p}\n" for p in files))
        out = folder / "out.jsonl"
        sesqa = [sys.executable, "-m", "sesqa", "score", "--files-from", str(listing), "--jsonl", str(out), "--quiet"]
        plans = [(f"sesqa, {w} worker{'s' if w > 1 else ''}", [*sesqa, "--workers", str(w)]) for w in args.workers]
        if args.pinned and shutil.which("taskset"):
            plans.insert(1, ("sesqa, 1 worker on 1 CPU", ["taskset", "-c", "0", *sesqa, "--workers", "1"]))
        if not args.no_dnsmos:
            plans.append(("DNSMOS P.835 (speechmos)", [sys.executable, "-c", DNSMOS_SCRIPT, str(listing), str(out)]))
        print(f"{len(files)} files, {audio_s:.0f} s of audio; CPU: {cpu_name()}, {os.cpu_count()} cores\n", flush=True)
        print(f"{'run':<28} {'audio s/s':>10} {'wall s':>8} {'CPU s':>8} {'cores busy':>10} {'peak MB':>8} {'MB at 25 %':>10}", flush=True)
        for label, command in plans:
            run = run_tree(label, command, out, len(files), audio_s)
            runs.append(run)
            print(
                f"{label:<28} {run.rate:>10.1f} {run.wall_s:>8.1f} {run.cpu_s:>8.1f} {run.cpu_s / run.wall_s:>10.2f} "
                f"{run.peak_mb:>8.0f} {run.peak_mb_at_25pct:>10.0f}",
                flush=True,
            )
    base = runs[0].rate
    print()
    for run in runs[1:]:
        print(f"{run.label} / {runs[0].label}: x{run.rate / base:.2f}")
    if args.json is not None:
        args.json.write_text(json.dumps({"cpu": cpu_name(), "cores": os.cpu_count(), "runs": [asdict(r) | {"rate": r.rate} for r in runs]}, indent=2) + "\n")


if __name__ == "__main__":
    main()
