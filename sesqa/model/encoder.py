"""SESQA encoder: raw audio frame -> latent vector z (paper section 2.2).

A parameter-free front-end (DC, sub-audio, level and polarity out: `frontend.py`), then four
stages: learnable mu-law companding, strided pooling blocks with anti-aliased downsampling,
gated residual blocks, and time-wise statistics followed by a small MLP.
"""

from __future__ import annotations

import math
from itertools import pairwise

import torch
from torch import nn
from torch.nn import functional as F

from sesqa.model.config import ModelConfig
from sesqa.model.frontend import FrontEnd

_STD_EPS = 1e-5


class MuLaw(nn.Module):
    """mu-law companding without quantisation, y = sign(x) log(1 + mu|x|) / log(1 + mu).

    mu is learnable; it is stored as log(mu) so that it stays positive whatever the optimiser does.
    Inputs slightly beyond [-1, 1] are fine: the curve simply continues.
    """

    def __init__(self, mu_init: float) -> None:
        super().__init__()
        self.log_mu = nn.Parameter(torch.tensor(math.log(mu_init), dtype=torch.float32))

    @property
    def mu(self) -> torch.Tensor:
        """Current mu (a 0-d tensor that carries gradients to `log_mu`)."""
        return self.log_mu.exp()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu = self.mu
        return torch.sign(x) * torch.log1p(mu * x.abs()) / torch.log1p(mu)


def binomial_taps(n: int) -> torch.Tensor:
    """The n-tap binomial low-pass (row n-1 of Pascal's triangle), normalised to unit DC gain."""
    taps = torch.tensor([math.comb(n - 1, k) for k in range(n)], dtype=torch.float32)
    return taps / taps.sum()


class BlurPool(nn.Module):
    """Anti-aliased downsampling (Zhang 2019): a fixed binomial low-pass per channel, then a stride.

    Edges are zero-padded inside the convolution: replication padding cost a third of a
    training step on CPU for no measurable benefit on 1 s frames.
    """

    def __init__(self, channels: int, factor: int, taps: int) -> None:
        super().__init__()
        self.channels = channels
        self.factor = factor
        self.pad = (taps - 1) // 2
        # Derived from the config, not learned: kept out of the state_dict.
        self.register_buffer("kernel", binomial_taps(taps).repeat(channels, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv1d(x, self.kernel, stride=self.factor, padding=self.pad, groups=self.channels)


def pool_block(c_in: int, c_out: int, cfg: ModelConfig) -> nn.Sequential:
    """Conv -> BN -> ReLU -> BlurPool. A bias before BN would be cancelled by it, so the conv has none.

    The conv pads (kernel - 1) // 2 on both sides, so an even kernel loses one sample per block
    (T - 1 for kernel 4) rather than paying for an asymmetric pad copy.
    """
    return nn.Sequential(
        nn.Conv1d(c_in, c_out, cfg.pool_kernel, padding=(cfg.pool_kernel - 1) // 2, bias=False),
        nn.BatchNorm1d(c_out),
        nn.ReLU(),
        BlurPool(c_out, cfg.pool_factor, cfg.blur_taps),
    )


class ResidualBlock(nn.Module):
    """h' = a' h + (1 - a') F(h) with a' = sigmoid(a) per channel.

    F is a BN pre-activation followed by (ReLU, conv, BN) per entry of res_channels/res_kernels.
    a starts at gate_init (3 by default, a' = 0.95), so training starts close to a bypass.
    """

    def __init__(self, channels: int, cfg: ModelConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.BatchNorm1d(channels)]
        c_in = channels
        for c_out, k in zip(cfg.res_channels, cfg.res_kernels):
            layers += [nn.ReLU(), nn.Conv1d(c_in, c_out, k, padding=k // 2, bias=False), nn.BatchNorm1d(c_out)]
            c_in = c_out
        self.residual = nn.Sequential(*layers)
        self.gate = nn.Parameter(torch.full((channels,), cfg.gate_init))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        a = torch.sigmoid(self.gate).unsqueeze(-1)
        return a * h + (1.0 - a) * self.residual(h)


def mean_std(h: torch.Tensor) -> torch.Tensor:
    """(N, C, T) -> (N, 2C): per-channel mean then standard deviation over time."""
    var, mean = torch.var_mean(h, dim=-1, unbiased=False)
    return torch.cat([mean, torch.sqrt(var + _STD_EPS)], dim=-1)


class Encoder(nn.Module):
    """Raw audio frames (N, T) -> latent vectors (N, latent_dim).

    With the default (paper) config it has 7,216,905 parameters (the learnable mu included;
    BatchNorm running statistics and the fixed BlurPool taps are buffers, not parameters).
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.front_end = FrontEnd(cfg)
        self.companding = MuLaw(cfg.mu_init)
        channels = (1,) + cfg.pool_channels
        self.pooling = nn.Sequential(*(pool_block(a, b, cfg) for a, b in pairwise(channels)))
        width = cfg.pool_channels[-1]
        self.residual = nn.Sequential(*(ResidualBlock(width, cfg) for _ in range(cfg.res_blocks)))
        self.mlp = nn.Sequential(
            nn.BatchNorm1d(2 * width),
            nn.Linear(2 * width, cfg.mlp_hidden, bias=False),
            nn.BatchNorm1d(cfg.mlp_hidden),
            nn.ReLU(),
            nn.Linear(cfg.mlp_hidden, cfg.latent_dim),
        )

    @property
    def mu(self) -> torch.Tensor:
        """Current mu of the companding stage."""
        return self.companding.mu

    def gates(self) -> list[nn.Parameter]:
        """The per-channel gate parameters a of every residual block, in order."""
        return [block.gate for block in self.residual]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2:
            raise ValueError(f"Encoder expects frames shaped (N, T), got shape {tuple(x.shape)}")
        h = self.companding(self.front_end(x)).unsqueeze(1)
        h = self.residual(self.pooling(h))
        return self.mlp(mean_std(h))
