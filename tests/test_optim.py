"""RangerQH (from the archived torch_optimizer package), the lr schedule, SWA and BN recomputation."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
import torch_optimizer
from torch import nn

from sesqa.trainer.optim import (
    SwaAverager,
    make_optimizer,
    make_scheduler,
    recompute_batchnorm,
)


@pytest.fixture
def warn_always():
    """Make torch repeat its warn-once warnings, so a deprecation warning is seen on every step."""
    before = torch.is_warn_always_enabled()
    torch.set_warn_always(True)
    yield
    torch.set_warn_always(before)


def regression(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 5, generator=g)
    return x, x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0], [0.0]]) + 0.7


def train_steps(model: nn.Module, optimizer, scheduler, x, y, steps: int) -> list[float]:
    losses = []
    for _ in range(steps):
        loss = ((model(x) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
    return losses


def test_rangerqh_minimises_a_regression():
    torch.manual_seed(0)
    model = nn.Linear(5, 1)
    optimizer = make_optimizer(model.parameters(), lr=0.05)
    assert isinstance(optimizer, torch_optimizer.RangerQH)
    losses = train_steps(model, optimizer, None, *regression(), steps=300)
    assert losses[-1] < losses[0] / 1000


def test_make_optimizer_defaults_and_bad_lr():
    optimizer = make_optimizer([nn.Parameter(torch.zeros(2))])
    assert optimizer.defaults["lr"] == 1e-3
    assert optimizer.defaults["nus"] == (0.7, 1.0) and optimizer.defaults["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="lr must be a positive number, got -1"):
        make_optimizer([nn.Parameter(torch.zeros(2))], lr=-1)


def step_once(optimizer_class, closure=None) -> list[warnings.WarningMessage]:
    p = nn.Parameter(torch.ones(3))
    optimizer = optimizer_class([p])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(6):  # 6 steps: the Lookahead update's add_ runs too
            optimizer.zero_grad()
            (p**2).sum().backward()
            optimizer.step(closure)
    return caught


def test_no_deprecation_warning_leaks_from_step(warn_always):
    raw = step_once(torch_optimizer.RangerQH)
    assert any("This overload of add_ is deprecated" in str(w.message) for w in raw)  # the test can fail
    assert step_once(lambda params: make_optimizer(params)) == []


def test_other_warnings_still_come_through_step(warn_always):
    def closure():
        warnings.warn("This overload of add_ is deprecated (but not from rangerqh)", UserWarning)

    caught = step_once(lambda params: make_optimizer(params), closure)
    assert len(caught) == 6 and all("not from rangerqh" in str(w.message) for w in caught)


def test_scheduler_decays_by_five_at_70_and_90_percent():
    p = nn.Parameter(torch.zeros(1))
    optimizer = make_optimizer([p], lr=1e-3)
    scheduler = make_scheduler(optimizer, total_steps=100)
    lrs = []
    for _ in range(100):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs[0] == pytest.approx(1e-3)
    assert lrs[69] == pytest.approx(1e-3)
    assert lrs[71] == pytest.approx(2e-4)
    assert lrs[89] == pytest.approx(2e-4)
    assert lrs[91] == pytest.approx(4e-5)
    with pytest.raises(ValueError, match="total_steps must be a positive int, got 0"):
        make_scheduler(optimizer, 0)


def test_optimizer_and_scheduler_resume_reproduces_updates():
    x, y = regression(1)
    torch.manual_seed(0)
    model = nn.Linear(5, 1)
    optimizer = make_optimizer(model.parameters(), lr=0.01)
    scheduler = make_scheduler(optimizer, total_steps=20)
    train_steps(model, optimizer, scheduler, x, y, steps=9)  # mid Lookahead cycle, before the decays
    saved = copy.deepcopy((model.state_dict(), optimizer.state_dict(), scheduler.state_dict()))
    expected = train_steps(model, optimizer, scheduler, x, y, steps=11)

    resumed = nn.Linear(5, 1)
    resumed.load_state_dict(saved[0])
    optimizer2 = make_optimizer(resumed.parameters(), lr=0.01)
    scheduler2 = make_scheduler(optimizer2, total_steps=20)
    optimizer2.load_state_dict(saved[1])
    scheduler2.load_state_dict(saved[2])
    assert train_steps(resumed, optimizer2, scheduler2, x, y, steps=11) == expected
    assert torch.equal(resumed.weight, model.weight) and torch.equal(resumed.bias, model.bias)
    assert optimizer2.param_groups[0]["lr"] == pytest.approx(0.01 * 0.2 * 0.2)


def test_swa_average_of_two_weight_sets_is_their_mean():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    swa = SwaAverager(model)
    a = {k: torch.randn_like(v) for k, v in model.named_parameters()}
    b = {k: torch.randn_like(v) for k, v in model.named_parameters()}
    for weights in (a, b):
        with torch.no_grad():
            for k, v in model.named_parameters():
                v.copy_(weights[k])
        swa.update(model)
    assert swa.count == 2
    averaged = swa.averaged_state_dict()
    assert set(averaged) == set(model.state_dict())  # plain keys, no "module." prefix
    for k, first in a.items():
        torch.testing.assert_close(averaged[k], (first + b[k]) / 2)

    fresh = SwaAverager(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)))
    fresh.load_state_dict(swa.state_dict())
    assert fresh.count == 2
    torch.testing.assert_close(fresh.averaged_state_dict()["0.weight"], averaged["0.weight"])


class Net(nn.Module):
    """A body whose BN the forward reaches and a head whose BN it does not."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=0.3))
        self.head = nn.BatchNorm1d(4)


def test_batchnorm_recompute_gives_the_batch_statistics():
    torch.manual_seed(0)
    net = Net().eval()
    with torch.no_grad():
        net.head.running_mean.fill_(7.0)
    bn = net.body[1]
    x1, x2 = torch.randn(16, 3) * 2 + 1, torch.randn(16, 3) - 3
    h1, h2 = (net.body[0](x).detach() for x in (x1, x2))

    untouched = recompute_batchnorm(net, [x1], lambda x: net.body(x))
    torch.testing.assert_close(bn.running_mean, h1.mean(0))
    torch.testing.assert_close(bn.running_var, h1.var(0, unbiased=True))
    assert untouched == ["head"] and torch.all(net.head.running_mean == 7.0)
    assert not net.training and bn.momentum == 0.3

    recompute_batchnorm(net, iter([x1, x2]), lambda x: net.body(x))  # cumulative mean over batches
    torch.testing.assert_close(bn.running_mean, (h1.mean(0) + h2.mean(0)) / 2)
    torch.testing.assert_close(bn.running_var, (h1.var(0) + h2.var(0)) / 2)
    assert int(bn.num_batches_tracked) == 2

    with pytest.raises(ValueError, match="at least one batch"):
        recompute_batchnorm(net, [], lambda x: net.body(x))
