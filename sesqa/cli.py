"""The `sesqa` command: parse options, then call one function per command."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import version
from .cli_help import PlainHelpGroup

POOL_HELP = "Degradation pool: paper (the paper's 37), telephony (codecs, packet loss, channels; docs/codecs.md) or all (both; weights in docs/generate.md)."
VERBOSE_HELP = "Log progress details (INFO) to stderr."

# Plain help (rich_markup_mode=None): Rich markup would eat "[plots]"; PlainHelpGroup names the values.
app = typer.Typer(help="sesqa: reference-free speech quality assessment (SESQA).", no_args_is_help=True, add_completion=False, rich_markup_mode=None, cls=PlainHelpGroup)
shards_app = typer.Typer(help="Inspect and verify quadruple shards.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(shards_app, name="shards")


def _print_version(value: bool) -> None:
    """--version: print `sesqa X.Y.Z` and exit 0, before any command runs (an eager option)."""
    if value:
        typer.echo(f"sesqa {version()}")
        raise typer.Exit()


@app.callback()
def _main(show_version: Annotated[bool, typer.Option("--version", "-V", callback=_print_version, is_eager=True, help="Print the version and exit.")] = False) -> None:
    """sesqa: reference-free speech quality assessment (SESQA)."""


def _setup_logging(verbose: bool, level: int = logging.WARNING) -> None:
    """Log `level` and up to stderr, one level more (INFO, DEBUG) with --verbose, never glued to a progress bar."""
    from .progress import setup_logging

    setup_logging(level - 10 if verbose else level)


def _model_line(model: Optional[str]) -> str:
    """'model: PATH' above a table: stdout sent to a file still says which model made it."""
    from .scoring.default import resolve_model

    packaged = f" (packaged default model, sesqa {version()})" if model in (None, "default") else ""
    return f"model: {resolve_model(model)}{packaged}"


def _parse_range(text: Optional[str]) -> Optional[tuple[int, int]]:
    if text is None:
        return None
    a, sep, b = text.partition(":")
    try:
        return int(a), int(b)
    except ValueError:
        raise typer.BadParameter(f"expected A:B with integers, got {text!r}", param_hint="--shard-range") from None


def _parse_ratios(text: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(v) for v in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3:
        raise typer.BadParameter(f"expected three numbers train,valid,test, got {text!r}", param_hint="--ratios")
    return parts  # type: ignore[return-value]


def _parse_metrics(text: str) -> tuple[str, ...]:
    from .generator.metrics import METRIC_NAMES

    if text == "all":
        return METRIC_NAMES
    if text == "none":
        return ()
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:  # "" would otherwise mean none, silently
        raise typer.BadParameter(f"names no measure ({text!r}); use --metrics none for no metric targets, all, or a comma list of {', '.join(METRIC_NAMES)}", param_hint="--metrics")
    if unknown := [n for n in names if n not in METRIC_NAMES]:
        raise typer.BadParameter(f"unknown measure(s) {unknown}; choose from all, none or {', '.join(METRIC_NAMES)}", param_hint="--metrics")
    return names


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Output directory for the shards and manifest.json.")] = Path("shards"),
    n: Annotated[int, typer.Option("--n", help="Quadruples in all splits together.")] = 70_000,
    clean: Annotated[Optional[list[Path]], typer.Option(help="Clean speech directory (one data set; repeat the option for more). Default: the bundled full-band speech (9 languages).")] = None,
    noise: Annotated[Optional[list[Path]], typer.Option(help="Noise directory (repeatable). Default: the bundled noise.")] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same shards, byte for byte (0 <= seed < 2**63).")] = 0,
    workers: Annotated[Optional[int], typer.Option(help="Worker processes (default: one per CPU this process may use).")] = None,
    shard_size: Annotated[int, typer.Option(help="Quadruples per shard.")] = 1000,
    shard_range: Annotated[Optional[str], typer.Option(help="Make only shards A:B of the global list (train, valid, test); default from SLURM_ARRAY_TASK_ID or RANK/WORLD_SIZE, else all.")] = None,
    split: Annotated[Optional[list[str]], typer.Option(help="Write only this split (repeatable): train, valid, test.")] = None,
    ratios: Annotated[str, typer.Option(help="Relative sizes train,valid,test (the paper's 50k/10k/10k).")] = "50,10,10",
    speaker_pattern: Annotated[Optional[str], typer.Option(help="Regex on the file path whose first group names the speaker; splits are then disjoint by speaker.")] = None,
    metrics: Annotated[str, typer.Option(help="Reference-based targets on each (x_i, x_j): all, none, or a comma list (see `sesqa metrics`).")] = "all",
    pool: Annotated[str, typer.Option(help=POOL_HELP)] = "paper",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details (INFO) to stderr and list every skipped input in the summary, not the first 20.")] = False,
) -> None:
    """Generate degraded quadruples from clean speech and noise into WebDataset shards."""
    from .generator.degradations.pools import MissingEncoderError
    from .generator.report import format_summary
    from .generator.run import GenerateConfig, generate as run_generate

    _setup_logging(verbose)
    kwargs = {} if workers is None else {"workers": workers}
    try:
        config = GenerateConfig(
            out=out,
            n=n,
            seed=seed,
            ratios=_parse_ratios(ratios),
            shard_size=shard_size,
            clean=tuple(clean or ()),
            noise=tuple(noise or ()),
            speaker_pattern=speaker_pattern,
            splits=tuple(split) if split else ("train", "valid", "test"),
            shard_range=_parse_range(shard_range),
            metrics=_parse_metrics(metrics),
            pool=pool,
            **kwargs,
        )
        summary = run_generate(config)
    except (ValueError, FileNotFoundError, MissingEncoderError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(format_summary(summary, verbose))


def _scorer_or_exit(model: Optional[str], **options):
    """The Scorer for --model (None: the packaged default), or exit 2 naming the problem."""
    from .scoring.scorer import open_scorer

    try:
        return open_scorer(model, **options)
    except (ValueError, FileNotFoundError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None


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
    init: Annotated[Optional[Path], typer.Option(help="Start from this checkpoint's weights (fine-tuning, calibration).")] = None,
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
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debugging details (DEBUG) to stderr; progress (INFO) is logged without it.")] = False,
) -> None:
    """Train the SESQA model on generated shards plus optional MOS and JND data."""
    from .trainer import TrainConfig, train as run_train
    from .trainer.validate import format_figures

    _setup_logging(verbose, logging.INFO)
    try:
        config = TrainConfig(
            out=out, shards=shards, steps=steps, epochs=epochs, batch_size=batch_size,
            mos=tuple(mos or ()), valid_mos=tuple(valid_mos or ()), jnd=tuple(jnd or ()), valid=valid,
            without=_parse_without(without), init=init, model_preset=model_size, lr=lr, seed=seed,
            checkpoint_every=checkpoint_every, log_every=log_every, workers=workers, device=device, precision=precision, swa=swa,
            front_end=front_end,
        )
        summary = run_train(config, resume=resume)
    except (ValueError, FileNotFoundError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    figures = format_figures(summary.last_valid) or "no validation data"
    typer.echo(f"{summary.steps} steps; validation: {figures}; checkpoints in {summary.out}")


@app.command()
def degradations(
    pool: Annotated[str, typer.Option(help=POOL_HELP)] = "paper",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List a pool's degradations with their weight and strength range; exit 1 if an encoder is missing."""
    from .generator.report import degradation_table

    try:
        rows = degradation_table(pool)
    except ValueError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        typer.echo(f"{'#':>2}  {'name':<24} {'pool':<9} {'weight':>6}  {'p':>6}  strength: main parameter (mildest -> most severe)")
        for i, r in enumerate(rows, 1):
            lo, hi = r["strength_range"]
            typer.echo(
                f"{i:>2}  {r['name']:<24} {r['pool']:<9} {r['weight']:>6.3f}  {r['probability']:>6.3f}  "
                f"{r['strength_param']}: {lo:g} -> {hi:g}"
            )
    if missing := [f"{r['name']} needs {', '.join(r['missing_encoders'])}" for r in rows if r["missing_encoders"]]:
        typer.echo(f"error: this installation cannot run the {pool} pool: {'; '.join(missing)}", err=True)
        raise typer.Exit(1)


