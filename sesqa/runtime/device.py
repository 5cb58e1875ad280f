"""Where the model runs and in what precision: one device picker and one autocast for all commands.

`resolve_device` turns "auto", "cpu", "cuda" or "cuda:1" (or None, meaning "auto") into a
torch.device; a GPU asked for where torch sees none is a ValueError, never a silent fallback to
the CPU. `resolve_precision` turns "auto" into "bf16" where the hardware computes bf16 natively,
and `autocast` is the context model calls run in for a precision. `single_threaded_children` keeps
worker processes from each starting a BLAS thread per core; `cpu_name` names the CPU for the
benchmarks' figures.

torch is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

PRECISIONS = ("fp32", "bf16")
"""Precisions model calls run in; "auto" (training) resolves to one of them."""


def resolve_device(device: str | torch.device | None = "auto", local_rank: int | None = None) -> torch.device:
    """The torch.device for `device`; ValueError for an unknown name or CUDA without a GPU.

    "auto" (or None) is CUDA when torch sees a GPU, else the CPU. A bare "cuda" with `local_rank`
    given (a process of a multi-GPU run) is the GPU `local_rank % device_count`; without it, the
    current CUDA device.
    """
    import torch

    if device is None or device == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        device = "cuda"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f"unknown device {device!r}: use auto, cpu or cuda ({e})") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {str(device)!r} asked for, but torch sees no CUDA GPU here: use --device cpu")
        if dev.index is None and local_rank is not None:
            dev = torch.device("cuda", local_rank % torch.cuda.device_count())
    return dev


def resolve_precision(precision: str, device: torch.device) -> str:
    """"fp32" or "bf16" for `precision` on `device`.

    "auto" takes bf16 where the hardware computes it natively (3.6x faster training steps on this
    project's AMX CPU, see benchmarks/train.py), fp32 elsewhere.
    """
    if precision in PRECISIONS:
        return precision
    if precision != "auto":
        raise ValueError(f"precision must be auto, fp32 or bf16, got {precision!r}")
    import torch

    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_has_native_bf16() else "fp32"


def available_cpus() -> int:
    """CPUs this process may run on: its affinity mask, which Slurm, taskset and cpuset-limited
    containers narrow, where the OS has one (Linux); else every CPU of the host."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:
        return os.cpu_count() or 1


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AVX512-BF16 or AMX); False where unknown."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The context model calls run in: bf16 autocast on `device` for "bf16", nothing for "fp32"."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "fp32":
        return contextlib.nullcontext()
    import torch

    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


__all__ = ["PRECISIONS", "autocast", "available_cpus", "cpu_has_native_bf16", "resolve_device", "resolve_precision"]


THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""What BLAS and OpenMP read, when numpy loads, for their thread count."""


@contextlib.contextmanager
def single_threaded_children() -> Iterator[None]:
    """One BLAS/OpenMP thread in the processes started inside: the workers already share the cores.

    Hold it while a pool starts its processes (they read the variables when numpy loads); the
    environment is restored on leaving.
    """
    saved = {v: os.environ.get(v) for v in THREAD_VARS}
    os.environ.update(dict.fromkeys(THREAD_VARS, "1"))
    try:
        yield
    finally:
        for v, value in saved.items():
            if value is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = value


def cpu_name() -> str:
    """The CPU's model name (as `lscpu` shows it on Linux), for a benchmark's figures."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
