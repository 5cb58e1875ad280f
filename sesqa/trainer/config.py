"""What a training run is: typed, validated, saved as config.json in the run folder."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..model import ModelConfig
from ..model.config import LEGACY_FRONT_END
from ..runtime.seeds import check_seed

PRECISIONS = ("auto", "fp32", "bf16")
DEVICES = ("auto", "cpu", "cuda")

MODEL_PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "small": {
        "pool_channels": (16, 32, 64, 128),
        "res_blocks": 4,
        "res_channels": (256, 256, 128),
        "mlp_hidden": 512,
        "latent_dim": 128,
        "head_hidden": 200,
    },
    "tiny": {
        "pool_channels": (8, 8, 16, 16),
        "res_blocks": 2,
        "res_channels": (32, 32, 16),
        "mlp_hidden": 64,
        "latent_dim": 32,
        "head_hidden": 32,
    },
}
"""Encoder sizes: "paper" is the 7.2 M-parameter SESQA encoder; the others are for CPU runs and tests."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run."""

    out: Path
    shards: Path | None = None
    """Directory of generated shards (train-*.tar, valid-*.tar, stats.json)."""
    mos: tuple[Path, ...] = ()
    """MOS CSVs (path,mos[,system][,dataset]; NISQA corpus; VoiceMOS lists)."""
    jnd: tuple[Path, ...] = ()
    """JND pair lists (path_a,path_b,label; PerceptualAudio lists)."""
    valid: Path | None = None
    """Directory holding valid-*.tar; default: the shards directory."""
    valid_mos: tuple[Path, ...] = ()
    """Held-out MOS CSVs; default: a fixed 10 % of the MOS items (by system where known)."""
    steps: int | None = None
    epochs: float | None = None
    """Passes over the generated training data (over the MOS items without shards); default 5."""
    batch_size: int = 16
    """Quadruples per step (4 frames each)."""
    mos_batch_size: int | None = None
    """MOS items per step; default batch_size."""
    jnd_batch_size: int | None = None
    """JND pairs per step; default batch_size // 2."""
    without: tuple[str, ...] = ()
    """Losses switched off, e.g. ("rank", "cons") for the paper's ablations."""
    loss_weights: tuple[tuple[str, float], ...] = ()
    """(loss name, weight) pairs scaling losses in the step's sum, e.g. (("dt", 0.1),); the
    others weigh 1, as in the paper. Logged losses stay unweighted."""
    init: Path | None = None
    """Checkpoint whose weights start the run (fine-tuning)."""
    model_preset: str = "paper"
    lr: float = 1e-3
    seed: int = 0
    checkpoint_every: int = 500
    log_every: int = 10
    workers: int = 1
    """DataLoader processes decoding shards (0 = in the training process)."""
    device: str = "auto"
    precision: str = "auto"
    swa: bool = True
    """Stochastic weight averaging over the last epoch, with BatchNorm statistics recomputed."""
    shuffle_buffer: int = 1000
    valid_max_quadruples: int = 2000
    """Cap on validation quadruples per evaluation (all of them when fewer)."""
    augment: bool = True
    front_end: bool = True
    """The model's input front-end (DC and sub-audio out, level fixed, polarity fixed: see
    sesqa/model/frontend.py); also switched on for a model initialised from an older checkpoint."""

    def __post_init__(self) -> None:
        from .losses import check_loss_weights  # torch: only once a run is configured

        check_seed(self.seed)
        object.__setattr__(self, "loss_weights", tuple((str(n), float(w)) for n, w in self.loss_weights))
        check_loss_weights(self.loss_weights)
        _positive("batch_size", self.batch_size)
        _positive("checkpoint_every", self.checkpoint_every)
        _positive("log_every", self.log_every)
        _positive("valid_max_quadruples", self.valid_max_quadruples)
        for name in ("mos_batch_size", "jnd_batch_size", "steps"):
            if getattr(self, name) is not None:
                _positive(name, getattr(self, name))
        if self.epochs is not None and not (math.isfinite(self.epochs) and self.epochs > 0):
            raise ValueError(f"epochs must be a positive number, got {self.epochs}")
        if self.steps is not None and self.epochs is not None:
            raise ValueError(f"give steps or epochs, not both (got steps={self.steps}, epochs={self.epochs})")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr}")
        if self.workers < 0:
            raise ValueError(f"workers must be >= 0, got {self.workers}")
        if self.shuffle_buffer < 0:
            raise ValueError(f"shuffle_buffer must be >= 0, got {self.shuffle_buffer}")
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {self.device!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.model_preset not in MODEL_PRESETS:
            raise ValueError(f"model_preset must be one of {tuple(MODEL_PRESETS)}, got {self.model_preset!r}")
        if self.shards is None and not self.mos:
            raise ValueError("nothing to train on: give shards (generated data) and/or mos (a MOS CSV)")

    @property
    def effective_mos_batch_size(self) -> int:
        return self.mos_batch_size or self.batch_size

    @property
    def effective_jnd_batch_size(self) -> int:
        return self.jnd_batch_size or max(1, self.batch_size // 2)

    @property
    def valid_dir(self) -> Path | None:
        return self.valid or self.shards

    def model_config(
        self, degradation_types: tuple[str, ...], metric_names: tuple[str, ...], strengthless_types: tuple[str, ...] | None = None
    ) -> ModelConfig:
        """The encoder of the chosen preset with this run's label vocabularies (and the types without a strength)."""
        return ModelConfig(
            degradation_types=degradation_types, metric_names=metric_names, strengthless_types=strengthless_types,
            **MODEL_PRESETS[self.model_preset],
            **front_end_fields(self.front_end),
        )

    def to_json(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = [str(v) if isinstance(v, Path) else v for v in value]
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TrainConfig":
        known = {f.name: f for f in dataclasses.fields(cls)}
        if unknown := sorted(set(data) - set(known)):
            raise ValueError(f"unknown training settings {unknown}")
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            kind = str(known[name].type)
            if value is not None and "Path" in kind:
                value = tuple(Path(v) for v in value) if "tuple" in kind else Path(value)
            elif isinstance(value, list):
                value = tuple(value)
            kwargs[name] = value
        return cls(**kwargs)

    def resumable_with(self, other: "TrainConfig") -> list[str]:
        """Settings that differ from `other` in ways that would change the run being resumed."""
        free = {"checkpoint_every", "log_every", "workers", "device", "resume", "steps", "epochs"}
        mine, theirs = self.to_json(), other.to_json()
        return [k for k in mine if k not in free and mine[k] != theirs[k]]


def front_end_fields(on: bool) -> dict[str, Any]:
    """ModelConfig's front-end fields: the defaults when on, all off (as older models) when not."""
    if not on:
        return dict(LEGACY_FRONT_END)
    defaults = {f.name: f.default for f in dataclasses.fields(ModelConfig)}
    return {name: defaults[name] for name in LEGACY_FRONT_END}


def _positive(name: str, value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


__all__ = ["TrainConfig", "MODEL_PRESETS"]
