"""The paper's measures in `sesqa.measures.criteria`: hand-computed values, and numpy against torch.

The per-item formulas are written once for numpy arrays and torch tensors; here both forms are
run on the same random inputs (with ties, which R_RANK counts as wrong) and must agree. The
training losses that use them must equal the evaluation measures on the same scores, so a model
is trained on the very figure it is evaluated on.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from sesqa.measures import criteria
from sesqa.measures.criteria import e_total, l_cons_pairs, l_cons_quadruples, l_mos, r_rank, r_rank_quadruples
from sesqa.trainer.batch import Batch, Encoded, JndBatch, MosBatch, QuadBatch
from sesqa.trainer.losses import cons_loss, mos_loss, rank_loss

# ----------------------------------------------------------------------------- R_RANK, L_CONS, E_TOTAL


def test_r_rank_hand_computed() -> None:
    # pairs (better, worse): (3, 1) right; (2, 2) a tie, wrong; (1, 2) wrong; (4, 5) wrong -> 3/4
    assert r_rank([3.0, 2.0, 1.0, 4.0], [1.0, 2.0, 2.0, 5.0]) == 0.75
    assert r_rank([2.0, 3.0], [1.0, 0.0]) == 0.0
    assert math.isnan(r_rank([], []))


# Two quadruples (s_ik, s_il, s_jk, s_jl), beta = 0.1:
# q1 = (3.0, 3.0, 2.0, 2.0): same-condition terms |0| + |0| + |1 - 1| = 0; x_i/x_j gaps are 1 >= beta,
#      so apart = (0.1 - 0.1) / 0.2 = 0 for both frames -> L_CONS 0; both pairs in order.
# q2 = (3.0, 3.2, 3.0, 3.1): same-condition terms |3.0 - 3.2| + |3.0 - 3.1| + |0.0 - 0.1| = 0.4, / 4 = 0.1;
#      apart(3.0, 3.0) = 0.1 / 0.2 = 0.5 and apart(3.2, 3.1) = 0, mean 0.25 -> L_CONS 0.35;
#      frame k is a tie (wrong), frame l in order -> 1 wrong pair of 2.
QUADRUPLES = (np.array([3.0, 3.0]), np.array([3.0, 3.2]), np.array([2.0, 3.0]), np.array([2.0, 3.1]))


def test_l_cons_quadruples_hand_computed() -> None:
    assert l_cons_quadruples(*QUADRUPLES) == pytest.approx((0.0 + 0.35) / 2, abs=1e-12)
    assert r_rank_quadruples(*QUADRUPLES) == pytest.approx(1 / 4)


def test_l_cons_pairs_hand_computed() -> None:
    # (2.0, 2.4) not noticeable: |-0.4| / 4 = 0.1; (2.0, 2.05) noticeable: (0.1 - 0.05) / 0.2 = 0.25;
    # (3.0, 3.0) noticeable: 0.1 / 0.2 = 0.5 -> mean 0.85 / 3
    value = l_cons_pairs([2.0, 2.0, 3.0], [2.4, 2.05, 3.0], [0, 1, 1])
    assert value == pytest.approx(0.85 / 3, abs=1e-12)


def test_e_total() -> None:
    # the paper's Table 1 average: 0.5 * 0.474 + 0.090 + 0.067 = 0.394
    assert e_total(0.474, 0.090, 0.067) == pytest.approx(0.394, abs=1e-12)
    assert math.isnan(e_total(math.nan, 0.1, 0.1))


def test_l_mos_hand_computed() -> None:
    # |2.5 - 3| + |4 - 4| + |1 - 2.5| = 2 over 3 items
    assert l_mos([2.5, 4.0, 1.0], [3.0, 4.0, 2.5]) == pytest.approx(2.0 / 3, abs=1e-12)
    assert math.isnan(l_mos([], []))


def test_measures_reject_bad_input_naming_it() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        r_rank([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="s_jl: 1 of 2 values are not finite"):
        r_rank_quadruples([1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [1.0, math.nan])
    with pytest.raises(ValueError, match="pred: expected a 1-D array"):
        l_mos([[1.0]], [1.0])
    with pytest.raises(ValueError, match="noticeable"):
        l_cons_pairs([1.0], [2.0], [0.5])


# ----------------------------------------------------------------------------- numpy and torch agree


def _random_scores(rng: np.random.Generator, n: int) -> np.ndarray:
    """Scores in [1, 5] rounded to 0.05, so that ties and gaps under beta are common."""
    return np.round(rng.uniform(1.0, 5.0, n) * 20) / 20


def _both(fn, *arrays: np.ndarray, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """``fn`` on numpy float64 arrays and on the same values as torch float64 tensors."""
    as_numpy = np.asarray(fn(*arrays, **kwargs), dtype=np.float64)
    as_torch = fn(*(torch.from_numpy(a) for a in arrays), **kwargs)
    assert isinstance(as_torch, torch.Tensor)
    return as_numpy, as_torch.numpy()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_formulas_agree_on_numpy_and_torch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 500
    ik, il, jk, jl = (_random_scores(rng, n) for _ in range(4))
    noticeable = rng.integers(0, 2, n).astype(np.float64)
    margin = rng.uniform(0.0, criteria.ALPHA, n)
    cases = {
        "mos_error": (criteria.mos_error, (ik, jk), {}),
        "rank_hinge": (criteria.rank_hinge, (ik, jk), {}),
        "rank_hinge (tensor margin)": (criteria.rank_hinge, (ik, jk, margin), {}),
        "wrong_order": (criteria.wrong_order, (ik, jk), {}),
        "quadruple_wrong_order": (criteria.quadruple_wrong_order, (ik, il, jk, jl), {}),
        "apart": (criteria.apart, (ik, jk), {}),
        "apart (beta 0.3)": (criteria.apart, (ik, jk), {"beta": 0.3}),
        "quadruple_consistency": (criteria.quadruple_consistency, (ik, il, jk, jl), {}),
        "pair_consistency": (criteria.pair_consistency, (ik, jk, noticeable), {}),
        "e_total": (criteria.e_total, (ik, il, jk), {}),
    }
    for name, (fn, arrays, kwargs) in cases.items():
        as_numpy, as_torch = _both(fn, *arrays, **kwargs)
        assert as_numpy.shape == (n,), name
        np.testing.assert_allclose(as_numpy, as_torch, rtol=0, atol=1e-12, err_msg=name)
    # the inputs exercise both sides of each kink: ties, and gaps both under and over beta
    assert 0 < (ik == jk).sum() < n
    gaps = np.abs(ik - jk)
    assert ((gaps > 0) & (gaps < criteria.BETA)).any() and (gaps > criteria.BETA).any()


def test_criteria_imports_no_torch() -> None:
    """Layer 0: the measures need numpy only; tensors just flow through the formulas."""
    code = "import sys, sesqa.measures.criteria; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------------------- losses equal the measures


class _ScoreModel:
    """The losses' view of a model: score = z[..., 0]; no auxiliary heads are needed here."""

    def score(self, z: torch.Tensor) -> torch.Tensor:
        return z[..., 0]

    def head(self, name: str, z: torch.Tensor, z_other: torch.Tensor | None = None) -> torch.Tensor:
        raise KeyError(name)


