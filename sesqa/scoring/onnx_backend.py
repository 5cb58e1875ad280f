"""The ONNX backend: a graph from `sesqa export --onnx`, run by onnxruntime, never torch.

Threads: onnxruntime's intra-op pool gets one thread per CPU this process may use (its affinity
mask: `taskset -c 0-3 sesqa score ...`, a Slurm allocation or a container's cpuset narrow it),
or `threads` when given; inter-op work is serial, and idle workers sleep instead of spinning.
To pin scoring to some cores, start it under `taskset` (or `numactl --physcpubind`): the pool
follows the mask.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..runtime.device import available_cpus
from ..model import onnx_meta
from .backend import CPU_DEVICES, Backend, FrameOutputs, PairOutputs


class OnnxBackend(Backend):
    """A sesqa ONNX file on onnxruntime's CPU provider, fp32."""

    def __init__(self, path: str | Path, *, device: str = "cpu", precision: str = "fp32", threads: int | None = None) -> None:
        path = Path(path)
        if device not in CPU_DEVICES:
            raise ValueError(
                f"device {device!r}: {path} is an ONNX model, which sesqa runs on the CPU (onnxruntime); "
                "for a GPU, score with its torch checkpoint (--model X.ckpt)"
            )
        if precision != "fp32":
            raise ValueError(f"precision {precision!r}: {path} is an ONNX model, run in fp32; bf16 needs its torch checkpoint")
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        if not path.is_file():
            raise FileNotFoundError(f"model file {str(path)!r} does not exist")
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or available_cpus()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: its warnings are about graph optimisations
        # Idle workers sleep rather than spin: spinning, they hold the cores that reading the next
        # file needs between runs (20 files on 2 cores: 10 % faster without spinning).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime's errors share no base class more precise than Exception
            raise ValueError(f"{str(path)!r} is not a readable ONNX model ({str(e)[:200]})") from e
        try:
            meta = onnx_meta.read_onnx_metadata(self.session)
        except ValueError as e:
            raise ValueError(f"{str(path)!r}: {e}") from e
        self.config = meta.config
        self.metric_stats = meta.metric_stats
        self.untrained_heads = meta.untrained_heads
        self._score_bias = meta.score_bias
        self._outputs = {o.name for o in self.session.get_outputs()}
        self.threads = options.intra_op_num_threads
        self.precision = "fp32"
        self.source = str(path)
        self._no_frames = onnx_meta.empty_frames(self.config)
        self._no_latents = onnx_meta.empty_latents(self.config)

    @property
    def device(self) -> str:
        return f"cpu (onnxruntime, {self.threads} thread{'s' if self.threads != 1 else ''})"

    @property
    def score_bias(self) -> float:
        return self._score_bias

    @property
    def has_metric_head(self) -> bool:
        return "mr" in self._outputs and bool(self.config.metric_names)

    def frames(self, x: np.ndarray) -> FrameOutputs:
        feed = {onnx_meta.FRAMES: np.ascontiguousarray(x, np.float32), onnx_meta.Z_REF: self._no_latents, onnx_meta.Z_DEG: self._no_latents}
        score, logit, dt, ds, z = self.session.run(list(onnx_meta.FRAME_OUTPUTS), feed)
        return FrameOutputs(score=score, score_logit=logit, dt=dt, ds=ds, z=z)

    def pairs(self, z_ref: np.ndarray, z_deg: np.ndarray) -> PairOutputs:
        feed = {onnx_meta.FRAMES: self._no_frames, onnx_meta.Z_REF: np.ascontiguousarray(z_ref, np.float32), onnx_meta.Z_DEG: np.ascontiguousarray(z_deg, np.float32)}
        names = ["jnd", "mr"] if self.has_metric_head else ["jnd"]
        out = self.session.run(names, feed)
        return PairOutputs(jnd=out[0], mr=out[1] if self.has_metric_head else None)


__all__ = ["OnnxBackend"]
