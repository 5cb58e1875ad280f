"""The eight training losses against hand-computed values on a tiny batch, with a fake model.

The fake model scores z[..., 0] and its heads read z[..., 1:], so every expected value below is
written out from the latents by hand (float64, tight tolerances).
"""

from __future__ import annotations

import math

import pytest
import torch

from sesqa.trainer.batch import Batch, Encoded, JndBatch, MosBatch, QuadBatch
from sesqa.trainer.losses import (
    LOSS_NAMES,
    LOSSES,
    compute_losses,
    inactive_losses,
    mos_pair_hinges,
    select_losses,
)

SPEC = {spec.name: spec for spec in LOSSES}
LN2 = math.log(2.0)


def sp(x: float) -> float:
    """softplus: BCE-with-logits(x, target 1) = sp(-x), (x, target 0) = sp(x)."""
    return math.log1p(math.exp(x))


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class FakeModel:
    """Deterministic stand-in for the network: score = z0; heads read z1, z2; single outputs squeezed."""

    def __init__(self):
        self.score_calls = 0

    def score(self, z: torch.Tensor) -> torch.Tensor:
        self.score_calls += 1
        return z[..., 0]

    def head(self, name: str, z: torch.Tensor, z_other: torch.Tensor | None = None) -> torch.Tensor:
        if name in ("sd", "jnd"):
            return z[..., 1] - z_other[..., 1]
        if name in ("dt", "ds"):
            return z[..., 1:3]
        if name == "mr":
            return z[..., 1:3] - z_other[..., 1:3]
        raise KeyError(name)


