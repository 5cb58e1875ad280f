"""Commands that make a model: train, export, ablate (Table 2: one training run per loss left out)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import LOSS_WEIGHT_HELP, app, exit_paused, fail, log_to_stderr, output, parse_loss_weights


def _parse_without(text: str) -> tuple[str, ...]:
    return tuple(n.strip().lower().removeprefix("l_") for n in text.split(",") if n.strip())


@app.command()
def train(
    out: Annotated[Path, typer.Option(help="Run folder: checkpoints (last.ckpt, best.ckpt), config.json, CSV and TensorBoard logs.")],
    shards: Annotated[Optional[Path], typer.Option(help="Generated shards directory (from `sesqa generate`).")] = None,
    steps: Annotated[Optional[int], typer.Option(help="Training steps (default: 5 epochs).")] = None,
    epochs: Annotated[Optional[float], typer.Option(help="Passes over the generated training data (default 5).")] = None,
    batch_size: Annotated[int, typer.Option(help="Quadruples per step (4 frames each).")] = 16,
    mos: Annotated[Optional[list[Path]], typer.Option(help="MOS CSV: path,mos[,system][,dataset], a NISQA corpus CSV or a VoiceMOS list (repeatable).")] = None,
    valid_mos: Annotated[Optional[list[Path]], typer.Option(help="Held-out MOS CSV for validation (default: 10 % of the --mos items).")] = None,
    jnd: Annotated[Optional[list[Path]], typer.Option(help="JND pairs: path_a,path_b,label or a PerceptualAudio list (repeatable).")] = None,
    valid: Annotated[Optional[Path], typer.Option(help="Directory with valid-*.tar (default: the --shards directory).")] = None,
    without: Annotated[str, typer.Option(help="Losses to switch off, e.g. rank,cons (mos, rank, cons, sd, jnd, dt, ds, mr).")] = "",
    loss_weight: Annotated[str, typer.Option(help=LOSS_WEIGHT_HELP, metavar="NAME=W,...")] = "",
    init: Annotated[Optional[Path], typer.Option(help="Start from this checkpoint's weights, or the packaged model's (default): fine-tuning, calibration.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --out exactly where its last checkpoint left it.")] = False,
    model_size: Annotated[str, typer.Option(help="Encoder size: paper (7.2 M parameters), small, tiny.")] = "paper",
    lr: Annotated[float, typer.Option(help="RangerQH learning rate (x1/5 at 70 % and 90 % of the steps).")] = 1e-3,
    seed: Annotated[int, typer.Option(help="Same seed and data, same run (0 <= seed < 2**63).")] = 0,
    checkpoint_every: Annotated[int, typer.Option(help="Write last.ckpt every N steps.")] = 500,
    log_every: Annotated[int, typer.Option(help="Average and log the losses every N steps.")] = 10,
    workers: Annotated[int, typer.Option(help="Processes decoding shards (0: none).")] = 1,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    precision: Annotated[str, typer.Option(help="auto (bf16 where the hardware computes it natively: GPUs that support it, CPUs with AVX512-BF16 or AMX; else fp32), fp32, or bf16 (autocast on any device, CPUs without native bf16 included). Validation always scores in fp32.", metavar="auto|fp32|bf16")] = "auto",
    swa: Annotated[bool, typer.Option(help="Stochastic weight averaging over the last epoch.")] = True,
    front_end: Annotated[bool, typer.Option(help="The model's input front-end: DC and sub-audio removed, level and polarity fixed per frame, so gain, polarity and DC cannot move the score (also switched on for a model --init'ed from an older checkpoint).")] = True,
) -> None:
    """Train the SESQA model on generated shards plus optional MOS and JND data (validation figures are logged, INFO, unless --quiet).

    SIGTERM or Ctrl-C pauses the run: last.ckpt is written at the next log step and the command
    exits with status 75; --resume continues it exactly. A second signal stops at once.
    """
    from ..trainer import TrainConfig, TrainingPaused, train as run_train
    from ..trainer.validate import format_figures

    log_to_stderr(logging.INFO)
    try:
        config = TrainConfig(
            out=out, shards=shards, steps=steps, epochs=epochs, batch_size=batch_size,
            mos=tuple(mos or ()), valid_mos=tuple(valid_mos or ()), jnd=tuple(jnd or ()), valid=valid,
            without=_parse_without(without), loss_weights=parse_loss_weights(loss_weight), init=init, model_preset=model_size, lr=lr, seed=seed,
            checkpoint_every=checkpoint_every, log_every=log_every, workers=workers, device=device, precision=precision, swa=swa,
            front_end=front_end,
        )
        summary = run_train(config, resume=resume)
    except TrainingPaused as e:
        exit_paused(e, "continue with the same command and --resume")
    except (ValueError, FileNotFoundError) as e:
        fail(e)
    figures = format_figures(summary.last_valid) or "no validation data"
    typer.echo(f"{summary.steps} steps; validation: {figures}; checkpoints in {summary.out}")


_DTYPES = {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}


@app.command()
def export(
    checkpoint: Annotated[Path, typer.Argument(help="A checkpoint from `sesqa train` (last.ckpt or best.ckpt), or a packaged model's name.", show_default=False)],
    out: Annotated[Path, typer.Argument(help="The file to write.", show_default=False)],
    dtype: Annotated[str, typer.Option(help="Checkpoint weights as fp16 (half the size), bf16 or fp32 (an ONNX file is always fp32).")] = "fp16",
    onnx: Annotated[bool, typer.Option("--onnx", help="Write an ONNX file instead (OUT ends in .onnx): the fused network with its config as metadata, scored by onnxruntime without torch (docs/score.md).")] = False,
) -> None:
    """Write a checkpoint for sharing (weights only, no optimizer or resume state, fp16 by default) or, with --onnx, its ONNX export."""
    from ..scoring.default import resolve_model

    try:
        source = resolve_model(str(checkpoint))
    except (ValueError, FileNotFoundError) as e:
        fail(e)
    if onnx or out.suffix.lower() == ".onnx":
        from ..model.onnx_export import export_onnx

        try:
            export_onnx(source, out)
        except (ValueError, FileNotFoundError, OSError, RuntimeError) as e:
            fail(e)
        typer.echo(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, ONNX opset 17, fp32; checked against torch)")
        return
    import torch

    from ..model import export_checkpoint

    if dtype not in _DTYPES:
        fail(f"--dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
    try:
        export_checkpoint(source, out, weights_dtype=getattr(torch, _DTYPES[dtype]))
    except (ValueError, FileNotFoundError, OSError) as e:
        fail(e)
    typer.echo(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {dtype} weights; was {source.stat().st_size / 1e6:.1f} MB)")


@app.command()
def ablate(
    shards: Annotated[Path, typer.Option(help="Generated shards (train-, valid- and test-*.tar): every row trains on train, is evaluated on --split.")],
    out: Annotated[Path, typer.Option(help="Folder: rows/<row>/ training runs, ablation.csv and ablation.md.")],
    mos: Annotated[Optional[list[Path]], typer.Option(help="MOS CSV to train with (repeatable); rows that need it are n/a without it.")] = None,
    jnd: Annotated[Optional[list[Path]], typer.Option(help="JND pairs to train with (repeatable); the L_JND row is n/a without them.")] = None,
    labels: Annotated[Optional[Path], typer.Option(help="MOS CSV to evaluate each row on (L_MOS, and so E_TOTAL); keep it apart from --mos.")] = None,
    rows: Annotated[str, typer.Option(help="Rows to run, e.g. full,without-rank (default: all ten of Table 2).")] = "",
    steps: Annotated[int, typer.Option(help="Training steps per row.", min=1)] = 600,
    model_size: Annotated[str, typer.Option(help="Encoder size: paper, small, tiny.")] = "tiny",
    batch_size: Annotated[int, typer.Option(help="Quadruples per step.", min=1)] = 16,
    lr: Annotated[float, typer.Option(help="Learning rate, the same for every row.")] = 1e-3,
    seed: Annotated[int, typer.Option(help="One seed for every row's training and for the bootstrap.")] = 0,
    split: Annotated[str, typer.Option(help="Shard split the rows are evaluated on.")] = "test",
    max_quadruples: Annotated[Optional[int], typer.Option(help="Evaluate on at most this many quadruples of --split.", min=1)] = None,
    boot: Annotated[int, typer.Option(help="Bootstrap resamples per interval (0: none).", min=0)] = 1000,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    precision: Annotated[str, typer.Option(help="Training precision: auto, fp32 or bf16 (evaluation is fp32).", metavar="auto|fp32|bf16")] = "auto",
    workers: Annotated[int, typer.Option(help="Processes decoding shards per training run.")] = 1,
) -> None:
    """The paper's loss ablation (Table 2): one run per row on the same data, seed and schedule, each evaluated; resumable row by row."""
    from ..evaluation.ablation import AblateConfig, run_ablation, table_rows
    from ..runtime.pause import TrainingPaused

    log_to_stderr(logging.INFO)
    try:
        config = AblateConfig(
            shards=shards, out=out, mos=tuple(mos or ()), jnd=tuple(jnd or ()), labels=labels,
            rows=tuple(r.strip() for r in rows.split(",") if r.strip()), steps=steps, model_size=model_size,
            batch_size=batch_size, lr=lr, seed=seed, split=split, max_quadruples=max_quadruples, n_boot=boot,
            device=device, precision=precision, workers=workers,
        )  # fmt: skip
        results = run_ablation(config, progress=True, on_row=None if output().quiet else lambda r: typer.echo(" | ".join(table_rows([r])[0][:5]), err=True))
    except TrainingPaused as e:
        exit_paused(e, "run the same command again: finished rows are kept and this one resumes")
    except (ValueError, FileNotFoundError) as e:
        fail(e)
    for cells in table_rows(results):
        typer.echo(f"{cells[0]:<28} " + "  ".join(f"{c:<24}" for c in cells[1:5]) + (f"  ({cells[6]})" if cells[6] else ""))
    typer.echo(f"wrote {out / 'ablation.csv'} and {out / 'ablation.md'}")
