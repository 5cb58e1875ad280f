"""Which share of the work this process does, read from the launcher's environment variables.

One reader for the variables of both launchers sesqa runs under, so generation (shard ranges)
and training (process groups, shard streams) agree on them and fail the same way:
- torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; an unset one takes its single-process value
  (0, 1, 0), so a plain `python -m sesqa ...` is rank 0 of 1;
- a Slurm job array sets SLURM_ARRAY_TASK_ID (with SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_STEP
  and SLURM_ARRAY_TASK_COUNT); a range array (`--array=0-9`, or `0-18:2`) is assumed.

`srun -n N` tasks (SLURM_PROCID / SLURM_NTASKS) are deliberately not read: a batch script run
once under `--ntasks N` sees SLURM_PROCID=0 and SLURM_NTASKS=N too, and would do a 1/N share.

A malformed value is a ValueError naming the variable and the value, e.g. "RANK='x' is not an
integer" or "RANK=3 must be < WORLD_SIZE=2", never a silent fallback to a single process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ProcessSlot:
    """This process's share: number `rank` of `world_size` (and its GPU index on its node)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    def __post_init__(self) -> None:
        if self.world_size < 1:
            raise ValueError(f"world_size must be >= 1, got {self.world_size}")
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f"rank must lie in [0, {self.world_size}), got {self.rank}")
        if self.local_rank < 0:
            raise ValueError(f"local_rank must be >= 0, got {self.local_rank}")

    @property
    def distributed(self) -> bool:
        """Whether other processes share the work."""
        return self.world_size > 1


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    """Integer variable `name` of `env` (`default` when unset); ValueError naming it when malformed."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise ValueError(f"{name}={value} must be >= {minimum}")
    return value


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def torchrun_slot(env: Mapping[str, str] | None = None) -> ProcessSlot:
    """RANK, WORLD_SIZE and LOCAL_RANK (torchrun's variables); (0, 1, 0) where unset."""
    env = _env(env)
    rank = env_int(env, "RANK", 0)
    world = env_int(env, "WORLD_SIZE", 1, minimum=1)
    local = env_int(env, "LOCAL_RANK", 0)
    if rank >= world:
        unset = "" if "WORLD_SIZE" in env else " (WORLD_SIZE unset)"
        raise ValueError(f"RANK={rank} must be < WORLD_SIZE={world}{unset}")
    return ProcessSlot(rank, world, local)


def slurm_array_slot(env: Mapping[str, str] | None = None) -> ProcessSlot | None:
    """(task index, task count) of a Slurm job array task; None outside an array job.

    The index is (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP (MIN 0 and
    STEP 1 when unset), the count SLURM_ARRAY_TASK_COUNT (1 when unset). An id that does not map
    to an index below the count (an array given as a list, `--array=3,17`) is a ValueError.
    """
    env = _env(env)
    if env.get("SLURM_ARRAY_TASK_ID") is None:
        return None
    task = env_int(env, "SLURM_ARRAY_TASK_ID", 0)
    first = env_int(env, "SLURM_ARRAY_TASK_MIN", 0)
    step = env_int(env, "SLURM_ARRAY_TASK_STEP", 1, minimum=1)
    count = env_int(env, "SLURM_ARRAY_TASK_COUNT", 1, minimum=1)
    index, off_step = divmod(task - first, step)
    if off_step or not 0 <= index < count:
        raise ValueError(
            f"SLURM_ARRAY_TASK_ID={task} is not task 0..{count - 1} of the range array "
            f"SLURM_ARRAY_TASK_MIN={first}, SLURM_ARRAY_TASK_STEP={step}, SLURM_ARRAY_TASK_COUNT={count}: "
            "give the array as a range (--array=A-B or A-B:S), or use --shard-range"
        )
    return ProcessSlot(index, count)


def task_slot(env: Mapping[str, str] | None = None) -> ProcessSlot:
    """This process's share of a job split over processes: a Slurm array task, else torchrun's rank."""
    return slurm_array_slot(env) or torchrun_slot(env)


__all__ = ["ProcessSlot", "env_int", "slurm_array_slot", "task_slot", "torchrun_slot"]