def t(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def make_quad() -> tuple[torch.Tensor, QuadBatch]:
    """B=2 quadruples, V=2 types, M=2 metrics; latents (B, 4, 3) in order ik, il, jk, jl."""
    z = t([
        [[4.0, 0.0, 1.0], [4.05, 0.0, 1.0], [3.9, 2.0, -1.0], [3.5, 1.0, 0.0]],
        [[2.0, 1.0, 0.0], [2.0, -1.0, 0.0], [2.5, 0.0, 2.0], [1.96, 0.0, 0.0]],
    ])
    quad = QuadBatch(
        frames=torch.zeros(2, 4, 8),
        types_i=t([[1, 0], [0, 1]]),
        types_j=t([[0, 1], [0, 1]]),
        strength_i=t([[0.0, 0.0], [0.0, 0.25]]),
        strength_j=t([[0.0, 0.5], [0.0, 0.75]]),
        rated_i=t([[1, 0], [0, 1]]),  # every present type has a strength here
        rated_j=t([[0, 1], [0, 1]]),
        metrics=t([[-1.5, 0.0], [0.5, -1.0]]),
        metrics_mask=torch.tensor([[True, False], [True, True]]),
    )
    return z, quad


def make_mos() -> tuple[torch.Tensor, MosBatch]:
    """N=3 items; s = (3.0, 3.05, 4.5), s* = (3.5, 3.4, 3.5): items 0 and 2 are tied."""
    return t([[3.0, 0, 0], [3.05, 0, 0], [4.5, 0, 0]]), MosBatch(torch.zeros(3, 8), t([3.5, 3.4, 3.5]))


def make_jnd() -> tuple[torch.Tensor, JndBatch]:
    """J=2 pairs: (3.0, 3.02) heard as different, (2.0, 2.4) heard as the same."""
    z = t([[[3.0, 1.0, 0], [3.02, -1.0, 0]], [[2.0, 0.5, 0], [2.4, 0.5, 0]]])
    return z, JndBatch(torch.zeros(2, 2, 8), t([1.0, 0.0]))


def make_all(requires_grad: bool = False) -> tuple[Encoded, Batch]:
    (zq, quad), (zm, mos), (zj, jnd) = make_quad(), make_mos(), make_jnd()
    enc = Encoded(*(z.requires_grad_(requires_grad) for z in (zq, zm, zj)))
    return enc, Batch(quad, mos, jnd)


# Hand computations on the batch above (ik, il, jk, jl scores: q0 4.0 4.05 3.9 3.5; q1 2.0 2.0 2.5 1.96).
EXPECTED = {
    # |3.5-3.0| + |3.4-3.05| + |3.5-4.5|
    "mos": (0.5 + 0.35 + 1.0) / 3,
    # generated: (ik,jk) 3.9-4.0+.3=.2, 2.5-2.0+.3=.8; (il,jl) 3.5-4.05+.3<0, 1.96-2.0+.3=.26 -> 1.26/4
    # MOS: (0,1) alpha'=.1: 3.05-3.0+.1=.15; (0,2) tied, skipped; (1,2) alpha'=.1: 3.05-4.5+.1<0 -> .15/2
    "rank": (1.26 / 4 + 0.15 / 2) / 2,
    # q0: (.05 + .4 + |.1-.55|)/4 = .225, apart 0; q1: (0 + .54 + |-.5-.04|)/4 = .27, apart (0 + .3)/2
    # JND: heard, |.02| -> (.1-.02)/.2 = .4; not heard, |.4|/4 = .1
    "cons": (0.225 + 0.27 + 0.15 + 0.4 + 0.1) / 4,
    # logits z1_u - z1_v; same: (ik,il) 0, 2; (jk,jl) 1, 0; different: (ik,jk) -2, 1; (il,jl) -1, -1
    "sd": (LN2 + sp(-2) + sp(-1) + LN2 + sp(-2) + sp(1) + sp(-1) + sp(-1)) / 8,
    # logits 2 (heard), 0 (not heard)
    "jnd": (sp(-2) + LN2) / 2,
    # per frame (z1, z2) vs types: q0 ik,il (0,1) vs (1,0); jk (2,-1), jl (1,0) vs (0,1);
    # q1 ik (1,0), il (-1,0), jk (0,2), jl (0,0) vs (0,1)
    "dt": (
        2 * (LN2 + sp(1)) + (sp(2) + sp(1)) + (sp(1) + LN2)
        + (sp(1) + LN2) + (sp(-1) + LN2) + (LN2 + sp(-2)) + (LN2 + LN2)
    ) / 8,
    # present types only: q0 ik,il type 0: |.5-0|; jk type 1: |sig(-1)-.5|; jl |.5-.5|;
    # q1 ik,il type 1: |.5-.25|; jk |sig(2)-.75|; jl |.5-.75|
    "ds": (0.5 + 0.5 + abs(sig(-1) - 0.5) + 0.0 + 0.25 + 0.25 + abs(sig(2) - 0.75) + 0.25) / 8,
    # estimates z[1:3]_i - z[1:3]_j: q0 (ik,jk) (-2, 2), (il,jl) (-1, 1); q1 (1, -2), (-1, 0)
    # q0 second metric masked: .5 + .5; q1: (.5 + 1) + (1.5 + 1)
    "mr": (0.5 + 0.5 + 1.5 + 2.5) / 4,
}


def test_losses_are_the_papers_eight_in_order():
    assert LOSS_NAMES == ("mos", "rank", "cons", "sd", "jnd", "dt", "ds", "mr")
    assert [s.label for s in LOSSES][:2] == ["L_MOS", "L_RANK"]


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_loss_matches_hand_computation(name):
    enc, batch = make_all()
    value = SPEC[name].fn(FakeModel(), enc, batch)
    assert value.shape == ()
    assert value.item() == pytest.approx(EXPECTED[name], abs=1e-12)


def test_compute_losses_gives_all_eight_with_one_score_pass():
    enc, batch = make_all()
    model = FakeModel()
    losses = compute_losses(LOSSES, model, enc, batch)
    assert list(losses) == list(LOSS_NAMES)
    assert {k: v.item() for k, v in losses.items()} == pytest.approx(EXPECTED, abs=1e-12)
    assert model.score_calls == 1


def test_mos_pair_margin_is_capped_gap_and_ties_are_skipped():
    s = t([3.0, 3.1])
    # s* gap 2.0: margin alpha = 0.3 -> 3.1 - 3.0 + 0.3
    assert mos_pair_hinges(s, t([4.0, 2.0])).tolist() == pytest.approx([0.4])
    # s* gap 0.1: margin 0.1 -> 3.1 - 3.0 + 0.1
    assert mos_pair_hinges(s, t([3.0, 2.9])).tolist() == pytest.approx([0.2])
    # the better item may come second: s* (2.9, 3.0) makes item 1 (s=3.1) the better one -> hinge 0
    assert mos_pair_hinges(s, t([2.9, 3.0])).tolist() == pytest.approx([0.0])
    assert mos_pair_hinges(s, t([3.0, 3.0])).numel() == 0


def test_rank_without_quadruples_uses_mos_pairs_only_and_is_none_when_all_tied():
    z, mos = make_mos()
    assert SPEC["rank"].fn(FakeModel(), Encoded(mos=z), Batch(mos=mos)).item() == pytest.approx(0.15 / 2)
    tied = MosBatch(mos.frames, t([3.0, 3.0, 3.0]))
    assert SPEC["rank"].fn(FakeModel(), Encoded(mos=z), Batch(mos=tied)) is None


def test_losses_without_their_data_return_none_and_are_omitted():
    z, mos = make_mos()
    enc, batch = Encoded(mos=z), Batch(mos=mos)
    for name in ("cons", "sd", "jnd", "dt", "ds", "mr"):
        assert SPEC[name].fn(FakeModel(), enc, batch) is None
    losses = compute_losses(LOSSES, FakeModel(), enc, batch)
    assert list(losses) == ["mos", "rank"]
    assert losses["mos"].item() == pytest.approx(EXPECTED["mos"])


def test_mr_is_none_without_metrics():
    z, quad = make_quad()
    quad.metrics, quad.metrics_mask = quad.metrics[:, :0], quad.metrics_mask[:, :0]
    assert SPEC["mr"].fn(FakeModel(), Encoded(quad=z), Batch(quad=quad)) is None


def test_half_present_group_is_an_error():
    z, _ = make_mos()
    with pytest.raises(ValueError, match="Encoded.mos and Batch.mos"):
        SPEC["mos"].fn(FakeModel(), Encoded(mos=z), Batch())


def test_every_loss_is_differentiable_even_with_nan_in_masked_metrics():
    enc, batch = make_all(requires_grad=True)
    batch.quad.metrics[0, 1] = float("nan")  # masked out: must not poison the loss or its gradient
    losses = compute_losses(LOSSES, FakeModel(), enc, batch)
    assert len(losses) == 8
    for name, value in losses.items():
        grads = torch.autograd.grad(value, [enc.quad, enc.mos, enc.jnd], allow_unused=True)
        assert any(g is not None and g.abs().sum() > 0 for g in grads), name
        assert all(g is None or torch.isfinite(g).all() for g in grads), name
    assert losses["mr"].item() == pytest.approx(EXPECTED["mr"])


def ds_and_gradient(z: torch.Tensor, quad: QuadBatch, column: int = 0, shift: float = 0.0) -> tuple[float, torch.Tensor]:
    """L_DS and its gradient w.r.t. the latents, with the "ds" head's output for `column` moved by `shift`."""
    z = z.clone()
    z[..., 1 + column] += shift  # FakeModel's "ds" head reads column c from z[..., 1 + c]
    z.requires_grad_(True)
    value = SPEC["ds"].fn(FakeModel(), Encoded(quad=z), Batch(quad=quad))
    (grad,) = torch.autograd.grad(value, z)
    return value.item(), grad


def test_ds_ignores_a_type_without_strength():
    """Type 1 present but without a strength (as reverse): unrated, strength label 0, nothing in L_DS."""
    z, quad = make_quad()
    rated = t([1, 0])
    quad.rated_i, quad.rated_j = quad.types_i * rated, quad.types_j * rated
    quad.strength_i, quad.strength_j = quad.strength_i * rated, quad.strength_j * rated
    value, grad = ds_and_gradient(z, quad)
    # only q0's ik, il are rated (type 0, strength 0, estimate sig(0)) -> (.5 + .5) / 8 frames
    assert value == pytest.approx((0.5 + 0.5) / 8, abs=1e-12)
    assert torch.count_nonzero(grad[..., 2]) == 0  # the unrated column gets no gradient
    for shift in (-3.0, 2.5):
        moved, moved_grad = ds_and_gradient(z, quad, column=1, shift=shift)
        assert moved == value and torch.equal(moved_grad, grad)
        rated_moved, rated_grad = ds_and_gradient(z, quad, column=0, shift=shift)
        assert rated_moved != pytest.approx(value, abs=1e-6) and not torch.equal(rated_grad, grad)
    # the same batch with type 1 rated again: its column counts (what reverse did before)
    _, full = make_quad()
    assert ds_and_gradient(z, full, column=1, shift=2.5)[0] != pytest.approx(ds_and_gradient(z, full)[0], abs=1e-6)


def test_select_losses():
    assert select_losses() == LOSSES
    assert [s.name for s in select_losses(["rank", "CONS"])] == ["mos", "sd", "jnd", "dt", "ds", "mr"]
    with pytest.raises(ValueError, match=r"without: unknown loss name\(s\) \['bogus'\]; valid names are \['mos'"):
        select_losses(["mos", "bogus"])
    with pytest.raises(ValueError, match="at least one loss"):
        select_losses(LOSS_NAMES)


def test_inactive_losses_say_why():
    reasons = inactive_losses(LOSSES, {"quad"})
    assert set(reasons) == {"mos", "jnd"}
    assert "MOS-rated recordings" in reasons["mos"]
    assert inactive_losses(LOSSES, {"quad", "mos", "jnd"}) == {}
    assert set(inactive_losses(LOSSES, {"mos"})) == {"cons", "sd", "jnd", "dt", "ds", "mr"}
    assert set(inactive_losses(LOSSES, {"quad", "mos", "jnd"}, n_metrics=0)) == {"mr"}
    assert inactive_losses(select_losses(["mos"]), {"quad", "jnd"}) == {}
    with pytest.raises(ValueError, match=r"groups: unknown batch group\(s\) \['mose'\]"):
        inactive_losses(LOSSES, {"mose"})
