"""The eight SESQA training losses (paper section 2.1), declared as data and summed (unweighted,
as the paper does, unless a run gives weights: `check_loss_weights`).

Each `LossSpec` names the batch groups that feed it and a function of (model, latents, batch)
returning a scalar, or None when none of its data is in the batch. The formulas shared with
evaluation (MOS error, ranking hinge, consistency) come from `sesqa.measures.criteria`, so training and
evaluation cannot drift apart.

The model is duck-typed (`LossModel`): `score(z)` gives 1 + 4 sigmoid(.) scores, `head(name, z,
z_other=None)` the raw outputs of an auxiliary head (logits for "sd", "jnd", "dt"; pre-sigmoid
strengths for "ds"; normalised metric estimates for "mr"), squeezed when it has one output.

Reductions chosen here (the paper gives the per-item formulas only):
- "rank": generated pairs (ik, jk), (il, jl) with margin ALPHA; MOS pairs are all unordered pairs
  of the batch's MOS items, ordered by s*, margin min(ALPHA, s*_i - s*_j), ties skipped. L_RANK is
  the mean of the two parts' means (over the parts that have pairs), so the N(N-1)/2 MOS pairs do
  not outweigh the 2B generated ones as the MOS batch grows.
- "cons": one mean over all quadruples and JND pairs together.
- "dt", "ds", "mr": summed over types / metrics (as in the paper), averaged over frames / pairs.
- "ds": only the rated types of a frame (its `rated` multi-hot: present, and with a strength) are
  regressed: an absent type has no strength to learn, and presence is L_DT's job; a type without
  a strength (the manifest's `strengthless_types`, e.g. reverse) has only noise as its label, so
  its column of the head gets no gradient. "clean" (type 0) is rated like any other, towards 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F

from ..measures import criteria
from .batch import QUAD_ORDER, Batch, Encoded, QuadBatch

GROUPS: Mapping[str, str] = {
    "quad": "generated quadruples",
    "mos": "MOS-rated recordings",
    "jnd": "JND-labelled pairs",
}
"""Batch groups, with how a log line names them."""

IK, IL, JK, JL = (QUAD_ORDER.index(k) for k in ("ik", "il", "jk", "jl"))


class LossModel(Protocol):
    """What the losses need from the network."""

    def score(self, z: torch.Tensor) -> torch.Tensor: ...

    def head(self, name: str, z: torch.Tensor, z_other: torch.Tensor | None = None) -> torch.Tensor: ...


LossFn = Callable[[LossModel, Encoded, Batch], "torch.Tensor | None"]


@dataclass(frozen=True)
class LossSpec:
    """One training loss: which batch groups feed it and how it is computed."""

    name: str
    needs: tuple[str, ...]
    """Batch groups that feed it; it runs when any of them is present."""
    fn: LossFn
    doc: str
    head: str
    """The model head this loss trains (the checkpoint records heads no active loss trained)."""
    needs_metrics: bool = False
    """True when it also needs at least one metric target (M > 0) in the generated data."""

    @property
    def label(self) -> str:
        """The paper's name, e.g. "L_MOS", for logs."""
        return f"L_{self.name.upper()}"


# ----------------------------------------------------------------------------- shared helpers


def _group(enc: Encoded, batch: Batch, name: str):
    """(latents, data) of one group, or None when absent; a half-present group is a caller bug."""
    z, data = getattr(enc, name), getattr(batch, name)
    if (z is None) != (data is None):
        raise ValueError(
            f"Encoded.{name} and Batch.{name} must be both present or both None, "
            f"got latents {'None' if z is None else 'present'} and data {'None' if data is None else 'present'}"
        )
    return None if z is None else (z, data)


@dataclass
class StepScores:
    """Scores of every latent of a step: quad (B, 4), mos (N,), jnd (N, 2); None where absent."""

    quad: torch.Tensor | None = None
    mos: torch.Tensor | None = None
    jnd: torch.Tensor | None = None


def _score_once(model: LossModel, enc: Encoded, batch: Batch) -> StepScores:
    """All scores in a single `model.score` call, so the score head's BatchNorm sees one batch."""
    present = [(g, found[0]) for g in GROUPS if (found := _group(enc, batch, g)) is not None]
    if not present:
        return StepScores()
    flat = [z.reshape(-1, z.shape[-1]) for _, z in present]
    scores = _wide(model.score(torch.cat(flat))).reshape(-1)
    parts = scores.split([f.shape[0] for f in flat])
    return StepScores(**{g: s.reshape(z.shape[:-1]) for (g, z), s in zip(present, parts)})


