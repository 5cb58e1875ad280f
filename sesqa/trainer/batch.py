"""What one training step feeds the model: generated quadruples, MOS items and JND pairs.

The data streams build these; the losses read them. Every group is optional: a run without a
MOS CSV has `mos=None`, and the losses that need it are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch

QUAD_ORDER = ("ik", "il", "jk", "jl")
"""Order of the four frames of a quadruple along dimension 1 of `QuadBatch.frames`."""


@dataclass
class QuadBatch:
    """B generated quadruples with their labels (V degradation types, M metric targets)."""

    frames: torch.Tensor
    """(B, 4, T) float32, frames in QUAD_ORDER."""
    types_i: torch.Tensor
    """(B, V) float 0/1: degradation types present in x_i (index 0 is "clean")."""
    types_j: torch.Tensor
    """(B, V) float 0/1: types present in x_j (chain_i and chain_j together)."""
    strength_i: torch.Tensor
    """(B, V) strength in [0, 1] of each present type in x_i (max over repeats); 0 where absent or unrated."""
    strength_j: torch.Tensor
    """(B, V) as strength_i, for x_j."""
    rated_i: torch.Tensor
    """(B, V) float 0/1: the types present in x_i that have a strength (L_DS regresses only these);
    a type without one (e.g. reverse) is 0 here, and its strength label is 0."""
    rated_j: torch.Tensor
    """(B, V) as rated_i, for x_j."""
    metrics: torch.Tensor
    """(B, M) metric targets on (x_i, x_j), normalised with the training statistics; 0 where missing."""
    metrics_mask: torch.Tensor
    """(B, M) bool: True where the metric target exists."""


@dataclass
class MosBatch:
    """N crops of human-rated recordings."""

    frames: torch.Tensor
    """(N, T) float32."""
    mos: torch.Tensor
    """(N,) mean opinion score in [1, 5]."""


@dataclass
class JndBatch:
    """N pairs of recordings with a human just-noticeable-difference judgement."""

    frames: torch.Tensor
    """(N, 2, T) float32."""
    label: torch.Tensor
    """(N,) float: 1 where listeners heard a difference, 0 where they did not."""


@dataclass
class Batch:
    """One step's data; absent groups are None."""

    quad: QuadBatch | None = None
    mos: MosBatch | None = None
    jnd: JndBatch | None = None

    def to(self, device: torch.device | str) -> "Batch":
        """The same batch with every tensor on `device`."""
        def move(group):
            if group is None:
                return None
            return type(group)(**{f.name: getattr(group, f.name).to(device) for f in fields(group)})

        return Batch(move(self.quad), move(self.mos), move(self.jnd))


@dataclass
class Encoded:
    """Latents of a Batch, shaped like its frames (D = latent size)."""

    quad: torch.Tensor | None = None
    """(B, 4, D)"""
    mos: torch.Tensor | None = None
    """(N, D)"""
    jnd: torch.Tensor | None = None
    """(N, 2, D)"""
