"""What runs the network for scoring: one small interface, two engines.

The Scorer, `compare` and `evaluate --shards` hand a backend numpy frames (or latent pairs) and
get numpy outputs back; they never touch torch themselves, so scoring with an ONNX model never
imports it (the ~2.4 s that dominated a one-file `sesqa score`).

- `OnnxBackend` (`onnx_backend.py`): a graph from `sesqa export --onnx`, run by onnxruntime on
  the CPU in fp32. The packaged models ship as ONNX too, and are run this way unless a GPU or
  bf16 is asked for.
- `TorchBackend` (`torch_backend.py`): a SesqaModel, from a checkpoint of `sesqa train` or in
  memory (training's validation), on CPU or GPU, fp32 or bf16 autocast.

`open_backend` picks one for a `--model` value: a packaged model's name, a `.onnx` file or a
checkpoint.
"""

from __future__ import annotations

import abc
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..model.config import ModelConfig
from .default import packaged_checkpoint, packaged_name, packaged_onnx

CPU_DEVICES = ("auto", "cpu")
"""--device values an ONNX model (onnxruntime's CPU provider) can honour."""


@dataclass(frozen=True, eq=False)
class FrameOutputs:
    """Per frame: score (1-5), the score head's logit, type probabilities and strengths
    (sigmoids, one column per degradation type) and the latent z; all float32 numpy."""

    score: np.ndarray
    score_logit: np.ndarray
    dt: np.ndarray
    ds: np.ndarray
    z: np.ndarray


@dataclass(frozen=True, eq=False)
class PairOutputs:
    """Per (z_ref, z_deg) pair: the JND probability and, with a metric head, the raw
    (normalised) metric estimates; float32 numpy."""

    jnd: np.ndarray
    mr: np.ndarray | None


class Backend(abc.ABC):
    """A scoring engine and the data its model file carries besides the network."""

    config: ModelConfig
    metric_stats: dict[str, Any] | None
    """The metric targets' statistics (to denormalise "mr"), or None."""
    untrained_heads: dict[str, str]
    """{head: why} for heads no loss trained: their outputs are withheld."""
    source: str
    """The model file (or "in memory")."""
    precision: str

    @property
    @abc.abstractmethod
    def device(self) -> str:
        """Where it runs, for messages: "cpu", "cuda:0", "cpu (onnxruntime, 2 threads)"."""

    @property
    @abc.abstractmethod
    def score_bias(self) -> float:
        """beta, the bias of the score head's final BatchNorm (appendix A's reference-based score)."""

    @property
    @abc.abstractmethod
    def has_metric_head(self) -> bool:
        """Whether the model estimates the reference-based metrics ("mr" head)."""

    @abc.abstractmethod
    def frames(self, x: np.ndarray) -> FrameOutputs:
        """Outputs for frames x, float32 (n, config.frame_samples)."""

    @abc.abstractmethod
    def pairs(self, z_ref: np.ndarray, z_deg: np.ndarray) -> PairOutputs:
        """Outputs for latent pairs, each float32 (n, config.latent_dim)."""


def gpu_visible() -> bool:
    """Whether a CUDA GPU is there to score on: the NVIDIA driver lists one (read from /proc, so a
    machine without one never imports torch to find out), CUDA_VISIBLE_DEVICES does not hide it,
    and torch sees it."""
    gpus = Path("/proc/driver/nvidia/gpus")
    if os.environ.get("CUDA_VISIBLE_DEVICES", "unset").strip() in ("", "-1"):
        return False
    try:
        if not any(gpus.iterdir()):
            return False
    except OSError:
        return False
    import torch

    return torch.cuda.is_available()


def open_backend(model: str | Path | None = None, device: str = "auto", precision: str = "fp32", threads: int | None = None) -> Backend:
    """The backend for a --model value: None or a packaged model's name ("default"),
    a `.onnx` file, or a checkpoint from `sesqa train`.

    A packaged model runs from its ONNX file unless `device` asks for a GPU (or is "auto" and
    `gpu_visible()`) or `precision` asks for bf16: then from its checkpoint, with torch. `threads` caps the engine's intra-op threads
    (None: one per CPU this process may use); scoring workers share the cores out this way.
    Raises FileNotFoundError for a missing file and ValueError for one that is not a sesqa model,
    a retired packaged model's name (`default.RETIRED_MODELS`) or an option it cannot honour.
    """
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    name = packaged_name(model)
    if name is not None:
        onnx = packaged_onnx(name)
        if device == "auto" and gpu_visible():
            device = "cuda"  # batched on the GPU (torch), not on the CPU beside it
        if onnx.is_file() and device in CPU_DEVICES and precision == "fp32":
            from .onnx_backend import OnnxBackend

            return OnnxBackend(onnx, threads=threads)
        path = packaged_checkpoint(name)
    else:
        path = Path(model)  # type: ignore[arg-type]
    if path.suffix.lower() == ".onnx":
        from .onnx_backend import OnnxBackend

        return OnnxBackend(path, device=device, precision=precision, threads=threads)
    from .torch_backend import TorchBackend

    if threads is not None:
        import torch

        torch.set_num_threads(threads)  # process-wide: a scoring worker's own process
    return TorchBackend.from_checkpoint(path, device=device, precision=precision)


__all__ = ["CPU_DEVICES", "Backend", "FrameOutputs", "PairOutputs", "gpu_visible", "open_backend"]
