"""Validation during training: R_RANK and L_CONS on the valid split, L_MOS on held-out MOS items."""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from ..criteria import quadruple_consistency, wrong_order
from ..generator.metrics import RunningStats
from ..model import SesqaModel
from .config import TrainConfig
from .labelled import MosItem
from .quadruples import QuadrupleStream

log = logging.getLogger(__name__)


@torch.no_grad()
def quadruple_scores(model: SesqaModel, batches, device: torch.device, autocast: Callable[[], contextlib.AbstractContextManager]) -> np.ndarray:
    """(Q, 4) scores of the frames ik, il, jk, jl of every quadruple in `batches`."""
    model.eval()
    out = []
    for batch in batches:
        with autocast():
            out.append(model.score(model.encode(batch.frames.to(device))).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 4), np.float32)


def quadruple_figures(scores: np.ndarray) -> dict[str, float]:
    """R_RANK over the pairs (ik, jk) and (il, jl), and mean L_CONS, from (Q, 4) frame scores."""
    ik, il, jk, jl = scores.T
    r_rank = float(np.mean(np.concatenate([wrong_order(ik, jk), wrong_order(il, jl)])))
    l_cons = float(np.mean(quadruple_consistency(ik, il, jk, jl)))
    return {"r_rank": r_rank, "l_cons": l_cons}


@torch.no_grad()
def file_scores(model: SesqaModel, paths: Sequence[Path], device: torch.device, autocast, batch_size: int = 32) -> np.ndarray:
    """Mean frame score of each file (1 s frames, 0.5 s hop); NaN where a file cannot be read."""
    from ..audio import AudioError
    from ..scoring.windows import batched, iter_frames

    model.eval()
    out = np.full(len(paths), np.nan)
    for n, path in enumerate(paths):
        try:
            scores = []
            for _, frames in batched(iter_frames(path, frame_s=model.config.frame_samples / model.config.sample_rate, sr=model.config.sample_rate), batch_size):
                with autocast():
                    scores.append(model(torch.from_numpy(frames).to(device)).float().cpu().numpy())
            out[n] = float(np.mean(np.concatenate(scores)))
        except AudioError as e:
            log.warning("validation skips %s", e)
    return out


def validate(
    model: SesqaModel,
    config: TrainConfig,
    vocab: tuple[str, ...],
    metric_names: tuple[str, ...],
    stats: RunningStats | None,
    valid_mos: Sequence[MosItem] | None,
    device: torch.device,
    autocast: Callable[[], contextlib.AbstractContextManager],
) -> dict[str, float]:
    """The paper's validation figures that this run's data allows; E_TOTAL when all three exist."""
    values: dict[str, float] = {}
    valid_dir = config.valid_dir
    shards = sorted(Path(valid_dir).glob("valid-*.tar")) if valid_dir is not None else []
    if shards and stats is not None:
        stream = QuadrupleStream(shards, vocab, metric_names, stats, batch_size=32, seed=0, shuffle_buffer=0, augment=None, epoch=0, rank=0, world_size=1)
        n_batches = -(-config.valid_max_quadruples // 32)
        values.update(quadruple_figures(quadruple_scores(model, itertools.islice(stream, n_batches), device, autocast)[: config.valid_max_quadruples]))
    if valid_mos:
        predicted = file_scores(model, [item.path for item in valid_mos], device, autocast)
        truth = np.array([item.mos for item in valid_mos])
        ok = np.isfinite(predicted)
        if ok.any():
            values["l_mos"] = float(np.mean(np.abs(predicted[ok] - truth[ok])))
    if {"l_mos", "r_rank", "l_cons"} <= set(values):
        values["e_total"] = 0.5 * values["l_mos"] + values["r_rank"] + values["l_cons"]
    elif {"r_rank", "l_cons"} <= set(values):
        values["e_gen"] = values["r_rank"] + values["l_cons"]
    return values
