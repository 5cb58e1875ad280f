"""Validation during training: R_RANK and L_CONS on the valid split, L_MOS on held-out MOS items.

Point values of the measures in `sesqa.measures.criteria`, the same functions `sesqa evaluate` uses (it adds
bootstrap intervals; validation does not need them).

Always scored in float32, whatever precision the run trains in: bf16 rounds scores near 3 to
steps of 1/64, and R_RANK counts a tie as a wrong order, so bf16 validation overstates R_RANK
(0.109 against 0.092 in float32 for the same model and quadruples). In float32 the figures equal
`sesqa evaluate`'s on the same split.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ..audio import AudioError
from ..measures.criteria import e_total, l_cons_quadruples, l_mos, r_rank_quadruples
from ..labels import MosItem
from ..shards.moments import RunningStats
from ..model import SesqaModel
from ..scoring.scorer import Scorer
from .config import TrainConfig
from .quadruples import QuadrupleStream

log = logging.getLogger(__name__)


@torch.no_grad()
def quadruple_scores(model: SesqaModel, batches, device: torch.device) -> np.ndarray:
    """(Q, 4) float32 scores of the frames ik, il, jk, jl of every quadruple in `batches`."""
    model.eval()
    out = []
    for batch in batches:
        out.append(model.score(model.encode(batch.frames.to(device))).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 4), np.float32)


def file_scores(model: SesqaModel, paths: Sequence[Path], device: torch.device, warned: set[str] | None = None) -> np.ndarray:
    """Each file's score as `sesqa score` gives it; NaN where a file cannot be read, with a warning
    the first time (`warned`: the files already named, kept by the caller across validations)."""
    warned = set() if warned is None else warned
    scorer = Scorer(model, device=str(device), precision="fp32")
    out = np.full(len(paths), np.nan)
    for n, path in enumerate(paths):
        try:
            out[n] = scorer.score(path).score
        except AudioError as e:
            (log.debug if str(path) in warned else log.warning)("validation skips %s", e)
            warned.add(str(path))
    return out


def validate(
    model: SesqaModel,
    config: TrainConfig,
    vocab: tuple[str, ...],
    metric_names: tuple[str, ...],
    stats: RunningStats | None,
    valid_mos: Sequence[MosItem] | None,
    device: torch.device,
    warned: set[str] | None = None,
) -> dict[str, float]:
    """The paper's validation figures that this run's data allows; E_TOTAL (R_RANK + L_CONS without MOS data)."""
    values: dict[str, float] = {}
    valid_dir = config.valid_dir
    shards = sorted(Path(valid_dir).glob("valid-*.tar")) if valid_dir is not None else []
    if shards and stats is not None:
        stream = QuadrupleStream(shards, vocab, metric_names, stats, batch_size=32, seed=0, shuffle_buffer=0, augment=None, epoch=0, rank=0, world_size=1)
        n_batches = -(-config.valid_max_quadruples // 32)
        scores = quadruple_scores(model, itertools.islice(stream, n_batches), device)[: config.valid_max_quadruples]
        values["r_rank"] = r_rank_quadruples(*scores.T)
        values["l_cons"] = l_cons_quadruples(*scores.T)
    if valid_mos:
        predicted = file_scores(model, [item.path for item in valid_mos], device, warned)
        truth = np.array([item.mos for item in valid_mos])
        ok = np.isfinite(predicted)
        if ok.any():
            values["l_mos"] = l_mos(predicted[ok], truth[ok])
    if {"l_mos", "r_rank", "l_cons"} <= set(values):
        values["e_total"] = e_total(values["l_mos"], values["r_rank"], values["l_cons"])
    elif {"r_rank", "l_cons"} <= set(values):
        values["e_total"] = values["r_rank"] + values["l_cons"]  # no MOS data: the L_MOS term is absent
    return values


FIGURE_NAMES = {"r_rank": "R_RANK", "l_cons": "L_CONS", "l_mos": "L_MOS", "e_total": "E_TOTAL"}
"""The docs' names (docs/evaluate.md) of the validation figures; the keys name valid.csv's columns."""

LEGACY_KEYS = {"e_gen": "e_total"}
"""Keys of older runs' checkpoints ("best", "last_valid") and valid.csv: R_RANK + L_CONS was "e_gen"."""


def current_keys(values: dict[str, float]) -> dict[str, float]:
    """`values` with the keys of older runs renamed, so a resumed run compares like with like."""
    return {LEGACY_KEYS.get(k, k): v for k, v in values.items()}


def format_figures(values: dict[str, float]) -> str:
    """'R_RANK 0.0920, L_CONS 0.0410, E_TOTAL 0.1330 (R_RANK + L_CONS: no MOS data)', as the docs name them."""
    values = current_keys(values)
    text = ", ".join(f"{FIGURE_NAMES.get(k, k.upper())} {v:.4f}" for k, v in values.items())
    return text + (" (R_RANK + L_CONS: no MOS data)" if "e_total" in values and "l_mos" not in values else "")
