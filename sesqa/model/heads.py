"""Task heads on the latent z, declared as data (`HEADS`) and built in one loop.

Heads are deliberately small (paper section 2.2): a linear layer for the tasks closest to the
score (score, JND, degradation type), a two-layer MLP for the others, all ending with BN.
They return raw post-BN values (logits for the classifiers); sigmoids belong to the losses
and to `SesqaModel.score`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from sesqa.model.config import ModelConfig

PairInput = Literal["concat", "absdiff"]
Size = int | Callable[[ModelConfig], int]


def _head_hidden(cfg: ModelConfig) -> int:
    return cfg.head_hidden


def _n_types(cfg: ModelConfig) -> int:
    return len(cfg.degradation_types)


def _n_metrics(cfg: ModelConfig) -> int:
    return len(cfg.metric_names)


def _resolve(size: Size, cfg: ModelConfig) -> int:
    return size(cfg) if callable(size) else size


@dataclass(frozen=True)
class HeadSpec:
    """One head: what it reads, how big it is.

    pair_input: None reads a single z; "concat" reads [z_u; z_v]; "absdiff" reads |z_u - z_v|.
    hidden: None for a linear head, else the units of a Linear -> BN -> ReLU -> Linear MLP.
    out_dim: output width. A plain int marks a scalar-per-input head whose output is squeezed
    when it is 1; a function of the config (a vocabulary size) always keeps its last dimension,
    so a one-entry vocabulary still gives (..., 1) and lines up with (..., V) targets.
    A head whose out_dim resolves to 0 is not built.
    """

    name: str
    pair_input: PairInput | None
    hidden: Size | None
    out_dim: Size

    def hidden_units(self, cfg: ModelConfig) -> int | None:
        """Hidden width under `cfg`, None for a linear head."""
        return None if self.hidden is None else _resolve(self.hidden, cfg)

    def out_units(self, cfg: ModelConfig) -> int:
        """Output width under `cfg`."""
        return _resolve(self.out_dim, cfg)

    @property
    def squeezes(self) -> bool:
        """Whether the output's last dimension is dropped (fixed width 1)."""
        return not callable(self.out_dim) and self.out_dim == 1


HEADS: tuple[HeadSpec, ...] = (
    HeadSpec("score", None, None, 1),
    # The paper feeds pair heads the concatenation [z_u; z_v]. A linear layer on a concatenation
    # computes w_u.z_u + w_v.z_v, which cannot express a symmetric same/different test; the JND
    # head reads |z_u - z_v| instead, which keeps it linear and makes latent distances carry the
    # perceptual difference, the property the paper's appendix E reads into this head.
    HeadSpec("jnd", "absdiff", None, 1),
    HeadSpec("dt", None, None, _n_types),
    HeadSpec("sd", "concat", _head_hidden, 1),
    HeadSpec("ds", None, _head_hidden, _n_types),
    HeadSpec("mr", "concat", _head_hidden, _n_metrics),
)
"""All heads of the model, in build order. The "mr" head exists only when metric_names is set."""


class Head(nn.Module):
    """A head built from its spec; accepts latents shaped (..., D) and returns (..., out) or (...)."""

    def __init__(self, spec: HeadSpec, cfg: ModelConfig) -> None:
        super().__init__()
        self.spec = spec
        out = spec.out_units(cfg)
        width = 2 * cfg.latent_dim if spec.pair_input == "concat" else cfg.latent_dim
        hidden = spec.hidden_units(cfg)
        # Every Linear here feeds a BN, whose shift makes a bias redundant.
        if hidden is None:
            layers: list[nn.Module] = [nn.Linear(width, out, bias=False), nn.BatchNorm1d(out)]
        else:
            layers = [
                nn.Linear(width, hidden, bias=False),
                nn.BatchNorm1d(hidden),
                nn.ReLU(),
                nn.Linear(hidden, out, bias=False),
                nn.BatchNorm1d(out),
            ]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, z_other: torch.Tensor | None = None) -> torch.Tensor:
        x = self._input(z, z_other)
        lead = x.shape[:-1]
        y = self.net(x.reshape(-1, x.shape[-1]))
        # The width, not -1: an exported graph must also reshape a batch of zero rows.
        y = y.reshape(*lead, y.shape[-1])
        return y.squeeze(-1) if self.spec.squeezes else y

    def _input(self, z: torch.Tensor, z_other: torch.Tensor | None) -> torch.Tensor:
        name, pair = self.spec.name, self.spec.pair_input
        if pair is None:
            if z_other is not None:
                raise ValueError(f"head {name!r} reads a single latent; z_other must be None")
            return z
        if z_other is None:
            raise ValueError(f"head {name!r} reads a pair of latents; pass z_other")
        if z_other.shape != z.shape:
            shapes = f"{tuple(z.shape)} and {tuple(z_other.shape)}"
            raise ValueError(f"head {name!r}: z and z_other must have the same shape, got {shapes}")
        if pair == "concat":
            return torch.cat([z, z_other], dim=-1)
        return (z - z_other).abs()


def build_heads(cfg: ModelConfig) -> nn.ModuleDict:
    """The heads of HEADS that have a non-zero output under `cfg`, keyed by name."""
    return nn.ModuleDict({spec.name: Head(spec, cfg) for spec in HEADS if spec.out_units(cfg) > 0})
