"""Inference-only rewrite: fold each BatchNorm into the convolution or linear layer before it.

In eval mode a BatchNorm is a fixed per-channel affine map, so `conv -> BN` equals one conv
with scaled weights and a bias. Folding removes a full pass over every activation map, which is
most of the non-matrix work of the encoder on CPU. The outputs equal the unfused model's to
float rounding (tests check 1e-5).
"""

from __future__ import annotations

import copy

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval


def _fused(layer: nn.Module, bn: nn.BatchNorm1d) -> nn.Module | None:
    if isinstance(layer, nn.Conv1d):
        return fuse_conv_bn_eval(layer, bn)
    if isinstance(layer, nn.Linear):
        return fuse_linear_bn_eval(layer, bn)
    return None


def fuse_batchnorm(model: nn.Module) -> nn.Module:
    """An eval-mode copy of `model` with every (Conv1d | Linear) -> BatchNorm1d pair folded.

    Pairs are found inside `nn.Sequential` containers, where the order of execution is the
    order of the children; a BN not preceded by a conv or linear layer is kept as it is.
    The original model is left untouched.
    """
    fused = copy.deepcopy(model).eval()
    for container in fused.modules():
        if not isinstance(container, nn.Sequential):
            continue
        for k in range(1, len(container)):
            bn = container[k]
            if not isinstance(bn, nn.BatchNorm1d) or not bn.track_running_stats:
                continue
            replacement = _fused(container[k - 1], bn)
            if replacement is not None:
                container[k - 1] = replacement
                container[k] = nn.Identity()
    return fused