class _SharedScores:
    """A model proxy for one `compute_losses` call: L_MOS, L_RANK and L_CONS share one score pass."""

    def __init__(self, model: LossModel):
        self.model = model
        self._cache: tuple[Encoded, StepScores] | None = None

    def score(self, z: torch.Tensor) -> torch.Tensor:
        return self.model.score(z)

    def head(self, name: str, z: torch.Tensor, z_other: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.head(name, z, z_other)

    def step_scores(self, enc: Encoded, batch: Batch) -> StepScores:
        if self._cache is None or self._cache[0] is not enc:
            self._cache = (enc, _score_once(self.model, enc, batch))
        return self._cache[1]


def step_scores(model: LossModel, enc: Encoded, batch: Batch) -> StepScores:
    """Scores of every latent in `enc`, computed once per `compute_losses` call."""
    if isinstance(model, _SharedScores):
        return model.step_scores(enc, batch)
    return _score_once(model, enc, batch)


def _wide(x: torch.Tensor) -> torch.Tensor:
    """`x` in at least float32: losses stay accurate when the model runs under bf16/fp16 autocast."""
    return x if x.dtype in (torch.float32, torch.float64) else x.float()


def _flat(z: torch.Tensor) -> torch.Tensor:
    """(..., D) -> (K, D), the 2-D input the heads' BatchNorm expects."""
    return z.reshape(-1, z.shape[-1])


def _pairs(z: torch.Tensor, pairs: Iterable[tuple[int, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack the quadruple frame pairs (u, v) of (B, 4, D) latents into (P * B, D) each."""
    u, v = zip(*pairs)
    return tuple(z[:, list(ix)].transpose(0, 1).reshape(-1, z.shape[-1]) for ix in (u, v))


def _head(model: LossModel, name: str, z: torch.Tensor, z_other: torch.Tensor | None, shape: torch.Size) -> torch.Tensor:
    """Head outputs reshaped to `shape` (undoing the model's squeeze of single-output heads)."""
    return _wide(model.head(name, z, z_other)).reshape(shape)


def _frame_labels(quad: QuadBatch, i_name: str, j_name: str) -> torch.Tensor:
    """Per-frame (B, 4, V) labels: the x_i label for ik, il and the x_j label for jk, jl."""
    li, lj = getattr(quad, i_name), getattr(quad, j_name)
    by_frame = {"ik": li, "il": li, "jk": lj, "jl": lj}
    return torch.stack([by_frame[k] for k in QUAD_ORDER], dim=1)


def _mean_of_parts(parts: list[torch.Tensor]) -> torch.Tensor | None:
    """Mean of the non-empty parts' means; None when every part is empty."""
    means = [p.mean() for p in parts if p.numel() > 0]
    return torch.stack(means).mean() if means else None


# ----------------------------------------------------------------------------- the eight losses


def mos_loss(model: LossModel, enc: Encoded, batch: Batch) -> torch.Tensor | None:
    """Mean |s* - s| over the MOS items."""
    if _group(enc, batch, "mos") is None:
        return None
    s = step_scores(model, enc, batch).mos
    return criteria.mos_error(s, batch.mos.mos.to(s.dtype)).mean()


def mos_pair_hinges(s: torch.Tensor, mos: torch.Tensor, alpha: float = criteria.ALPHA) -> torch.Tensor:
    """Ranking hinges of all unordered pairs of MOS items with different s*.

    The higher-s* item is the better one, with margin min(alpha, |s*_a - s*_b|); tied pairs carry no
    order and are skipped. Returns one hinge per untied pair (possibly none).
    """
    a, b = torch.triu_indices(len(s), len(s), offset=1, device=s.device)
    gap = mos[a].to(s.dtype) - mos[b].to(s.dtype)
    keep = gap != 0
    a, b, gap = a[keep], b[keep], gap[keep]
    better, worse = torch.where(gap > 0, a, b), torch.where(gap > 0, b, a)
    return criteria.rank_hinge(s[better], s[worse], gap.abs().clip(max=alpha))


def rank_loss(model: LossModel, enc: Encoded, batch: Batch) -> torch.Tensor | None:
    """Mean of (generated-pair hinge mean, MOS-pair hinge mean), over the parts with pairs."""
    scores = step_scores(model, enc, batch)
    parts = []
    if scores.quad is not None:
        s = scores.quad
        parts.append(torch.cat([criteria.rank_hinge(s[:, IK], s[:, JK]), criteria.rank_hinge(s[:, IL], s[:, JL])]))
    if scores.mos is not None:
        parts.append(mos_pair_hinges(scores.mos, batch.mos.mos))
    return _mean_of_parts(parts)


def cons_loss(model: LossModel, enc: Encoded, batch: Batch) -> torch.Tensor | None:
    """Mean of `criteria.quadruple_consistency` per quadruple and `pair_consistency` per JND pair."""
    scores = step_scores(model, enc, batch)
    items = []
    if scores.quad is not None:
        s = scores.quad
        items.append(criteria.quadruple_consistency(s[:, IK], s[:, IL], s[:, JK], s[:, JL]))
    if scores.jnd is not None:
        s = scores.jnd
        items.append(criteria.pair_consistency(s[:, 0], s[:, 1], batch.jnd.label.to(s.dtype)))
    return torch.cat(items).mean() if items else None


SD_PAIRS = ((IK, IL, 1.0), (JK, JL, 1.0), (IK, JK, 0.0), (IL, JL, 0.0))
"""(u, v, same condition?) pairs of a quadruple for L_SD."""


def sd_loss(model: LossModel, enc: Encoded, batch: Batch) -> torch.Tensor | None:
    """BCE of head "sd": (ik, il), (jk, jl) share a condition, (ik, jk), (il, jl) do not."""
    group = _group(enc, batch, "quad")
    if group is None:
        return None
    z = group[0]
    z_u, z_v = _pairs(z, [(u, v) for u, v, _ in SD_PAIRS])
    target = torch.tensor([t for _, _, t in SD_PAIRS], device=z.device).repeat_interleave(z.shape[0])
    logits = _head(model, "sd", z_u, z_v, target.shape)
    return F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype))


def jnd_loss(model: LossModel, enc: Encoded, batch: Batch) -> torch.Tensor | None:
    """BCE of head "jnd" against the listeners' noticeable-difference label."""
    group = _group(enc, batch, "jnd")
    if group is None:
        return None
    z, jnd = group
    logits = _head(model, "jnd", z[:, 0], z[:, 1], jnd.label.shape)
    return F.binary_cross_entropy_with_logits(logits, jnd.label.to(logits.dtype))


def dt_loss(model: LossModel, enc: Encoded, batch: Batch) -> torch.Tensor | None:
    """Per-type BCE of head "dt" (types_i for x_i frames, types_j for x_j), summed over types, mean over frames."""
    group = _group(enc, batch, "quad")
    if group is None:
        return None
    z, quad = group
    target = _flat(_frame_labels(quad, "types_i", "types_j"))
    logits = _head(model, "dt", _flat(z), None, target.shape)
    return F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype), reduction="none").sum(-1).mean()


def ds_loss(model: LossModel, enc: Encoded, batch: Batch) -> torch.Tensor | None:
    """L1 of sigmoid(head "ds") to the strength of each rated type in a frame; sum over types, mean over frames."""
    group = _group(enc, batch, "quad")
    if group is None:
        return None
    z, quad = group
    target = _flat(_frame_labels(quad, "strength_i", "strength_j"))
    rated = _flat(_frame_labels(quad, "rated_i", "rated_j")) > 0
    estimate = torch.sigmoid(_head(model, "ds", _flat(z), None, target.shape))
    target = target.to(estimate.dtype)
    error = torch.where(rated, (estimate - target.masked_fill(~rated, 0.0)).abs(), 0.0)
    return error.sum(-1).mean()


MR_PAIRS = ((IK, JK), (IL, JL))
"""The (x_i, x_j) pairs of a quadruple that the metric targets describe."""


def mr_loss(model: LossModel, enc: Encoded, batch: Batch) -> torch.Tensor | None:
    """L1 of head "mr"(z_i, z_j) to each existing normalised metric target; sum over metrics, mean over pairs."""
    group = _group(enc, batch, "quad")
    if group is None or group[1].metrics.shape[-1] == 0:
        return None
    z, quad = group
    z_i, z_j = _pairs(z, MR_PAIRS)
    target = quad.metrics.repeat(len(MR_PAIRS), 1)
    mask = quad.metrics_mask.bool().repeat(len(MR_PAIRS), 1)
    estimate = _head(model, "mr", z_i, z_j, target.shape)
    target = target.to(estimate.dtype)
    error = torch.where(mask, (estimate - target.masked_fill(~mask, 0.0)).abs(), 0.0)
    return error.sum(-1).mean()


LOSSES: tuple[LossSpec, ...] = (
    LossSpec("mos", ("mos",), mos_loss, "L1 between predicted score and MOS.", "score"),
    LossSpec("rank", ("quad", "mos"), rank_loss, "Margin ranking of generated pairs and of MOS-ordered pairs.", "score"),
    LossSpec("cons", ("quad", "jnd"), cons_loss, "Score consistency of quadruples and JND pairs.", "score"),
    LossSpec("sd", ("quad",), sd_loss, "Same/different degradation condition of frame pairs (BCE).", "sd"),
    LossSpec("jnd", ("jnd",), jnd_loss, "Just-noticeable difference of human-judged pairs (BCE).", "jnd"),
    LossSpec("dt", ("quad",), dt_loss, "Degradation types present in a frame, clean included (per-type BCE).", "dt"),
    LossSpec("ds", ("quad",), ds_loss, "Strength of each present degradation type (L1).", "ds"),
    LossSpec("mr", ("quad",), mr_loss, "Normalised reference-based metrics of (x_i, x_j) (L1).", "mr", needs_metrics=True),
)
"""The paper's losses, in its order."""

LOSS_NAMES: tuple[str, ...] = tuple(spec.name for spec in LOSSES)


# ----------------------------------------------------------------------------- selection and evaluation


def select_losses(without: Iterable[str] = ()) -> tuple[LossSpec, ...]:
    """The losses to train with: all of LOSSES except those named in `without` (case-insensitive)."""
    dropped = {name.strip().lower() for name in without}
    unknown = sorted(dropped - set(LOSS_NAMES))
    if unknown:
        raise ValueError(f"without: unknown loss name(s) {unknown}; valid names are {list(LOSS_NAMES)}")
    kept = tuple(spec for spec in LOSSES if spec.name not in dropped)
    if not kept:
        raise ValueError(f"without: must leave at least one loss, got all of {sorted(dropped)}")
    return kept


def check_loss_weights(weights: Iterable[tuple[str, float]]) -> dict[str, float]:
    """{loss name: weight} of a run's (name, weight) pairs; a loss not named weighs 1.

    Raises ValueError naming the loss when a name is unknown or given twice, or a weight is not a
    finite number >= 0.
    """
    out: dict[str, float] = {}
    for name, weight in weights:
        if name not in LOSS_NAMES:
            raise ValueError(f"loss_weights: unknown loss name {name!r}; valid names are {list(LOSS_NAMES)}")
        if name in out:
            raise ValueError(f"loss_weights: {name!r} is given twice")
        if not (math.isfinite(weight) and weight >= 0):
            raise ValueError(f"loss_weights: the weight of {name!r} must be a finite number >= 0, got {weight!r}")
        out[name] = float(weight)
    return out


def weighted_total(losses: Mapping[str, torch.Tensor], weights: Mapping[str, float]) -> torch.Tensor:
    """The step loss: each loss times its weight (1 unless given), summed."""
    return sum(weights.get(name, 1.0) * value for name, value in losses.items())  # type: ignore[return-value]


def compute_losses(specs: Iterable[LossSpec], model: LossModel, enc: Encoded, batch: Batch) -> dict[str, torch.Tensor]:
    """Every loss in `specs` that has data in this batch, by name (in `specs` order); the step loss is their sum."""
    shared = _SharedScores(model)
    out: dict[str, torch.Tensor] = {}
    for spec in specs:
        if all(getattr(batch, g) is None for g in spec.needs):
            continue
        value = spec.fn(shared, enc, batch)
        if value is not None:
            out[spec.name] = value
    return out


def untrained_heads(specs: Iterable[LossSpec], inactive: dict[str, str], heads: Iterable[str]) -> dict[str, str]:
    """{head: why} for each of `heads` that no loss among `specs` (less the `inactive` ones) trains.

    `specs` are the selected losses (after --without), `inactive` what `inactive_losses` found.
    """
    specs = tuple(specs)
    out: dict[str, str] = {}
    for head in heads:
        if any(s.head == head and s.name not in inactive for s in specs):
            continue
        reasons = [f"{s.label} {inactive[s.name]}" for s in specs if s.head == head and s.name in inactive]
        off = [f"L_{s.name.upper()}" for s in LOSSES if s.head == head and s not in specs]
        if off:
            reasons.append(f"{', '.join(off)} switched off (--without)")
        out[head] = "; ".join(reasons)
    return out


def inactive_losses(specs: Iterable[LossSpec], groups: Iterable[str], n_metrics: int | None = None) -> dict[str, str]:
    """Losses among `specs` that can never run given the batch groups a run has, with why, by name.

    `groups` is a subset of GROUPS' keys; `n_metrics` (M), when known, lets a run without metric
    targets report L_MR as inactive too.
    """
    groups = set(groups)
    unknown = sorted(groups - set(GROUPS))
    if unknown:
        raise ValueError(f"groups: unknown batch group(s) {unknown}; valid groups are {list(GROUPS)}")
    reasons: dict[str, str] = {}
    for spec in specs:
        if not groups & set(spec.needs):
            reasons[spec.name] = f"needs {' or '.join(GROUPS[g] for g in spec.needs)}, and this run has none"
        elif spec.needs_metrics and n_metrics == 0:
            reasons[spec.name] = "needs metric targets, and the generated data has none"
    return reasons
