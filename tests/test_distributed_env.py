"""sesqa.runtime.distributed_env: the launcher's variables, read one way by generation and training,
with errors that name the variable and its value."""

from __future__ import annotations

import pytest

from sesqa.runtime.distributed_env import ProcessSlot, slurm_array_slot, task_slot, torchrun_slot


def test_torchrun_variables():
    assert torchrun_slot({}) == ProcessSlot(0, 1, 0)
    assert torchrun_slot({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}) == ProcessSlot(3, 4, 1)
    assert torchrun_slot({"RANK": " 1 ", "WORLD_SIZE": "2"}) == ProcessSlot(1, 2, 0)
    assert torchrun_slot({"WORLD_SIZE": "1"}) == ProcessSlot(0, 1, 0)
    assert not torchrun_slot({}).distributed and torchrun_slot({"RANK": "0", "WORLD_SIZE": "2"}).distributed


@pytest.mark.parametrize(
    "env, message",
    [
        ({"RANK": "x", "WORLD_SIZE": "2"}, "RANK='x' is not an integer"),
        ({"RANK": "0", "WORLD_SIZE": "two"}, "WORLD_SIZE='two' is not an integer"),
        ({"RANK": "3", "WORLD_SIZE": "2"}, "RANK=3 must be < WORLD_SIZE=2"),
        ({"RANK": "1"}, r"RANK=1 must be < WORLD_SIZE=1 \(WORLD_SIZE unset\)"),
        ({"RANK": "-1", "WORLD_SIZE": "2"}, "RANK=-1 must be >= 0"),
        ({"RANK": "0", "WORLD_SIZE": "0"}, "WORLD_SIZE=0 must be >= 1"),
        ({"LOCAL_RANK": "1.5"}, "LOCAL_RANK='1.5' is not an integer"),
    ],
)
def test_torchrun_variables_malformed(env, message):
    with pytest.raises(ValueError, match=message):
        torchrun_slot(env)


def test_slurm_array():
    assert slurm_array_slot({}) is None
    assert slurm_array_slot({"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "3"}) == ProcessSlot(2, 3)
    assert slurm_array_slot({"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_MIN": "5", "SLURM_ARRAY_TASK_COUNT": "4"}) == ProcessSlot(2, 4)
    step = {"SLURM_ARRAY_TASK_ID": "68", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_STEP": "2", "SLURM_ARRAY_TASK_COUNT": "35"}
    assert slurm_array_slot(step) == ProcessSlot(34, 35)
    assert slurm_array_slot({"SLURM_ARRAY_TASK_ID": "0"}) == ProcessSlot(0, 1)


@pytest.mark.parametrize(
    "env, message",
    [
        ({"SLURM_ARRAY_TASK_ID": "a"}, "SLURM_ARRAY_TASK_ID='a' is not an integer"),
        ({"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "0"}, "SLURM_ARRAY_TASK_COUNT=0 must be >= 1"),
        ({"SLURM_ARRAY_TASK_ID": "17", "SLURM_ARRAY_TASK_MIN": "3", "SLURM_ARRAY_TASK_COUNT": "2"}, "SLURM_ARRAY_TASK_ID=17 is not task 0..1"),
        ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_STEP": "2", "SLURM_ARRAY_TASK_COUNT": "5"}, "SLURM_ARRAY_TASK_STEP=2"),
    ],
)
def test_slurm_array_malformed(env, message):
    with pytest.raises(ValueError, match=message):
        slurm_array_slot(env)


def test_task_slot_prefers_the_slurm_array_to_torchrun():
    both = {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2", "RANK": "0", "WORLD_SIZE": "3"}
    assert task_slot(both) == ProcessSlot(1, 2)
    assert task_slot({"RANK": "2", "WORLD_SIZE": "3"}) == ProcessSlot(2, 3)
    assert task_slot({}) == ProcessSlot(0, 1)


def test_task_slot_reads_the_process_environment(monkeypatch):
    for name in ("SLURM_ARRAY_TASK_ID", "RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert task_slot() == ProcessSlot(1, 2)


def test_process_slot_checks_itself():
    with pytest.raises(ValueError, match="rank"):
        ProcessSlot(2, 2)
