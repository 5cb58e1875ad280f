"""Weighted losses: a run may scale losses in the step's sum (docs/ablation.md found L_DT and L_MR
dwarfing L_RANK and L_CONS); the weights are validated, stored and compared on resume."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sesqa.trainer import TrainConfig
from sesqa.trainer.losses import check_loss_weights, weighted_total

from .helpers import run_cli


def test_unnamed_losses_weigh_one_and_named_ones_their_weight():
    losses = {"rank": torch.tensor(0.5), "dt": torch.tensor(20.0), "mr": torch.tensor(8.0)}
    weights = check_loss_weights((("dt", 0.1), ("mr", 0.25)))
    assert float(weighted_total(losses, weights)) == pytest.approx(0.5 + 2.0 + 2.0)
    assert float(weighted_total(losses, {})) == pytest.approx(28.5)


def test_weights_flow_into_the_gradient():
    x = torch.tensor(3.0, requires_grad=True)
    weighted_total({"dt": x * x}, {"dt": 0.5}).backward()
    assert float(x.grad) == pytest.approx(3.0)


@pytest.mark.parametrize(
    "pairs, problem",
    [((("nope", 1.0),), "unknown loss name 'nope'"), ((("dt", -1.0),), "finite number >= 0"),
     ((("dt", float("nan")),), "finite number >= 0"), ((("dt", 1.0), ("dt", 2.0)), "given twice")],
)
def test_bad_weights_are_refused_naming_the_loss(pairs, problem, tmp_path):
    with pytest.raises(ValueError, match=problem):
        check_loss_weights(pairs)
    with pytest.raises(ValueError, match=problem):
        TrainConfig(out=tmp_path, shards=tmp_path, loss_weights=pairs)


def test_weights_are_stored_and_a_resume_with_others_is_refused(tmp_path):
    config = TrainConfig(out=tmp_path, shards=tmp_path, loss_weights=(("dt", 0.1), ("mr", 0.2)))
    again = TrainConfig.from_json(config.to_json())
    assert again.loss_weights == (("dt", 0.1), ("mr", 0.2))
    assert again.resumable_with(config) == []
    other = TrainConfig(out=tmp_path, shards=tmp_path, loss_weights=(("dt", 0.5),))
    assert other.resumable_with(config) == ["loss_weights"]


def test_cli_says_what_is_wrong_with_a_weight(tmp_path: Path):
    result = run_cli("train", "--out", tmp_path / "run", "--shards", tmp_path, "--loss-weight", "dt")
    assert result.exit_code != 0
    assert "--loss-weight: 'dt' is not NAME=NUMBER" in result.output