def _quad_batch(scores: np.ndarray) -> tuple[Encoded, Batch]:
    """Quadruple latents whose scores are ``scores`` (B, 4) in order ik, il, jk, jl."""
    b = len(scores)
    z = torch.from_numpy(scores)[..., None]
    zeros = torch.zeros(b, 1, dtype=torch.float64)
    quad = QuadBatch(
        frames=torch.zeros(b, 4, 8),
        types_i=zeros,
        types_j=zeros,
        strength_i=zeros,
        strength_j=zeros,
        rated_i=zeros,
        rated_j=zeros,
        metrics=torch.zeros(b, 0, dtype=torch.float64),
        metrics_mask=torch.zeros(b, 0, dtype=torch.bool),
    )
    return Encoded(quad=z), Batch(quad=quad)


@pytest.mark.parametrize("seed", [0, 1])
def test_losses_equal_the_evaluation_measures(seed: int) -> None:
    rng = np.random.default_rng(seed)
    model = _ScoreModel()
    scores = np.stack([_random_scores(rng, 64) for _ in range(4)], axis=1)
    enc, batch = _quad_batch(scores)
    ik, il, jk, jl = scores.T
    # L_CONS of the generated part is the evaluation's L_CONS on the same quadruples
    assert cons_loss(model, enc, batch).item() == pytest.approx(l_cons_quadruples(ik, il, jk, jl), abs=1e-12)
    # L_RANK is the mean hinge over the same 2 N pairs that R_RANK counts; at margin 0 a hinge is
    # positive exactly where a pair is strictly wrong, so the two differ only on ties
    hinges = np.concatenate([criteria.rank_hinge(ik, jk), criteria.rank_hinge(il, jl)])
    assert rank_loss(model, enc, batch).item() == pytest.approx(hinges.mean(), abs=1e-12)
    strictly_wrong = np.concatenate([criteria.rank_hinge(ik, jk, 0.0), criteria.rank_hinge(il, jl, 0.0)]) > 0
    ties = np.concatenate([ik == jk, il == jl])
    assert (strictly_wrong | ties).mean() == pytest.approx(r_rank_quadruples(ik, il, jk, jl), abs=1e-12)

    # L_MOS: the MOS loss is the evaluation's L_MOS on the same items
    s, mos = _random_scores(rng, 32), _random_scores(rng, 32)
    mos_batch = Batch(mos=MosBatch(torch.zeros(32, 8), torch.from_numpy(mos)))
    assert mos_loss(model, Encoded(mos=torch.from_numpy(s)[:, None]), mos_batch).item() == pytest.approx(
        l_mos(s, mos), abs=1e-12
    )

    # L_CONS of JND pairs: the loss equals the evaluation's L_CONS on the same pairs
    u, v = _random_scores(rng, 40), _random_scores(rng, 40)
    heard = rng.integers(0, 2, 40).astype(np.float64)
    jnd_batch = Batch(jnd=JndBatch(torch.zeros(40, 2, 8), torch.from_numpy(heard)))
    z_jnd = torch.from_numpy(np.stack([u, v], axis=1))[..., None]
    assert cons_loss(model, Encoded(jnd=z_jnd), jnd_batch).item() == pytest.approx(
        l_cons_pairs(u, v, heard), abs=1e-12
    )
