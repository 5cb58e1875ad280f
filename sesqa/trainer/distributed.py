"""One process or many: torchrun's environment decides, the training code does not change.

Under `torchrun --nproc_per_node N` the variables RANK, WORLD_SIZE and LOCAL_RANK are set and
every process joins one DistributedDataParallel group (NCCL on CUDA, gloo on CPU).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from ..runtime.device import resolve_device
from ..runtime.distributed_env import torchrun_slot

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


def setup(device: str = "auto") -> Placement:
    """Join the process group when launched by torchrun; otherwise a single process.

    "auto" picks the GPU of LOCAL_RANK when torch sees one; "cuda" without a GPU is a ValueError.
    """
    slot = torchrun_slot()
    rank, world_size = slot.rank, slot.world_size
    placement = Placement(rank, world_size, resolve_device(device, local_rank=slot.local_rank))
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
