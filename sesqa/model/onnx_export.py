"""A checkpoint as one ONNX file: the fused fp32 network, for scoring with onnxruntime and no torch.

The graph's inputs, outputs and metadata keys are named in `sesqa.model.onnx_meta` (the
torch-free side that reads them back). Export notes:

- The network is exported from `fuse_batchnorm(model)`, the model the Scorer runs, in fp32.
  The BatchNorms that `fuse_batchnorm` cannot fold (the pre-activation BN of each residual
  block, the first BN of the encoder's MLP) become ONNX BatchNormalization nodes in inference
  mode.
- The graph is traced on a private copy in eval mode. `torch.onnx.export` sets the module it is
  given to eval and afterwards restores the mode it found *recursively*: handed a wrapper built
  in training mode (any fresh nn.Module), it leaves every submodule in training mode, and the
  unfused BNs above then use batch statistics (and overwrite their running statistics). That,
  not the graph, is what makes an export look wrong by whole score points.
- The frame length is fixed in the graph (T = config.frame_samples), as in the Scorer; only the
  batch dimensions are dynamic. The Python `if`s of the front-end and of the shape checks read
  static sizes (T, latent_dim) and are rightly constants of the graph.
- The graph's numbers equal torch's to about 1e-6, with one exception: a frame whose third
  moment is zero to float rounding (a perfectly symmetric signal, such as a pure tone over whole
  periods) has no canonical polarity, and the sign of that rounding noise, which picks it, can
  differ between onnxruntime's reductions and torch's. Such a frame then scores as its negation
  does in torch (0.04 apart on a 440 Hz tone with the default model). Speech is far from it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from sesqa import version as sesqa_version
from sesqa.runtime.files import atomic_path
from sesqa.model import onnx_meta as meta
from sesqa.model.checkpoint import load_checkpoint
from sesqa.model.fuse import fuse_batchnorm
from sesqa.model.network import SesqaModel

log = logging.getLogger(__name__)

OPSET = 17
"""ONNX opset of the exported graph (onnxruntime >= 1.14 runs it)."""
_EXAMPLE_BATCH = 3
"""Batch of the example inputs: not 1, a size a tracer may take for a broadcast constant (then 1 is also checked)."""


class OnnxGraph(nn.Module):
    """The exported computation: frame outputs from "frames", pair outputs from ("z_ref", "z_deg").

    Each output is computed as the Scorer and `compare` compute it from the same fused model, so
    that the graph's numbers equal theirs to float rounding.
    """

    def __init__(self, model: SesqaModel) -> None:
        super().__init__()
        self.model = model
        self.has_mr = "mr" in model.heads

    def forward(self, frames: torch.Tensor, z_ref: torch.Tensor, z_deg: torch.Tensor) -> tuple[torch.Tensor, ...]:
        m = self.model
        z = m.encode(frames)
        logit = m.head("score", z)
        score = 1.0 + 4.0 * torch.sigmoid(logit)  # SesqaModel.score, without running the head twice
        dt = torch.sigmoid(m.head("dt", z))
        ds = torch.sigmoid(m.head("ds", z))
        jnd = torch.sigmoid(m.head("jnd", z_ref, z_deg))
        if self.has_mr:
            return score, logit, dt, ds, z, jnd, m.head("mr", z_ref, z_deg)
        return score, logit, dt, ds, z, jnd

    def output_names(self) -> list[str]:
        """Names of forward's outputs, in order."""
        return list(meta.FRAME_OUTPUTS) + list(meta.PAIR_OUTPUTS[: 2 if self.has_mr else 1])


def _example_inputs(model: SesqaModel) -> tuple[torch.Tensor, ...]:
    cfg = model.config
    g = torch.Generator().manual_seed(0)
    frames = 0.1 * torch.randn(_EXAMPLE_BATCH, cfg.frame_samples, generator=g)
    z = torch.randn(2 * _EXAMPLE_BATCH, cfg.latent_dim, generator=g)
    return frames, z[:_EXAMPLE_BATCH].contiguous(), z[_EXAMPLE_BATCH:].contiguous()


