"""The `sesqa` command: parse options, then call one function per command."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(help="sesqa: reference-free speech quality assessment (SESQA).", no_args_is_help=True, add_completion=False)
shards_app = typer.Typer(help="Inspect and verify quadruple shards.", no_args_is_help=True)
app.add_typer(shards_app, name="shards")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


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
    if unknown := [n for n in names if n not in METRIC_NAMES]:
        raise typer.BadParameter(f"unknown measure(s) {unknown}; choose from all, none or {', '.join(METRIC_NAMES)}", param_hint="--metrics")
    return names


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Output directory for the shards and manifest.json.")] = Path("shards"),
    n: Annotated[int, typer.Option("--n", help="Quadruples in all splits together.")] = 70_000,
    clean: Annotated[Optional[list[Path]], typer.Option(help="Clean speech directory (one data set; repeat the option for more). Default: the bundled corpus.")] = None,
    noise: Annotated[Optional[list[Path]], typer.Option(help="Noise directory (repeatable). Default: the bundled noise.")] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same shards, byte for byte.")] = 0,
    workers: Annotated[Optional[int], typer.Option(help="Worker processes (default: all cores).")] = None,
    shard_size: Annotated[int, typer.Option(help="Quadruples per shard.")] = 1000,
    shard_range: Annotated[Optional[str], typer.Option(help="Make only shards A:B of the global list (train, valid, test); default from SLURM_ARRAY_TASK_ID or RANK/WORLD_SIZE, else all.")] = None,
    split: Annotated[Optional[list[str]], typer.Option(help="Write only this split (repeatable): train, valid, test.")] = None,
    ratios: Annotated[str, typer.Option(help="Relative sizes train,valid,test (the paper's 50k/10k/10k).")] = "50,10,10",
    speaker_pattern: Annotated[Optional[str], typer.Option(help="Regex on the file path whose first group names the speaker; splits are then disjoint by speaker.")] = None,
    metrics: Annotated[str, typer.Option(help="Reference-based targets on each (x_i, x_j): all, none, or a comma list (see `sesqa metrics`).")] = "all",
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Generate degraded quadruples from clean speech and noise into WebDataset shards."""
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
            **kwargs,
        )
        summary = run_generate(config)
    except (ValueError, FileNotFoundError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(format_summary(summary, verbose))


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
    seed: Annotated[int, typer.Option(help="Same seed and data, same run.")] = 0,
    checkpoint_every: Annotated[int, typer.Option(help="Write last.ckpt every N steps.")] = 500,
    log_every: Annotated[int, typer.Option(help="Average and log the losses every N steps.")] = 10,
    workers: Annotated[int, typer.Option(help="Processes decoding shards (0: none).")] = 1,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    precision: Annotated[str, typer.Option(help="auto (bf16 on GPUs that support it), fp32 or bf16.")] = "auto",
    swa: Annotated[bool, typer.Option(help="Stochastic weight averaging over the last epoch.")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Train the SESQA model on generated shards plus optional MOS and JND data."""
    from .trainer import TrainConfig, train as run_train

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = TrainConfig(
            out=out, shards=shards, steps=steps, epochs=epochs, batch_size=batch_size,
            mos=tuple(mos or ()), valid_mos=tuple(valid_mos or ()), jnd=tuple(jnd or ()), valid=valid,
            without=_parse_without(without), init=init, model_preset=model_size, lr=lr, seed=seed,
            checkpoint_every=checkpoint_every, log_every=log_every, workers=workers, device=device, precision=precision, swa=swa,
        )
        summary = run_train(config, resume=resume)
    except (ValueError, FileNotFoundError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    figures = ", ".join(f"{k} {v:.4f}" for k, v in summary.last_valid.items()) or "no validation data"
    typer.echo(f"{summary.steps} steps; validation: {figures}; checkpoints in {summary.out}")


@app.command()
def degradations(as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False) -> None:
    """List the 37 degradations with their weight and strength range."""
    from .generator.report import degradation_table

    rows = degradation_table()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    typer.echo(f"{'#':>2}  {'name':<24} {'weight':>6}  {'p':>6}  strength: main parameter (mildest -> most severe)")
    for i, r in enumerate(rows, 1):
        lo, hi = r["strength_range"]
        typer.echo(f"{i:>2}  {r['name']:<24} {r['weight']:>6.3f}  {r['probability']:>6.3f}  {r['strength_param']}: {lo:g} -> {hi:g}")


@app.command("metrics")
def list_metrics() -> None:
    """List the 11 reference-based measures stored as targets, with unit and direction."""
    from .generator.metrics import METRICS

    typer.echo(f"{'name':<20} {'unit':<8} {'better':<7} reference")
    for spec in METRICS.values():
        typer.echo(f"{spec.name:<20} {spec.unit:<8} {'higher' if spec.higher_is_better else 'lower':<7} {spec.reference}")


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


if __name__ == "__main__":
    app()