@app.command("metrics")
def list_metrics() -> None:
    """List the 11 reference-based measures stored as targets, with unit and direction."""
    from .generator.report import metric_table

    typer.echo(metric_table())


@shards_app.command("check")
def shards_check(path: Annotated[Path, typer.Argument(help="A shard directory (or one .tar).")]) -> None:
    """Verify every shard (schema, audio, counts against the manifest) and print histograms."""
    from .shards.check import check, format_report

    try:
        report = check(path)
    except FileNotFoundError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(format_report(report))
    if not report.ok:
        raise typer.Exit(1)


_MODEL_HELP = "Checkpoint from `sesqa train` (default: the packaged model, docs/model-card.md)."


@app.command()
def score(
    paths: Annotated[list[Path], typer.Argument(help="Audio files (any format soundfile or ffmpeg reads), directories (searched recursively) or list files (.txt/.lst/.list, one path per line).", show_default=False)],
    model: Annotated[Optional[str], typer.Option(help=_MODEL_HELP)] = None,
    hop: Annotated[float, typer.Option(help="Seconds between the starts of consecutive 1 s frames (0.5: finer time resolution, twice the cost).")] = 1.0,
    batch_size: Annotated[int, typer.Option(help="Frames per model call.", min=1)] = 32,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    channel: Annotated[Optional[int], typer.Option(help="Score this channel (0-based) instead of the mix-down of all channels.", min=0)] = None,
    csv_out: Annotated[Optional[Path], typer.Option("--csv", help="Write a row per file: path, score, duration_s, clean_probability, top_degradation, top_probability, error, warnings.")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write per-file results with frame scores and degradation guesses.")] = None,
    embeddings: Annotated[Optional[Path], typer.Option(help="Folder for one <stem>.npy of latents (frames x latent_dim) per file.")] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Folder for one <stem>.png per scored file: spectrogram, score over time, degradation types (docs/score.md).")] = None,
    precision: Annotated[str, typer.Option(help="fp32 or bf16 (autocast).")] = "fp32",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, table or summary; errors still go to stderr.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Score speech quality (1-5) of audio files: mean over the speech frames of 1 s frames.

    Exit status: 0 when at least one file was scored, 1 when every file failed, 2 for bad options.
    """
    from .scoring.output import format_table, is_error, score_paths

    _setup_logging(verbose)
    scorer = _scorer_or_exit(model, device=device, batch_size=batch_size, hop_s=hop, precision=precision)
    try:
        from .view.figure import FigureWriter  # matplotlib loads only when a figure is drawn

        figures = FigureWriter(plot, frame_s=scorer.frame_s, channel=channel) if plot is not None else None
        report = score_paths(scorer, paths, channel=channel, csv_path=csv_out, json_path=json_out, embeddings_dir=embeddings, progress=not quiet, on_item=figures)
    except OSError as e:  # an output that cannot be written; audio errors are per file
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    if quiet:
        for item in report.items:
            if is_error(item):
                typer.echo(f"error: {item.error}", err=True)
    else:
        typer.echo(_model_line(model))
        typer.echo(format_table(report.items))
        typer.echo(report.summary(), err=True)
    raise typer.Exit(report.exit_code)


@app.command()
def compare(
    ref: Annotated[Path, typer.Argument(help="The reference (clean) recording.", show_default=False)],
    deg: Annotated[Path, typer.Argument(help="The degraded recording of the same content, starting at the same time.", show_default=False)],
    model: Annotated[Optional[str], typer.Option(help=_MODEL_HELP)] = None,
    hop: Annotated[float, typer.Option(help="Seconds between the starts of consecutive 1 s frames (0.5: finer time resolution, twice the cost).")] = 1.0,
    batch_size: Annotated[int, typer.Option(help="Frame pairs per model call.", min=1)] = 32,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    channel: Annotated[Optional[int], typer.Option(help="Compare this channel (0-based) of both files instead of their mix-downs.", min=0)] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the comparison, with per-frame figures, as JSON.")] = None,
    precision: Annotated[str, typer.Option(help="fp32 or bf16 (autocast).")] = "fp32",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help=VERBOSE_HELP)] = False,
) -> None:
    """Reference-based mode: DEG against REF (scores, their difference, JND probability, estimated PESQ/STOI/...).

    Exit status: 0 on success, 1 when a file cannot be read, 2 for bad options.
    """
    from .audio import AudioError
    from .scoring.compare import compare as run_compare, format_compare
    from .scoring.output import write_json

    _setup_logging(verbose)
    scorer = _scorer_or_exit(model, device=device, batch_size=batch_size, hop_s=hop, precision=precision)
    try:
        result = run_compare(scorer, ref, deg, channel=channel)
    except AudioError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(format_compare(result))
    if json_out is not None:
        try:
            write_json(json_out, result.to_json())
        except OSError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from None


_DTYPES = {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}


@app.command()
def export(
    checkpoint: Annotated[Path, typer.Argument(help="A checkpoint from `sesqa train` (last.ckpt or best.ckpt).", show_default=False)],
    out: Annotated[Path, typer.Argument(help="The file to write.", show_default=False)],
    dtype: Annotated[str, typer.Option(help="Weights as fp16 (half the size), bf16 or fp32.")] = "fp16",
) -> None:
    """Write a checkpoint for sharing: weights only (no optimizer or resume state), fp16 by default."""
    import torch

    from .model import export_checkpoint

    if dtype not in _DTYPES:
        typer.echo(f"error: --dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}", err=True)
        raise typer.Exit(2)
    try:
        export_checkpoint(checkpoint, out, weights_dtype=getattr(torch, _DTYPES[dtype]))
    except (ValueError, FileNotFoundError, OSError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {dtype} weights; was {checkpoint.stat().st_size / 1e6:.1f} MB)")


def _parse_floats(text: str, option: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated numbers, got {text!r}", param_hint=option) from None


@app.command()
def sweep(
    clips: Annotated[list[Path], typer.Argument(help="Clean recordings (files, directories or list files) to degrade.", show_default=False)],
    model: Annotated[Optional[str], typer.Option(help=_MODEL_HELP)] = None,
    types: Annotated[str, typer.Option(help="Comma-separated degradation types (`sesqa degradations --pool all`); default: every type of --pool.")] = "",
    pool: Annotated[str, typer.Option(help=POOL_HELP)] = "paper",
    strengths: Annotated[str, typer.Option(help="Comma-separated strengths in [0, 1].")] = "0.1,0.3,0.5,0.7,0.9",
    seed: Annotated[int, typer.Option(help="Seed of the degradation parameters.")] = 0,
    noise: Annotated[Optional[list[Path]], typer.Option(help="Noise directory for the additive-noise types (repeatable). Default: the bundled noise.")] = None,
    max_seconds: Annotated[float, typer.Option(help="Use at most this many seconds from the start of each clip.")] = 4.0,
    csv_out: Annotated[Optional[Path], typer.Option("--csv", help="Write every score: clip, type, strength, score, params (JSON).")] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Folder for sweep.png, score against strength per type (needs sesqa[plots]).")] = None,
    save_audio: Annotated[Optional[Path], typer.Option(help="Folder for every degraded clip as a WAV, to listen to.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    precision: Annotated[str, typer.Option(help="fp32 or bf16 (autocast).")] = "fp32",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help=VERBOSE_HELP)] = False,
) -> None:
    """Score clean clips degraded by each degradation at growing strength (the paper's figure 4).

    Exit status: 0 when at least one clip was scored, 1 when none could be, 2 for bad options.
    """
    from .evaluation.sweep import SweepConfig, run_sweep, sweep_progress
    from .generator.degradations.pools import MissingEncoderError, check_encoders
    from .scoring.paths import find_audio

    _setup_logging(verbose)
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
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    scorer = _scorer_or_exit(model, device=device, precision=precision)
    with sweep_progress(config, enabled=not quiet) as tick:
        result = run_sweep(scorer, config, progress=tick)
    typer.echo(_model_line(model))
    typer.echo(result.table())
    try:
        if csv_out is not None:
            result.write_csv(csv_out)
        if plot is not None:
            typer.echo(f"figure: {result.plot(plot / 'sweep.png')}")
    except (OSError, ImportError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    if not result.clean_scores().size:
        raise typer.Exit(1)


@app.command()
def evaluate(
    pred: Annotated[Optional[Path], typer.Option(help="Predictions CSV (from `sesqa score`, NISQA, DNSMOS, a VoiceMOS answer file): path plus score column.")] = None,
    pred_column: Annotated[Optional[str], typer.Option(help="Score column of --pred when it is not found by name (e.g. P808_MOS).")] = None,
    model: Annotated[Optional[str], typer.Option(help="Checkpoint that scores the audio on the fly (or 'default'); needed for --shards. Used when --pred is absent.")] = None,
    labels: Annotated[Optional[Path], typer.Option(help="MOS labels: path,mos[,system] CSV, a NISQA corpus CSV or a BVCC list.")] = None,
    pairs: Annotated[Optional[Path], typer.Option(help="Ordered pairs CSV better,worse (R_RANK).")] = None,
    shards: Annotated[Optional[Path], typer.Option(help="Generated shards directory: R_RANK and L_CONS on its quadruples (needs a model). With --kfold: generated training data.")] = None,
    split: Annotated[str, typer.Option(help="Shard split to evaluate: test, valid or train.")] = "test",
    max_quadruples: Annotated[Optional[int], typer.Option(help="Evaluate at most this many quadruples (default: all).", min=1)] = None,
    strengths: Annotated[Optional[Path], typer.Option(metavar="CSV", help="CSV path,type,strength of degraded files for the score-vs-strength figure (type 'clean' for references).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Write the report as JSON (and per-file scores beside it, <stem>.<predictor>.csv).")] = None,
    boot: Annotated[int, typer.Option(help="Bootstrap resamples for the 95 % intervals (0: none).", min=0)] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap (and of the k-fold split and training).")] = 0,
    plot: Annotated[Optional[Path], typer.Option(help="Folder for PNG figures: scatter-*, strength-*, time-* (needs the plots extra: matplotlib).")] = None,
    peer: Annotated[Optional[str], typer.Option(help="Also score the same files with a peer model and report it beside: dnsmos (needs the peer extra: speechmos).")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    precision: Annotated[str, typer.Option(help="Scoring precision: fp32 or bf16 (autocast).")] = "fp32",
    batch_size: Annotated[int, typer.Option(help="Frames per model call when scoring files.", min=1)] = 32,
    kfold: Annotated[Optional[int], typer.Option(help="K-fold cross-validation on --labels: train on K-1 folds, score the held-out one, pool (split by system).", min=2)] = None,
    runs: Annotated[Optional[Path], typer.Option(help="--kfold: folder for the fold-k/ training runs (default: --out without its suffix).")] = None,
    init: Annotated[Optional[str], typer.Option(help="--kfold: start each fold from this checkpoint ('default': the packaged model).")] = None,
    steps: Annotated[Optional[int], typer.Option(help="--kfold: training steps per fold (default: 5 epochs).", min=1)] = None,
    model_size: Annotated[str, typer.Option(help="--kfold: encoder size without --init: paper, small, tiny.")] = "paper",
    train_batch_size: Annotated[int, typer.Option(help="--kfold: training batch size.", min=1)] = 16,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help=VERBOSE_HELP)] = False,
) -> None:
    """Evaluate predictions (or a model) against MOS labels, ordered pairs and/or generated quadruples.

    Prints L_MOS, MSE, LCC, SRCC, KTAU (utterance and system level), R_RANK, L_CONS and E_TOTAL with
    bootstrap 95 % intervals. Exit status: 0 on success, 2 for bad options or unusable input.
    """
    from .evaluation.config import EvaluateConfig
    from .evaluation.run import format_run, progress_wanted, run_evaluate
    from .evaluation.peers import PeerUnavailable
    from .evaluation.plots import PlotsUnavailable

    _setup_logging(verbose)
    try:
        config = EvaluateConfig(
            pred=pred, pred_column=pred_column, model=model, labels=labels, pairs=pairs,
            shards=shards if kfold is None else None, train_shards=shards if kfold is not None else None,
            split=split, max_quadruples=max_quadruples, strengths=strengths, out=out, n_boot=boot, seed=seed,
            plot=plot, peer=peer, device=device, precision=precision, batch_size=batch_size, kfold=kfold, runs=runs,
            init=init, steps=steps, model_size=model_size, train_batch_size=train_batch_size, progress=progress_wanted(),
        )
        run = run_evaluate(config)
    except (ValueError, OSError, PeerUnavailable, PlotsUnavailable) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(format_run(run))


@app.command()
def report(
    paths: Annotated[list[Path], typer.Argument(help="Audio files, directories or list files, as `score` takes them.", show_default=False)],
    out: Annotated[Path, typer.Option(help="The HTML page to write; audio is linked by paths relative to its folder.")] = Path("report.html"),
    model: Annotated[Optional[str], typer.Option(help=_MODEL_HELP)] = None,
    embed_audio: Annotated[bool, typer.Option("--embed-audio", help="Put each file's audio inside the page (base64) instead of linking it.")] = False,
    hop: Annotated[float, typer.Option(help="Seconds between the starts of consecutive 1 s frames.")] = 1.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary; errors still go to stderr.")] = False,
) -> None:
    """Write one HTML page: a sortable table of the files' scores, then per file its figure, audio player and frame scores.

    Exit status: 0 when at least one file was scored, 1 when every file failed, 2 for bad options.
    """
    from .scoring.output import is_error
    from .view.report import write_report

    _setup_logging(False)
    scorer = _scorer_or_exit(model, device="auto", hop_s=hop)
    try:
        batch = write_report(scorer, paths, out, model=model, embed_audio=embed_audio, progress=not quiet)
    except OSError as e:  # the page cannot be written there
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    for item in batch.items:
        if is_error(item):
            typer.echo(f"error: {item.error}", err=True)
    if not quiet:
        typer.echo(f"{batch.summary()}; report: {out}", err=True)
    raise typer.Exit(batch.exit_code)


if __name__ == "__main__":
    app()
