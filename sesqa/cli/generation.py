"""Commands that make and inspect training data: generate, degradations, metrics, shards check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import POOL_HELP, app, fail, output, shards_app


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
    from ..generator.metrics import METRIC_NAMES

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
    balance: Annotated[float, typer.Option(help="Flatten the pool's weights: 0 keeps them, 1 draws every type equally (each weight to the power 1 - balance).")] = 0.0,
) -> None:
    """Generate degraded quadruples from clean speech and noise into WebDataset shards (--verbose: every skipped input in the summary, not the first 20)."""
    from ..generator.degradations.pools import MissingEncoderError
    from ..generator.report import format_summary
    from ..generator.run import GenerateConfig, generate as run_generate

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
            balance=balance,
            **kwargs,
        )
        summary = run_generate(config)
    except (ValueError, FileNotFoundError, MissingEncoderError) as e:
        fail(e)
    typer.echo(format_summary(summary, output().verbose))


@app.command()
def degradations(
    pool: Annotated[str, typer.Option(help=POOL_HELP)] = "paper",
    balance: Annotated[float, typer.Option(help="Flatten the pool's weights: 0 keeps them, 1 draws every type equally (each weight to the power 1 - balance).")] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List a pool's degradations with their weight and strength range; exit 1 if an encoder is missing."""
    from ..generator.report import degradation_table

    try:
        rows = degradation_table(pool, balance)
    except ValueError as e:
        fail(e)
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
        fail(f"this installation cannot run the {pool} pool: {'; '.join(missing)}", 1)


@app.command("metrics")
def list_metrics() -> None:
    """List the 11 reference-based measures stored as targets, with unit and direction."""
    from ..generator.report import metric_table

    typer.echo(metric_table())


@shards_app.command("check")
def shards_check(path: Annotated[Path, typer.Argument(help="A shard directory (or one .tar).")]) -> None:
    """Verify every shard (schema, audio, counts against the manifest) and print histograms."""
    from ..shards.check import check, format_report

    try:
        report = check(path)
    except FileNotFoundError as e:
        fail(e)
    typer.echo(format_report(report))
    if not report.ok:
        raise typer.Exit(1)
