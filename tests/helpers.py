"""What several test files share: the test sample rate and signal, a tiny warmed-up model with
metric statistics, and a CLI runner. Test files import from here, never from one another."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # imported where used: conftest imports this file, and SR alone needs no torch
    from typer.testing import Result

    from sesqa.model import ModelConfig, SesqaModel

SR = 48_000
BUNDLED_SPEECH = Path(__file__).resolve().parent.parent / "sesqa" / "data" / "speech"
NOISE_CONDITIONS = (("clean", None, 4.5), ("snr20", 20, 3.5), ("snr10", 10, 2.5), ("snr0", 0, 1.5))
"""(system, SNR in dB or None for clean, MOS) of `rated_noisy_clips`."""

TYPES = ("clean", "additive_noise", "mp3")
"""Degradation vocabulary of the tiny test model."""
METRICS = ("pesq", "stoi")
BETA = 0.7
"""The tiny model's score bias: identical inputs compare to this."""
STATS = {
    "schema": "sesqa.metric_stats/1",
    "measures": {
        "pesq": {"count": 10, "mean": 3.0, "m2": 2.5, "missing": 0, "std": 0.5},
        "stoi": {"count": 10, "mean": 0.8, "m2": 0.1, "missing": 0, "std": 0.1},
    },
}
"""Metric statistics stored with the tiny model's checkpoints."""


def speech_like(seconds: float = 1.1, sr: int = SR, seed: int = 0) -> np.ndarray:
    """A voiced, syllable-modulated harmonic signal with a little breath noise, peak 1."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 120.0 + 20.0 * np.sin(2 * np.pi * 1.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voiced = sum(np.sin(k * phase) / k for k in range(1, 30))
    envelope = 0.5 * (1 - np.cos(2 * np.pi * 4.0 * t)) ** 1.5
    x = voiced * envelope + 0.02 * rng.standard_normal(len(t))
    return (x / np.max(np.abs(x))).astype(np.float32)


def tiny_config(**overrides: object) -> ModelConfig:
    """A ModelConfig small enough to build and run in milliseconds."""
    from sesqa.model import ModelConfig

    base = {
        "degradation_types": TYPES, "metric_names": METRICS, "pool_channels": (4, 4, 8, 8), "res_blocks": 1,
        "res_channels": (8, 8, 8), "mlp_hidden": 16, "latent_dim": 8, "head_hidden": 8,
    }  # fmt: skip
    base.update(overrides)
    return ModelConfig(**base)


def warmed_up(cfg: ModelConfig, seed: int = 0) -> SesqaModel:
    """An untrained model whose BN statistics have seen speech at several levels, so outputs vary with the input."""
    import torch

    from sesqa.model import SesqaModel

    torch.manual_seed(seed)
    model = SesqaModel(cfg)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    for bn in bns:
        bn.momentum = None  # cumulative average: a few batches settle the statistics
    n = cfg.frame_samples
    with torch.no_grad():
        for k in range(4):
            x = np.stack([g * speech_like(n / cfg.sample_rate, cfg.sample_rate, seed=10 * k + i)[:n] for i, g in enumerate((0.03, 0.1, 0.3, 0.9))])
            x = x + 0.01 * k * np.random.default_rng(k).standard_normal(x.shape)
            model(torch.from_numpy(x.astype(np.float32)))
        for bn in bns:
            bn.momentum = 0.1
        model.heads["score"].net[-1].bias.fill_(BETA)
    return model.eval()


def run_cli(*args: str | Path) -> Result:
    """Invoke the sesqa CLI in-process; exceptions other than SystemExit are raised, not swallowed."""
    from typer.testing import CliRunner

    from sesqa.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def ramp(base: float, seconds: float, sr: int = SR) -> np.ndarray:
    """A signal whose every sample is distinct, so a crop can be located in its file."""
    return (base + 5e-7 * np.arange(int(seconds * sr))).astype(np.float32)


def write(path: Path, x: np.ndarray, sr: int = SR) -> Path:
    """`x` as a float WAV at `path` (folders made as needed)."""
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x, sr, subtype="FLOAT")
    return path


def rated_noisy_clips(
    root: Path, n_utterances: int, rng: np.random.Generator, conditions=NOISE_CONDITIONS, seconds: float = 1.5
) -> list[tuple[int, str, float, str]]:
    """A small MOS set: the first `n_utterances` bundled clips, cut to `seconds` and peak-normalised
    to 0.5, each written under `root` as utt{n}_{system}.wav in every (system, snr_db, mos) of
    `conditions` (white noise at that SNR). Rows (n, file name, mos plus N(0, 0.1), system)."""
    import soundfile as sf

    rows = []
    for n, path in enumerate(sorted(BUNDLED_SPEECH.glob("*/*.flac"))[:n_utterances]):
        x, sr = sf.read(path, dtype="float32")
        x = x if x.ndim == 1 else x.mean(axis=1)
        x = x[: int(seconds * sr)]
        x = 0.5 * x / np.max(np.abs(x))
        for system, snr_db, mos in conditions:
            y = x
            if snr_db is not None:
                noise = rng.standard_normal(len(x)).astype(np.float32)
                y = x + noise * np.sqrt(np.mean(x**2) / np.mean(noise**2)) * 10 ** (-snr_db / 20)
            name = f"utt{n}_{system}.wav"
            sf.write(root / name, np.clip(y, -1, 1), sr)
            rows.append((n, name, round(mos + 0.1 * rng.standard_normal(), 2), system))
    return rows
