"""One seed rule (0 <= seed < 2**63) for generate, train, sweep and evaluate: configs and CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from sesqa.evaluation.run.config import EvaluateConfig
from sesqa.evaluation.sweep import SweepConfig
from sesqa.generator.run import GenerateConfig
from sesqa.runtime.seeds import SEED_LIMIT, check_seed
from sesqa.trainer import TrainConfig

from .helpers import run_cli

TOO_BIG = 2**64  # torch.manual_seed overflows here, numpy's SeedSequence does not


def _configs(tmp_path: Path) -> dict[str, object]:
    """A maker of each command's config from a seed."""
    labels = tmp_path / "labels.csv"
    labels.write_text("path,mos\na.wav,3.0\n")
    return {
        "train": lambda seed: TrainConfig(out=tmp_path / "run", shards=tmp_path, seed=seed),
        "generate": lambda seed: GenerateConfig(out=tmp_path / "shards", n=10, seed=seed),
        "sweep": lambda seed: SweepConfig(clips=(tmp_path / "a.wav",), seed=seed),
        "evaluate": lambda seed: EvaluateConfig(labels=labels, seed=seed),
    }


@pytest.mark.parametrize("seed", [TOO_BIG, SEED_LIMIT, -1, True, 1.0])
def test_every_config_refuses_the_same_seeds_naming_seed_range_and_value(tmp_path: Path, seed: object) -> None:
    for command, make in _configs(tmp_path).items():
        with pytest.raises(ValueError, match=rf"seed must be an integer with 0 <= seed < 2\*\*63.*got {seed!r}") as raised:
            make(seed)
        assert str(seed) in str(raised.value), command


def test_every_config_accepts_the_whole_range(tmp_path: Path) -> None:
    for seed in (0, 1, SEED_LIMIT - 1):
        assert check_seed(seed) == seed
        for command, make in _configs(tmp_path).items():
            assert make(seed).seed == seed, command


def test_the_largest_seed_is_honoured_by_torch_and_numpy_with_the_trainers_offsets() -> None:
    import numpy as np
    import torch

    largest = SEED_LIMIT - 1
    torch.manual_seed(largest + 64)  # + rank
    np.random.default_rng(np.random.SeedSequence([largest + 1000 * 64 + 2, 1, 2]))
    torch.manual_seed(0)


@pytest.mark.parametrize("command", ["train", "generate", "evaluate"])
def test_cli_out_of_range_seed_exits_2_with_one_line(tmp_path: Path, command: str) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("path,mos\na.wav,3.0\n")
    args = {
        "train": ("train", "--out", tmp_path / "run", "--shards", tmp_path, "--model-size", "tiny"),
        "generate": ("generate", "--out", tmp_path / "shards", "--n", "3", "--workers", "1"),
        "evaluate": ("evaluate", "--labels", labels, "--pred", labels),
    }[command]
    result = run_cli(*args, "--seed", str(TOO_BIG))
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert "seed" in lines[0] and "2**63" in lines[0] and str(TOO_BIG) in lines[0], lines[0]
    assert not (tmp_path / "shards").exists() and not (tmp_path / "run").exists(), "nothing is written"
