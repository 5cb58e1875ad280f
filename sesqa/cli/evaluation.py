"""Commands that measure a model: sweep, evaluate (k-fold too), latent."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import LOSS_WEIGHT_HELP, MODEL_HELP, POOL_HELP, app, exit_paused, fail, model_line, open_scorer_or_exit, parse_loss_weights


def _parse_floats(text: str, option: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated numbers, got {text!r}", param_hint=option) from None


@app.command()
def sweep(
    clips: Annotated[list[Path], typer.Argument(help="Clean recordings (files, directories or list files) to degrade.", show_default=False)],
    model: Annotated[Optional[str], typer.Option(help=MODEL_HELP)] = None,
    types: Annotated[str, typer.Option(help="Comma-separated degradation types (`sesqa degradations --pool all`); default: every type of --pool.")] = "",
    pool: Annotated[str, typer.Option(help=POOL_HELP)] = "paper",
    strengths: Annotated[str, typer.Option(help="Comma-separated strengths in [0, 1].")] = "0.1,0.3,0.5,0.7,0.9",
    seed: Annotated[int, typer.Option(help="Seed of the degradation parameters.")] = 0,
    noise: Annotated[Optional[list[Path]], typer.Option(help="Noise directory for the additive-noise types (repeatable). Default: the bundled noise.")] = None,
    max_seconds: Annotated[float, typer.Option(help="Use at most this many seconds from the start of each clip.")] = 4.0,
    csv_out: Annotated[Optional[Path], typer.Option("--csv", help="Write every score: clip, type, strength, score, params (JSON).")] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Folder for sweep.png, score against strength per type.")] = None,
    save_audio: Annotated[Optional[Path], typer.Option(help="Folder for every degraded clip as a WAV, to listen to.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    precision: Annotated[str, typer.Option(help="fp32 or bf16 (autocast).")] = "fp32",
) -> None:
    """Score clean clips degraded by each degradation at growing strength (the paper's figure 4).

    Exit status: 0 when at least one clip was scored, 1 when none could be, 2 for bad options.
    """
    from ..evaluation.sweep import SweepConfig, run_sweep, sweep_progress
    from ..generator.degradations.pools import MissingEncoderError, check_encoders
    from ..scoring.paths import find_audio

    files, problems = find_audio(clips)
    for path, reason in problems:
        typer.echo(f"error: {path}: {reason}", err=True)
    try:
        config = SweepConfig(
            clips=tuple(files),
            types=tuple(t.strip() for t in types.split(",") if t.strip()),
            pool=pool,
            strengths=_parse_floats(strengths, "--strengths"),
            seed=seed,
            noise=tuple(noise or ()),
            max_seconds=max_seconds,
            save_audio=save_audio,
        )
        check_encoders(config.pool)
    except (ValueError, MissingEncoderError) as e:
        fail(e)
    scorer = open_scorer_or_exit(model, device=device, precision=precision)
    with sweep_progress(config) as tick:
        result = run_sweep(scorer, config, progress=tick)
    typer.echo(model_line(model, scorer))
    typer.echo(result.table())
    try:
        if csv_out is not None:
            result.write_csv(csv_out)
        if plot is not None:
            typer.echo(f"figure: {result.plot(plot / 'sweep.png')}")
    except (OSError, ImportError) as e:
        fail(e)
    if not result.clean_scores().size:
        raise typer.Exit(1)


@app.command()
def evaluate(
    pred: Annotated[Optional[Path], typer.Option(help="Predictions CSV (from `sesqa score`, NISQA, DNSMOS, a VoiceMOS answer file): path plus score column.")] = None,
    pred_column: Annotated[Optional[str], typer.Option(help="Score column of --pred when it is not found by name (e.g. P808_MOS).")] = None,
    model: Annotated[Optional[str], typer.Option(help="Checkpoint that scores the audio on the fly (or the packaged model: default); needed for --shards. Used when --pred is absent.")] = None,
    labels: Annotated[Optional[Path], typer.Option(help="MOS labels: path,mos[,system] CSV, a NISQA corpus CSV or a BVCC list.")] = None,
    pairs: Annotated[Optional[Path], typer.Option(help="Ordered pairs CSV better,worse (R_RANK).")] = None,
    shards: Annotated[Optional[Path], typer.Option(help="Generated shards directory: R_RANK and L_CONS on its quadruples (needs a model). With --kfold: generated training data.")] = None,
    split: Annotated[str, typer.Option(help="Shard split to evaluate: test, valid or train.")] = "test",
    max_quadruples: Annotated[Optional[int], typer.Option(help="Evaluate at most this many quadruples (default: all).", min=1)] = None,
    strengths: Annotated[Optional[Path], typer.Option(metavar="CSV", help="CSV path,type,strength of degraded files for the score-vs-strength figure (type 'clean' for references).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Write the report as JSON (and per-file scores beside it, <stem>.<predictor>.csv).")] = None,
    boot: Annotated[int, typer.Option(help="Bootstrap resamples for the 95 % intervals (0: none).", min=0)] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap (and of the k-fold split and training).")] = 0,
    plot: Annotated[Optional[Path], typer.Option(help="Folder for PNG figures: scatter-*, strength-*, time-*.")] = None,
    peer: Annotated[Optional[str], typer.Option(help="Also score the same files with a peer model and report it beside: dnsmos (needs the peer extra: speechmos) or distillmos (pip install --no-deps distillmos==0.9.1 xls-r-sqa==0.1.0).")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    precision: Annotated[str, typer.Option(help="Scoring precision: fp32 or bf16 (autocast).")] = "fp32",
    batch_size: Annotated[int, typer.Option(help="Frames per model call when scoring files.", min=1)] = 32,
    kfold: Annotated[Optional[int], typer.Option(help="K-fold cross-validation on --labels: train on K-1 folds, score the held-out one, pool (split by system).", min=2)] = None,
    runs: Annotated[Optional[Path], typer.Option(help="--kfold: folder for the fold-k/ training runs (default: --out without its suffix).")] = None,
    init: Annotated[Optional[str], typer.Option(help="--kfold: start each fold from this checkpoint (or the packaged model: default).")] = None,
    steps: Annotated[Optional[int], typer.Option(help="--kfold: training steps per fold (default: 5 epochs).", min=1)] = None,
    model_size: Annotated[str, typer.Option(help="--kfold: encoder size without --init: paper, small, tiny.")] = "paper",
    train_batch_size: Annotated[int, typer.Option(help="--kfold: training batch size.", min=1)] = 16,
    jnd: Annotated[Optional[list[Path]], typer.Option(help="--kfold: JND pairs each fold trains with: path_a,path_b,label or a PerceptualAudio list (repeatable).")] = None,
    loss_weight: Annotated[str, typer.Option(help="--kfold: " + LOSS_WEIGHT_HELP, metavar="NAME=W,...")] = "",
    lr: Annotated[Optional[float], typer.Option(help="--kfold: the folds' learning rate (default: sesqa train's, 1e-3); e.g. 2e-4 to fine-tune a trained --init.")] = None,
) -> None:
    """Evaluate predictions (or a model) against MOS labels, ordered pairs and/or generated quadruples.

    Prints L_MOS, MSE, LCC, SRCC, KTAU (utterance and system level), R_RANK, L_CONS and E_TOTAL with
    bootstrap 95 % intervals. Exit status: 0 on success, 2 for bad options or unusable input.
    """
    from ..evaluation.run.config import EvaluateConfig
    from ..evaluation.evaluate import format_run, run_evaluate
    from ..evaluation.peers import PeerUnavailable
    from ..evaluation.plots import PlotsUnavailable
    from ..runtime.pause import TrainingPaused

    try:
        config = EvaluateConfig(
            pred=pred, pred_column=pred_column, model=model, labels=labels, pairs=pairs,
            shards=shards if kfold is None else None, train_shards=shards if kfold is not None else None,
            split=split, max_quadruples=max_quadruples, strengths=strengths, out=out, n_boot=boot, seed=seed,
            plot=plot, peer=peer, device=device, precision=precision, batch_size=batch_size, kfold=kfold, runs=runs,
            init=init, steps=steps, model_size=model_size, train_batch_size=train_batch_size, jnd=tuple(jnd or ()),
            loss_weights=parse_loss_weights(loss_weight), train_lr=lr,
            progress=True,  # the k-fold training runs: bars on a terminal, lines elsewhere, none under --quiet
        )
        run = run_evaluate(config)
    except TrainingPaused as e:  # a --kfold fold
        exit_paused(e, "run the same command again: finished folds are kept and this one resumes")
    except (ValueError, OSError, PeerUnavailable, PlotsUnavailable) as e:
        fail(e)
    typer.echo(format_run(run))


@app.command()
def latent(
    shards: Annotated[Path, typer.Option(help="Generated shards directory (`sesqa generate`): its quadruples are embedded.", show_default=False)],
    out: Annotated[Path, typer.Option(help="Folder for latent-distances.png/.csv and latent-tsne.png/.csv.", show_default=False)],
    split: Annotated[str, typer.Option(help="Shard split to embed: test, valid or train.")] = "test",
    model: Annotated[Optional[str], typer.Option(help=MODEL_HELP + " An .onnx export works too.")] = None,
    max_quadruples: Annotated[int, typer.Option(help="Embed at most this many quadruples, in shard order (4 frames each).", min=2)] = 1000,
    types: Annotated[str, typer.Option(help="Comma-separated degradation types for the t-SNE figure ('clean' included); default: the 8 most frequent plus clean.")] = "",
    seed: Annotated[int, typer.Option(help="Seed of the different-utterance pairs and of t-SNE.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    precision: Annotated[str, typer.Option(help="fp32 or bf16 (autocast).")] = "fp32",
) -> None:
    """Draw a model's latent space on generated quadruples: distance densities and t-SNE (the paper's Figs. 2 and 3).

    Exit status: 0 when both figures were written, 2 for bad options or unusable shards.
    """
    from ..evaluation.latent.space import LatentConfig, run_latent
    from ..runtime.plotting import PlotsUnavailable

    try:
        config = LatentConfig(
            shards=shards, out=out, split=split, max_quadruples=max_quadruples,
            types=tuple(t.strip() for t in types.split(",") if t.strip()), seed=seed,
        )  # fmt: skip
    except ValueError as e:
        fail(e)
    scorer = open_scorer_or_exit(model, device=device, precision=precision)
    try:
        run = run_latent(scorer.backend, config)
    except (ValueError, OSError, PlotsUnavailable) as e:
        fail(e)
    typer.echo(model_line(model, scorer))
    typer.echo(run.table())
    for path in run.written:
        typer.echo(f"wrote {path}")
