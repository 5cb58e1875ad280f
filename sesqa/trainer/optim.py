"""Optimiser, learning-rate schedule and stochastic weight averaging, as in the paper (section 2.2).

RangerQH (QHAdam + Lookahead) comes from `torch_optimizer`, an archived package whose RangerQH is
re-exported from `pytorch_ranger`. We still use it because it is the optimiser the paper names and
its code is small and self-contained; tests/test_optim.py checks that it still optimises, resumes
from a state_dict and stays quiet on the installed torch. Its step calls the deprecated
`add_(Number, Tensor)` / `addcdiv_(Number, Tensor, Tensor)` overloads, which torch reports as a
UserWarning; `RangerQH.step` silences exactly those messages from that module, nothing else.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import torch
import torch_optimizer
from torch import nn
from torch.optim.lr_scheduler import MultiStepLR
from torch.optim.swa_utils import AveragedModel

LR = 1e-3
DECAY = 0.2
"""Learning-rate factor applied at each milestone."""
MILESTONES = (0.7, 0.9)
"""Fractions of training at which the learning rate decays."""

_DEPRECATED_OVERLOAD = r"This overload of (add_|addcdiv_) is deprecated"
_RANGERQH_MODULE = r"pytorch_ranger\.rangerqh"

B = TypeVar("B")
_NOTHING = object()


class RangerQH(torch_optimizer.RangerQH):
    """torch_optimizer's RangerQH, with its deprecated-overload warnings silenced during `step`."""

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=_DEPRECATED_OVERLOAD, category=UserWarning, module=_RANGERQH_MODULE
            )
            return super().step(closure)


def make_optimizer(params: Iterable[torch.Tensor] | Iterable[dict], lr: float = LR) -> RangerQH:
    """RangerQH with its default parameters and learning rate `lr` (paper: 1e-3)."""
    if not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    return RangerQH(params, lr=lr)


def make_scheduler(optimizer: torch.optim.Optimizer, total_steps: int) -> MultiStepLR:
    """Learning rate x1/5 at 70 % and again at 90 % of `total_steps` (call `.step()` after each optimiser step)."""
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
        raise ValueError(f"total_steps must be a positive int, got {total_steps!r}")
    milestones = [max(1, round(f * total_steps)) for f in MILESTONES]
    return MultiStepLR(optimizer, milestones=milestones, gamma=DECAY)


class SwaAverager:
    """Stochastic weight averaging: an equal-weight running mean of the parameters it is shown.

    Wraps `torch.optim.swa_utils.AveragedModel` (a deep copy of the model). Buffers, BatchNorm
    statistics included, are not averaged: call `recompute_batchnorm` on `module` afterwards.
    """

    def __init__(self, model: nn.Module):
        self.averaged = AveragedModel(model)

    def update(self, model: nn.Module) -> None:
        """Add the current parameters of `model` to the average."""
        self.averaged.update_parameters(model)

    @property
    def count(self) -> int:
        """How many parameter sets the average holds."""
        return int(self.averaged.n_averaged.item())

    @property
    def module(self) -> nn.Module:
        """The averaged model itself (same class as the trained one)."""
        return self.averaged.module

    def averaged_state_dict(self) -> dict[str, torch.Tensor]:
        """The averaged weights as a plain state_dict of the model (no `module.` prefix), for export."""
        return self.module.state_dict()

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume averaging (average and count)."""
        return self.averaged.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume from `state_dict()`."""
        self.averaged.load_state_dict(state)


def recompute_batchnorm(model: nn.Module, batches: Iterable[B], forward: Callable[[B], Any]) -> list[str]:
    """Recompute every BatchNorm layer's running statistics from `batches`, e.g. after SWA.

    Each BN layer is reset and switched to a cumulative average (momentum=None); then
    `forward(batch)`, which must run `model` once on the batch, is called per batch with `model`
    in train mode and without gradients, so the statistics become the mean over batches of each
    batch's mean and (unbiased) variance. To refresh the heads' BN too, `forward` must run them
    (encode + heads), not just the encoder.
    Momenta and train/eval mode are restored afterwards. A BN layer that no forward reached keeps
    its previous statistics; their module names are returned so the caller can log them.
    """
    layers = {
        name: m for name, m in model.named_modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats
    }
    iterator = iter(batches)
    first = next(iterator, _NOTHING)
    if first is _NOTHING:
        raise ValueError("batches must yield at least one batch, got an empty iterable")
    saved = {name: (m.momentum, copy.deepcopy(m.state_dict())) for name, m in layers.items()}
    was_training = model.training
    try:
        for m in layers.values():
            m.reset_running_stats()
            m.momentum = None
        model.train()
        with torch.no_grad():
            forward(first)
            for batch in iterator:
                forward(batch)
    except BaseException:
        for name, m in layers.items():  # leave the model as it was, not half-recomputed
            m.load_state_dict(saved[name][1])
        raise
    finally:
        model.train(was_training)
        for name, m in layers.items():
            m.momentum = saved[name][0]
    untouched = [name for name, m in layers.items() if int(m.num_batches_tracked) == 0]
    for name in untouched:
        layers[name].load_state_dict(saved[name][1])
    return untouched
