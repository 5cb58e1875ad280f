"""Does the score stay put when the input changes in a way no listener hears?

Scores real speech and copies of it changed by gain (-30, -20, -10 dB; +6 dB where the peak
allows), polarity inversion, a DC offset of 0.01, resampling to 44.1 kHz, 2 s of digital silence
appended, and 1 s or 0.37 s (off the 1 s frame grid) prepended, and prints the mean and 90th
percentile of |score change| per kind, for sesqa and, when `sesqa[peer]` is installed, for
DNSMOS P.808 side by side.

Speech: the bundled clips held out from the packaged model's training (da: its validation
language; ro: its test language) and the eight bundled languages it never trained on (es, fi,
it, nds, nl, pt, sr, sv: recorded at 8 kHz or coded, real speech all the same). Each clip is
first brought to -26 LUFS (BS.1770, pyloudnorm), the level of the issue's measurements. Nothing
from the reserved Debian packages is read. Prints figures; asserts nothing. From the repository root:

    .venv/bin/python benchmarks/invariance.py [--model CKPT] [--no-peer] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyloudnorm

from sesqa.audio import load, resample
from sesqa.scoring.scorer import Scorer, open_scorer

log = logging.getLogger("benchmarks.invariance")
SPEECH = Path(__file__).resolve().parent.parent / "sesqa" / "data" / "speech"
LANGUAGES = ("da", "ro", "es", "fi", "it", "nds", "nl", "pt", "sr", "sv")
TARGET_LUFS = -26.0
SR = 48_000

Variant = Callable[[np.ndarray], tuple[np.ndarray, int] | None]
"""A change no listener hears: signal at 48 kHz -> (changed signal, its rate), or None where it
does not apply (a gain that would clip)."""


def _gain(db: float) -> Variant:
    def apply(x: np.ndarray) -> tuple[np.ndarray, int] | None:
        y = x * np.float32(10 ** (db / 20))
        return None if np.max(np.abs(y)) > 1.0 else (y, SR)

    return apply


VARIANTS: dict[str, Variant] = {
    "gain -30 dB": _gain(-30.0),
    "gain -20 dB": _gain(-20.0),
    "gain -10 dB": _gain(-10.0),
    "gain +6 dB": _gain(6.0),
    "polarity": lambda x: (-x, SR),
    "DC +0.01": lambda x: (x + np.float32(0.01), SR),
    "44.1 kHz": lambda x: (resample(x, SR, 44_100), 44_100),
    "+2 s silence after": lambda x: (np.concatenate([x, np.zeros(2 * SR, np.float32)]), SR),
    "+1 s silence before": lambda x: (np.concatenate([np.zeros(SR, np.float32), x]), SR),
    "+0.37 s silence before": lambda x: (np.concatenate([np.zeros(round(0.37 * SR), np.float32), x]), SR),
}


def clips() -> list[tuple[str, np.ndarray]]:
    """(name, 48 kHz mono at -26 LUFS) for every clip of LANGUAGES."""
    meter = pyloudnorm.Meter(SR)
    out = []
    for lang in LANGUAGES:
        for path in sorted((SPEECH / lang).glob("*")):
            x = load(path, SR)
            gain_db = TARGET_LUFS - meter.integrated_loudness(x.astype(np.float64))
            out.append((f"{lang}/{path.name}", (x * 10 ** (gain_db / 20)).astype(np.float32)))
    return out


def sesqa_scorer(scorer: Scorer) -> Callable[[np.ndarray, int], float]:
    return lambda x, sr: scorer.score(x, sr=sr).score


def dnsmos_p808() -> Callable[[np.ndarray, int], float] | None:
    try:
        from sesqa.evaluation.peers import DnsmosPeer, PeerUnavailable
    except ImportError:
        return None
    try:
        peer = DnsmosPeer()
    except PeerUnavailable as e:
        log.warning("%s", e)
        return None
    return lambda x, sr: peer.score_array(resample(x, sr, 16_000), 16_000)["p808"]


def changes(score: Callable[[np.ndarray, int], float], data: list[tuple[str, np.ndarray]]) -> dict[str, list[float]]:
    """|score(variant) - score(clip)| per variant kind, over the clips where the variant applies."""
    out: dict[str, list[float]] = {kind: [] for kind in VARIANTS}
    for name, x in data:
        base = score(x, SR)
        for kind, variant in VARIANTS.items():
            changed = variant(x)
            if changed is not None:
                out[kind].append(abs(score(*changed) - base))
        log.info("%s done (score %.3f)", name, base)
    return out


def summary(values: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    rows = {k: {"n": len(v), "mean": float(np.mean(v)), "p90": float(np.percentile(v, 90))} for k, v in values.items() if v}
    every = [d for v in values.values() for d in v]
    rows["all variants"] = {"n": len(every), "mean": float(np.mean(every)), "p90": float(np.percentile(every, 90))}
    return rows


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    names = list(results)
    head = "| variant | n | " + " | ".join(f"{n} mean | {n} p90" for n in names) + " |"
    lines = [head, "|" + "---|" * (2 + 2 * len(names))]
    for kind in results[names[0]]:
        cells = " | ".join(f"{results[n][kind]['mean']:.3f} | {results[n][kind]['p90']:.3f}" for n in names)
        lines.append(f"| {kind} | {results[names[0]][kind]['n']} | {cells} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="checkpoint (default: the packaged model)")
    parser.add_argument("--no-peer", action="store_true", help="skip DNSMOS even when installed")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    data = clips()
    print(f"{len(data)} clips at {TARGET_LUFS:g} LUFS from {', '.join(LANGUAGES)}")
    results = {"sesqa": summary(changes(sesqa_scorer(open_scorer(args.model)), data))}
    peer = None if args.no_peer else dnsmos_p808()
    if peer is not None:
        results["DNSMOS P.808"] = summary(changes(peer, data))
    print("|score change| per variant (1-5 scale):")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
