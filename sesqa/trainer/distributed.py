"""One process or many: torchrun's environment decides, the training code does not change.

Under `torchrun --nproc_per_node N` the variables RANK, WORLD_SIZE and LOCAL_RANK are set and
every process joins one DistributedDataParallel group (NCCL on CUDA, gloo on CPU).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Placement:
    """Where this process runs and which part of the work it does."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def choose_device(preference: str, local_rank: int = 0) -> torch.device:
    """"auto" picks CUDA when present; "cuda" without a GPU is an error, not a silent fallback."""
    if preference == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but torch sees no CUDA GPU")
    if preference == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda", local_rank % torch.cuda.device_count())


def setup(device: str = "auto") -> Placement:
    """Join the process group when launched by torchrun; otherwise a single process."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    placement = Placement(rank, world_size, choose_device(device, local_rank))
    if world_size > 1 and not dist.is_initialized():
        backend = "nccl" if placement.device.type == "cuda" else "gloo"
        if placement.device.type == "cuda":
            torch.cuda.set_device(placement.device)
        dist.init_process_group(backend=backend)
        log.info("rank %d of %d joined the %s group on %s", rank, world_size, backend, placement.device)
    return placement


def teardown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def gather(obj: Any, placement: Placement) -> list[Any]:
    """Every rank's `obj`, in rank order (just [obj] in a single process)."""
    if not placement.distributed:
        return [obj]
    out: list[Any] = [None] * placement.world_size
    dist.all_gather_object(out, obj)
    return out


def broadcast(obj: Any, placement: Placement) -> Any:
    """Rank 0's `obj` on every rank."""
    if not placement.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(placement: Placement) -> None:
    if placement.distributed:
        dist.barrier()
