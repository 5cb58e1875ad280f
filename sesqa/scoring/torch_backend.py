"""The torch backend: a SesqaModel on CPU or GPU, fp32 or bf16 autocast (see `backend.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..runtime.device import PRECISIONS, autocast, resolve_device
from ..model import SesqaModel, load_checkpoint
from ..model.fuse import fuse_batchnorm
from .backend import Backend, FrameOutputs, PairOutputs


class TorchBackend(Backend):
    """Runs `model` (put in eval mode) through a copy with each foldable BatchNorm folded into the
    layer before it (1.1-1.4x faster on CPU, same outputs to float rounding)."""

    def __init__(
        self,
        model: SesqaModel,
        *,
        device: str | torch.device = "cpu",
        precision: str = "fp32",
        metric_stats: dict[str, Any] | None = None,
        untrained_heads: dict[str, str] | None = None,
        source: str = "in memory",
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be fp32 or bf16, got {precision!r}")
        self.torch_device = resolve_device(device)
        self.model = model.to(self.torch_device).eval()
        self.inference_model = fuse_batchnorm(self.model)
        self.config = model.config
        self.metric_stats = metric_stats
        self.untrained_heads = dict(untrained_heads or {})
        self.precision = precision
        self.source = source

    @classmethod
    def from_checkpoint(cls, path: str | Path, *, device: str = "cpu", precision: str = "fp32") -> TorchBackend:
        """The model of a checkpoint file (the file alone rebuilds it)."""
        dev = resolve_device(device)
        loaded = load_checkpoint(path, map_location=dev)
        return cls(
            loaded.model, device=dev, precision=precision, metric_stats=loaded.metric_stats,
            untrained_heads=loaded.untrained_heads, source=str(path),
        )  # fmt: skip

    @property
    def device(self) -> str:
        return str(self.torch_device)

    @property
    def score_bias(self) -> float:
        return self.model.score_bias  # the unfused model: folding takes that BatchNorm away

    @property
    def has_metric_head(self) -> bool:
        return "mr" in self.model.heads and bool(self.config.metric_names)

    @torch.inference_mode()
    def frames(self, x: np.ndarray) -> FrameOutputs:
        m = self.inference_model
        with autocast(self.torch_device, self.precision):
            z = m.encode(torch.from_numpy(x).to(self.torch_device))
            outputs = (
                m.score(z), m.head("score", z), torch.sigmoid(m.head("dt", z).float()), torch.sigmoid(m.head("ds", z).float()), z,
            )  # fmt: skip
        score, logit, dt, ds, z = (t.float().cpu().numpy() for t in outputs)
        return FrameOutputs(score=score, score_logit=logit, dt=dt, ds=ds, z=z)

    @torch.inference_mode()
    def pairs(self, z_ref: np.ndarray, z_deg: np.ndarray) -> PairOutputs:
        m = self.inference_model
        a, b = (torch.from_numpy(z).to(self.torch_device) for z in (z_ref, z_deg))
        with autocast(self.torch_device, self.precision):
            jnd = torch.sigmoid(m.head("jnd", a, b).float()).cpu().numpy()
            mr = m.head("mr", a, b).float().cpu().numpy() if self.has_metric_head else None
        return PairOutputs(jnd=jnd, mr=mr)


__all__ = ["TorchBackend"]
