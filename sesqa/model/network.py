"""The full SESQA network: one encoder shared by all task heads."""

from __future__ import annotations

import torch
from torch import nn

from sesqa.model.config import ModelConfig
from sesqa.model.encoder import Encoder
from sesqa.model.heads import build_heads


class SesqaModel(nn.Module):
    """Encoder plus heads, built from a ModelConfig.

    `forward(frames)` gives quality scores in [1, 5]; training code calls `encode` once per
    batch and then `head` / `score` on the latents for each loss.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.heads = build_heads(config)

    @property
    def mu(self) -> torch.Tensor:
        """Current mu of the encoder's companding."""
        return self.encoder.mu

    def gates(self) -> list[nn.Parameter]:
        """Per-channel gate parameters a (before the sigmoid) of each residual block."""
        return self.encoder.gates()

    @property
    def score_bias(self) -> float:
        """beta: the shift of the score head's final BatchNorm (0 without affine parameters).

        Appendix A's reference-based score reads it; `fuse_batchnorm` folds that BN away, so
        read it from the unfused model.
        """
        last = self.heads["score"].net[-1]
        if not isinstance(last, nn.BatchNorm1d):
            # a ValueError: the model's structure is wrong, not the type of an argument
            raise ValueError(f"the score head ends in {type(last).__name__}, not BatchNorm1d: appendix A's bias is undefined")  # noqa: TRY004
        return float(last.bias.detach().float().item()) if last.bias is not None else 0.0

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """Frames (..., T) -> latents (..., latent_dim), all leading dimensions in one encoder pass."""
        if frames.dim() < 1:
            raise ValueError("encode expects frames shaped (..., T), got a scalar")
        lead = frames.shape[:-1]
        z = self.encoder(frames.reshape(-1, frames.shape[-1]))
        return z.reshape(*lead, z.shape[-1])

    def head(self, name: str, z: torch.Tensor, z_other: torch.Tensor | None = None) -> torch.Tensor:
        """Raw output of head `name`: (..., out_dim), or (...) for the scalar heads."""
        if name not in self.heads:
            raise ValueError(f"no head named {name!r}; this model has {list(self.heads)}")
        if z.shape[-1:] != (self.config.latent_dim,):
            raise ValueError(f"latents must end in latent_dim={self.config.latent_dim}, got shape {tuple(z.shape)}")
        return self.heads[name](z, z_other)

    def score(self, z: torch.Tensor) -> torch.Tensor:
        """Quality score 1 + 4 sigmoid(score head), shape (...) for latents (..., latent_dim)."""
        return 1.0 + 4.0 * torch.sigmoid(self.head("score", z))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Frames (..., T) -> scores (...)."""
        return self.score(self.encode(frames))
