"""`sesqa train`: the SESQA training loop over generated quadruples, MOS items and JND pairs."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel

from ..runtime.device import autocast, resolve_precision
from ..runtime.files import PARTIAL_MARK, atomic_write_text
from ..labels import read_jnd, read_mos
from ..model import SesqaModel, load_checkpoint, save_checkpoint
from ..model.checkpoint import UNTRAINED_HEADS
from ..runtime.pause import PauseRequest, TrainingPaused, detach_worker
from ..runtime.progress import progress_bar
from ..scoring.default import resolve_model
from ..shards.manifest import FORMAT_1_DEGRADATION_TYPES, FORMAT_1_STRENGTHLESS_TYPES, read_strengthless, read_vocabulary
from ..shards.moments import RunningStats
from ..shards.stats import read_stats
from . import distributed
from .augment import Augment
from .batch import Batch
from .config import TrainConfig, front_end_fields
from .feeds import EpochFeed, encode_batch
from .labelled import JndStream, MosStream, split_holdout
from .losses import LossSpec, check_loss_weights, compute_losses, inactive_losses, select_losses, untrained_heads, weighted_total
from .optim import SwaAverager, make_optimizer, make_scheduler, recompute_batchnorm
from .quad_labels import vocabulary
from .quadruples import QuadrupleStream, holds_a_readable_sample
from .shard_plan import count_samples
from .runlog import RunLog
from .validate import current_keys, format_figures, validate

log = logging.getLogger(__name__)

LAST, BEST, CONFIG = "last.ckpt", "best.ckpt", "config.json"
SWA_BN_BATCHES = 32
"""Training batches run through the averaged model to recompute its BatchNorm statistics."""


class TrainStep(torch.nn.Module):
    """Model plus losses as one module, so DistributedDataParallel sees a single forward."""

    def __init__(self, model: SesqaModel, specs: tuple[LossSpec, ...]):
        super().__init__()
        self.model = model
        self.specs = specs

    def forward(self, batch: Batch) -> dict[str, torch.Tensor]:
        return compute_losses(self.specs, self.model, encode_batch(self.model, batch), batch)


@dataclass(frozen=True)
class TrainSummary:
    """What a finished (or already complete) run reports."""

    out: Path
    steps: int
    last_valid: dict[str, float]
    best_valid: dict[str, float]


def train(config: TrainConfig, resume: bool = False, progress: bool = True) -> TrainSummary:
    """Train (or resume) the run described by `config`; returns the final validation figures.

    Raises TrainingPaused when SIGTERM or Ctrl-C paused the run (last.ckpt written; resume it).
    """
    placement = distributed.setup(config.device)
    try:
        run = _Run(config, placement, resume, progress)
        summary = run.run()
        # Rank 0 still writes the last checkpoint after the others are done: a gloo rank that
        # leaves the group before every rank is there can abort at exit (SIGABRT), so wait for all.
        distributed.barrier(placement)
        if summary.steps < run.total_steps:
            raise TrainingPaused(summary.out, summary.steps, run.total_steps)
        return summary
    finally:
        distributed.teardown()


class _Run:
    def __init__(self, config: TrainConfig, placement: distributed.Placement, resume: bool, progress: bool):
        self.placement = placement
        self.out = Path(config.out)
        self.progress = progress and placement.is_main
        state = self._resume_state(config) if resume else None
        if state is None and (self.out / LAST).exists():
            raise ValueError(f"{self.out} already holds a run ({LAST}); pass --resume to continue it or choose another --out")
        self.config = config
        self.device = placement.device
        self.precision = resolve_precision(config.precision, self.device)
        self._seed_everything(config.seed + placement.rank)

        self._load_data()
        self.model = self._build_model(state)
        self.specs = select_losses(config.without)
        self.loss_weights = check_loss_weights(config.loss_weights)
        groups = {name for name, present in (("quad", self.quad_feed is not None), ("mos", self.mos_stream is not None), ("jnd", self.jnd_stream is not None)) if present}
        inactive = inactive_losses(self.specs, groups, n_metrics=len(self.metric_names))
        for name, reason in inactive.items():
            log.warning("L_%s is skipped: %s", name.upper(), reason)
        self.active = tuple(s for s in self.specs if s.name not in inactive)
        self.untrained_heads = untrained_heads(self.specs, inactive, self.model.heads)
        if not self.active:
            raise ValueError("no loss can run: every enabled loss lacks its data")

        self.step_module = TrainStep(self.model, self.active).to(self.device)
        self.model = self.step_module.model
        self.ddp = DistributedDataParallel(self.step_module, find_unused_parameters=True) if placement.distributed else None
        self.optimizer = make_optimizer(self.model.parameters(), lr=config.lr)
        self.scheduler = make_scheduler(self.optimizer, self.total_steps)
        self.swa = SwaAverager(self.model) if config.swa else None
        self.step = 0
        self.best: dict[str, float] = {}
        self.last_valid: dict[str, float] = {}
        if state is not None:
            self._restore(state)

    # --- set-up -----------------------------------------------------------------------------

    def _resume_state(self, config: TrainConfig) -> dict[str, Any] | None:
        path = self.out / LAST
        if not path.exists():
            log.warning("%s: nothing to resume, starting a new run", path)
            return None
        ckpt = load_checkpoint(path)
        saved = TrainConfig.from_json(ckpt.extra["train_config"])
        if differences := config.resumable_with(saved):
            raise ValueError(f"{path}: cannot resume with different settings {differences}; they must match the saved run")
        return {"checkpoint": ckpt, **ckpt.extra}

    def _seed_everything(self, seed: int) -> None:
        torch.manual_seed(seed)
        random.seed(seed)

    def _load_data(self) -> None:
        c = self.config
        # The label vocabulary travels in the shards' manifests; train and valid must agree on it.
        directories = [d for d in (c.shards, c.valid) if d is not None]
        self.vocab = vocabulary(read_vocabulary(directories) if directories else FORMAT_1_DEGRADATION_TYPES)
        # So do the types without a strength (no strength label; the model records them for the scorer).
        strengthless = read_strengthless(directories) if directories else FORMAT_1_STRENGTHLESS_TYPES
        self.strengthless = tuple(t for t in strengthless if t in self.vocab)
        self.stats = None
        self.quad_feed = None
        self.steps_per_epoch = 0
        if c.shards is not None:
            shards = sorted(Path(c.shards).glob("train-*.tar"))
            if not shards:
                raise ValueError(f"{c.shards}: no train-*.tar shards (run `sesqa generate --out {c.shards}` first)")
            try:
                self.stats = read_stats(Path(c.shards))
            except FileNotFoundError:
                raise ValueError(f"{c.shards}: no stats.json; the train split is incomplete (run `sesqa generate` again to finish it)") from None
            self.train_shards = shards
            n_train = count_samples(shards)
            self.steps_per_epoch = max(1, math.ceil(n_train / (c.batch_size * self.placement.world_size)))
            log.info("%d training quadruples in %d shards: %d steps per epoch", n_train, len(shards), self.steps_per_epoch)
        self.metric_names = tuple(self.stats.names) if self.stats is not None else ()
        if c.shards is not None and not holds_a_readable_sample(self.train_shards, self.vocab, self.metric_names, self.stats):
            raise ValueError(
                f"{c.shards}: no readable quadruple in its {len(self.train_shards)} train-*.tar shards (every sample is "
                f"damaged or incomplete; the warnings above name them): run `sesqa shards check {c.shards}`, then generate them again"
            )
        self.augment = Augment() if c.augment else None

        self.mos_stream = self.valid_mos = None
        self.unreadable_mos: set[str] = set()  # held-out MOS files validation has warned about (once each)
        if c.mos:
            items = [item for path in c.mos for item in read_mos(path, skip_missing=True)]
            if c.valid_mos:
                train_items, self.valid_mos = items, [i for p in c.valid_mos for i in read_mos(p, skip_missing=True)]
            else:
                train_items, self.valid_mos = split_holdout(items, fraction=0.1)
            self.mos_stream = MosStream(train_items, batch_size=c.effective_mos_batch_size, seed=c.seed + 1000 * self.placement.rank + 1, augment=self.augment)
            log.info("%d MOS items for training, %d held out for validation", len(train_items), len(self.valid_mos))
            if not self.steps_per_epoch:
                self.steps_per_epoch = max(1, math.ceil(len(train_items) / (c.effective_mos_batch_size * self.placement.world_size)))
        self.jnd_stream = None
        if c.jnd:
            pairs = [p for path in c.jnd for p in read_jnd(path, skip_missing=True)]
            self.jnd_stream = JndStream(pairs, batch_size=c.effective_jnd_batch_size, seed=c.seed + 1000 * self.placement.rank + 2, augment=self.augment)
        if c.shards is not None:
            self.quad_feed = EpochFeed(self._quad_pass)
        self.total_steps = c.steps or max(1, round((c.epochs or 5.0) * self.steps_per_epoch))
        self.swa_start = self.total_steps - min(self.steps_per_epoch, self.total_steps // 4)

    def _quad_pass(self, epoch: int, skip: int):
        c = self.config
        stream = QuadrupleStream(
            self.train_shards, self.vocab, self.metric_names, self.stats,
            batch_size=c.batch_size, seed=c.seed, shuffle_buffer=c.shuffle_buffer,
            augment=self.augment, epoch=epoch, skip_batches=skip, strengthless_types=self.strengthless,
        )
        return torch.utils.data.DataLoader(stream, batch_size=None, num_workers=c.workers, worker_init_fn=detach_worker)

    def _build_model(self, state: dict[str, Any] | None) -> SesqaModel:
        c = self.config
        if state is not None:
            return state["checkpoint"].model.train()
        if c.init is None:
            return SesqaModel(c.model_config(self.vocab, self.metric_names, self.strengthless))
        source = load_checkpoint(resolve_model(c.init))
        if self.stats is None and source.metric_stats is not None:
            # Calibrating on MOS alone: keep the source's metric head and its normalisation.
            self.stats = RunningStats.from_json(source.metric_stats)
            self.metric_names = source.config.metric_names
        if c.shards is None and c.valid is None:
            # No shards to name the degradation types: keep the source's, so its type heads stay whole.
            self.vocab, self.strengthless = source.config.degradation_types, source.config.strengthless
        model = SesqaModel(replace(
            source.config, degradation_types=self.vocab, metric_names=self.metric_names, strengthless_types=self.strengthless,
            **front_end_fields(c.front_end),
        ))
        _load_fitting(model, source.model.state_dict(), c.init, source.config.degradation_types)
        return model

    def _restore(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step = int(state["step"])
        self.best = current_keys(state.get("best", {}))  # "e_gen" in runs from before E_TOTAL was its name
        self.last_valid = current_keys(state.get("last_valid", {}))
        mine = state["ranks"][self.placement.rank] if len(state["ranks"]) == self.placement.world_size else None
        if mine is None:
            raise ValueError(f"{self.out / LAST}: saved by {len(state['ranks'])} processes, resumed with {self.placement.world_size}")
        if self.quad_feed is not None:
            self.quad_feed = EpochFeed(self._quad_pass, **mine["quad"])
        if self.mos_stream is not None:
            self.mos_stream.restore(mine["mos"])
        if self.jnd_stream is not None:
            self.jnd_stream.restore(mine["jnd"])
        torch.set_rng_state(mine["torch_rng"])
        if self.swa is not None and state.get("swa") is not None:
            self.swa.load_state_dict(state["swa"])
        log.info("resumed %s at step %d of %d", self.out, self.step, self.total_steps)

    # --- the loop ---------------------------------------------------------------------------

    def run(self) -> TrainSummary:
        c = self.config
        if self.placement.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            _remove_leftovers(self.out)
            atomic_write_text(self.out / CONFIG, json.dumps(c.to_json(), indent=2) + "\n")
        runlog = RunLog(self.out, resume_step=self.step) if self.placement.is_main else None
        sums: dict[str, float] = defaultdict(float)
        count = 0
        try:
            with PauseRequest() as pause, progress_bar(self.total_steps, enabled=self.progress, initial=self.step, desc="train", unit="step") as bar:
                while self.step < self.total_steps:
                    values = self._train_step()
                    self.step += 1
                    for k, v in values.items():
                        sums[k] += v
                    count += 1
                    bar.update(1)
                    bar.set_postfix({k: f"{v:.3f}" for k, v in values.items()}, refresh=False)
                    if self.step % c.log_every == 0 or self.step == self.total_steps:
                        if runlog is not None:
                            runlog.write("train", self.step, {"epoch": self.step / self.steps_per_epoch, "lr": self.scheduler.get_last_lr()[0], **{k: s / count for k, s in sums.items()}})
                        sums, count = defaultdict(float), 0
                    if self.step == self.total_steps:
                        self._finish_swa()
                    if self.step % self.steps_per_epoch == 0 or self.step == self.total_steps:
                        self._validate(runlog)
                    if self.step % c.checkpoint_every == 0 or self.step == self.total_steps:
                        self._save(LAST)
                    if self.step < self.total_steps and self.step % c.log_every == 0 and distributed.broadcast(pause.requested, self.placement):
                        if self.step % c.checkpoint_every:
                            self._save(LAST)
                        break  # train() raises TrainingPaused, which says where and how to go on
        finally:
            if runlog is not None:
                runlog.close()
        return TrainSummary(self.out, self.step, self.last_valid, self.best)

    def _next_batch(self) -> Batch:
        return Batch(
            quad=next(self.quad_feed) if self.quad_feed is not None else None,
            mos=next(self.mos_stream) if self.mos_stream is not None else None,
            jnd=next(self.jnd_stream) if self.jnd_stream is not None else None,
        ).to(self.device)

    def _train_step(self) -> dict[str, float]:
        self.model.train()
        batch = self._next_batch()
        forward = self.ddp or self.step_module
        with self._autocast():
            losses = forward(batch)
        total = weighted_total(losses, self.loss_weights)
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        self.optimizer.step()
        self.scheduler.step()
        if self.swa is not None and self.step + 1 > self.swa_start:
            self.swa.update(self.model)
        values = {k: float(v.detach()) for k, v in losses.items()}
        values["total"] = float(total.detach())
        if not all(math.isfinite(v) for v in values.values()):
            raise FloatingPointError(f"step {self.step + 1}: a loss is not finite: {values}")
        return values

    def _autocast(self) -> contextlib.AbstractContextManager:
        return autocast(self.device, self.precision)

    def _finish_swa(self) -> None:
        """Load the averaged weights and recompute BatchNorm statistics on training batches."""
        if self.swa is None or self.swa.count == 0:
            return
        self.model.load_state_dict(self.swa.averaged_state_dict())
        batches = [self._next_batch() for _ in range(SWA_BN_BATCHES)]

        def forward(batch: Batch) -> None:
            with self._autocast():
                self.step_module(batch)

        recompute_batchnorm(self.model, batches, forward)
        log.info("stochastic weight averaging: %d snapshots averaged, BatchNorm statistics recomputed on %d batches", self.swa.count, len(batches))

    def _validate(self, runlog: RunLog | None) -> None:
        if self.placement.is_main:
            values = validate(
                self.model, self.config, self.vocab, self.metric_names, self.stats,
                valid_mos=self.valid_mos, device=self.device, warned=self.unreadable_mos,
            )
            self.last_valid = values
            if values:
                log.info("validation at step %d: %s", self.step, format_figures(values))
                if runlog is not None:
                    runlog.write("valid", self.step, values)
                key = next(k for k in ("e_total", "l_mos", *values) if k in values)
                if not self.best or values[key] < self.best.get(key, math.inf):
                    self.best = dict(values)
                    self._save(BEST, main_only=True)
        self.best = distributed.broadcast(self.best, self.placement)
        distributed.barrier(self.placement)

    def _save(self, name: str, main_only: bool = False) -> None:
        rank_state = {
            "quad": self.quad_feed.state() if self.quad_feed is not None else None,
            "mos": self.mos_stream.state() if self.mos_stream is not None else None,
            "jnd": self.jnd_stream.state() if self.jnd_stream is not None else None,
            "torch_rng": torch.get_rng_state(),
        }
        ranks = [rank_state] if main_only else distributed.gather(rank_state, self.placement)
        if not self.placement.is_main:
            return
        extra = {
            "train_config": self.config.to_json(),
            "step": self.step,
            "total_steps": self.total_steps,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "swa": self.swa.state_dict() if self.swa is not None else None,
            "ranks": ranks,
            "best": self.best,
            "last_valid": self.last_valid,
            UNTRAINED_HEADS: self.untrained_heads,
        }
        save_checkpoint(self.out / name, self.model, metric_stats=self.stats.to_json() if self.stats is not None else None, extra=extra)


def _remove_leftovers(out: Path) -> None:
    """Delete the temporary files of checkpoint writes that a kill cut short (`.last.ckpt.partial-*`).

    Every write is atomic (a temporary sibling renamed over the target), so a kill leaves the
    previous complete file in place and at most such a leftover, which no one will finish.
    """
    for name in (LAST, BEST, CONFIG):
        for stale in out.glob(f".{name}{PARTIAL_MARK}*"):
            stale.unlink(missing_ok=True)
            log.info("%s: removed the leftover of a write cut short by an earlier run", stale)


def _rows_by_name(source: torch.Tensor, source_types: tuple[str, ...], own: torch.Tensor, types: tuple[str, ...]) -> torch.Tensor:
    """`own` with each row of a type `source` also holds replaced by that row of `source`."""
    out = own.clone()
    where = {name: i for i, name in enumerate(source_types)}
    for i, name in enumerate(types):
        if name in where:
            out[i] = source[where[name]].to(out.dtype)
    return out


def _load_fitting(model: SesqaModel, source: dict[str, torch.Tensor], path: Path, source_types: tuple[str, ...]) -> None:
    """Start from another checkpoint's weights; tensors whose shape differs start fresh.

    Under another degradation-type vocabulary (`source_types` -> the model's), the rows of the
    type heads' outputs are carried over by type name, so the types both know keep what they learnt
    and only the new types' rows start fresh.
    """
    own = model.state_dict()
    if source.keys() != own.keys() and not set(own) & set(source):
        raise ValueError(f"{path}: its weights do not fit this model (no parameter in common)")
    types = model.config.degradation_types
    loaded, remapped, fresh = {}, [], []
    for k, v in own.items():
        if k in source and source[k].shape == v.shape:
            loaded[k] = source[k]
        elif k in source and source[k].shape[1:] == v.shape[1:] and (len(source[k]), len(v)) == (len(source_types), len(types)):
            loaded[k] = _rows_by_name(source[k], source_types, v, types)
            remapped.append(k)
        else:
            fresh.append(k)
    if remapped:
        log.info(
            "%s: another degradation vocabulary (%d types, now %d); the rows of the %d both hold carried over in %s",
            path, len(source_types), len(types), len(set(types) & set(source_types)), ", ".join(remapped),
        )
    model.load_state_dict({**own, **loaded})
    if fresh:
        log.warning("%s: %d tensors did not fit and start fresh: %s", path, len(fresh), ", ".join(fresh[:6]))
