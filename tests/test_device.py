"""sesqa.runtime.device: one device picker and one autocast for training, scoring and evaluation."""

from __future__ import annotations

import os

import pytest
import torch

from sesqa.runtime.device import THREAD_VARS, autocast, cpu_name, resolve_device, resolve_precision, single_threaded_children


def test_device_names():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(None).type == resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="unknown device 'tpu9'"):
        resolve_device("tpu9")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="'cuda:1' asked for, but torch sees no CUDA GPU"):
            resolve_device("cuda:1")


def test_precision_and_autocast():
    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) == "fp32" and resolve_precision("bf16", cpu) == "bf16"
    assert resolve_precision("auto", cpu) in ("fp32", "bf16")
    with pytest.raises(ValueError, match="precision"):
        resolve_precision("fp8", cpu)
    with pytest.raises(ValueError, match="precision"):
        autocast(cpu, "auto")
    a, b = torch.ones(2, 2), torch.ones(2, 2)
    with autocast(cpu, "bf16"):
        assert (a @ b).dtype == torch.bfloat16
    with autocast(cpu, "fp32"):
        assert (a @ b).dtype == torch.float32


def test_single_threaded_children_sets_and_restores_the_thread_variables(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    with single_threaded_children():
        assert all(os.environ[v] == "1" for v in THREAD_VARS)
    assert os.environ["OMP_NUM_THREADS"] == "7" and "MKL_NUM_THREADS" not in os.environ
    assert cpu_name()