def _trace(graph: OnnxGraph, out: Path) -> None:
    """torch.onnx.export (TorchScript tracer) of `graph` to the file `out`, batch dimensions dynamic."""
    names = graph.output_names()
    batch = {0: "batch"}
    pairs = {0: "pairs"}
    axes = {meta.FRAMES: batch, meta.Z_REF: pairs, meta.Z_DEG: pairs}
    axes.update({name: batch for name in meta.FRAME_OUTPUTS})
    axes.update({name: pairs for name in names[len(meta.FRAME_OUTPUTS):]})
    with warnings.catch_warnings():
        # The tracer warns where Python reads a shape (the front-end's "frame shorter than the
        # high-pass" test, the latent-width checks): those shapes are static in this graph.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
        warnings.filterwarnings("ignore", message=".*will be removed.*", category=DeprecationWarning)
        # A strided slice that constant folding skips: it is computed at run time instead.
        warnings.filterwarnings("ignore", message="Constant folding - Only steps=1", category=UserWarning)
        torch.onnx.export(
            graph,
            _example_inputs(graph.model),
            str(out),
            dynamo=False,
            opset_version=OPSET,
            input_names=list(meta.INPUTS),
            output_names=names,
            dynamic_axes=axes,
            do_constant_folding=True,
        )


VERIFY_TOLERANCE = 1e-4
"""Largest difference between the graph and torch that `export_onnx(verify=True)` accepts,
relative to max(1, |torch's value|) (exports differ by about 1e-6)."""


def _verify(graph: OnnxGraph, path: Path) -> None:
    """Run the exported file in onnxruntime on the example inputs (batch and pairs 3, and 1) and
    compare with torch; RuntimeError naming the output when one differs by more than the tolerance."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = graph.output_names()
    example = _example_inputs(graph.model)
    for batch in (_EXAMPLE_BATCH, 1):
        inputs = tuple(t[:batch] for t in example)
        with torch.no_grad():
            expected = [t.numpy() for t in graph(*inputs)]
        got = session.run(names, dict(zip(meta.INPUTS, (t.numpy() for t in inputs), strict=True)))
        for name, want, have in zip(names, expected, got, strict=True):
            error = float(np.max(np.abs(want - have) / np.maximum(1.0, np.abs(want)), initial=0.0))
            if want.shape != have.shape or not error <= VERIFY_TOLERANCE:
                raise RuntimeError(
                    f"the ONNX export of {name!r} differs from torch (batch {batch}): shapes {want.shape} and "
                    f"{have.shape}, largest relative difference {error:.2g} > {VERIFY_TOLERANCE:g}"
                )


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def export_onnx(checkpoint_path: str | os.PathLike[str], out_path: str | os.PathLike[str], *, verify: bool = True) -> Path:
    """Write the checkpoint at `checkpoint_path` as one ONNX file at `out_path`, atomically.

    The file holds the fused fp32 network (inputs, outputs: `sesqa.model.onnx_meta`) and, as
    metadata, the config, metric statistics, untrained heads and score bias, so that
    `onnx_meta.read_onnx_metadata` rebuilds everything `score` and `compare` need without torch.
    With `verify`, the written graph is run once in onnxruntime against torch (a fraction of a
    second) and nothing is written when they disagree. Returns `out_path` as a Path.
    """
    import onnx  # the exporter's own dependency; readers need only onnxruntime

    source = Path(checkpoint_path)
    target = Path(out_path)
    if target.suffix.lower() != ".onnx":
        raise ValueError(f"out_path must end in .onnx, got {str(target)!r}")
    start = time.perf_counter()
    loaded = load_checkpoint(source)
    # fuse_batchnorm returns a copy in eval mode; the wrapper is put in eval mode too, so that
    # the mode torch.onnx.export restores afterwards is eval throughout (see the module docstring).
    graph = OnnxGraph(fuse_batchnorm(loaded.model).float()).eval()
    props = meta.encode_metadata(
        loaded.config,
        loaded.metric_stats,
        loaded.untrained_heads,
        loaded.model.score_bias,  # beta is folded away in the fused model: read it from the original
        sesqa_version(),
        _sha256(source),
    )
    with atomic_path(target) as tmp:
        with torch.no_grad():
            _trace(graph, tmp)
        proto = onnx.load(str(tmp))
        for key, value in props.items():
            proto.metadata_props.add(key=key, value=value)
        proto.producer_name = "sesqa"
        proto.producer_version = props[meta.VERSION_KEY]
        proto.doc_string = f"sesqa model exported from {source.name} ({meta.FORMAT})"
        onnx.checker.check_model(proto)
        onnx.save(proto, str(tmp))
        if verify:
            _verify(graph, tmp)
    log.debug("exported %s to %s in %.1f s", source, target, time.perf_counter() - start)
    return target
