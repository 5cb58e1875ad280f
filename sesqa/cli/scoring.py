"""Commands that score recordings: score, compare, report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, Optional

import typer

from .common import MODEL_HELP, app, fail, model_line, open_scorer_or_exit, output

if TYPE_CHECKING:
    from ..scoring.scorer import Scorer


@app.command()
def score(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Audio files (any format soundfile or ffmpeg reads), directories (searched recursively) or list files (.txt/.lst/.list, one path per line); none needed with --files-from.", show_default=False)] = None,
    model: Annotated[Optional[str], typer.Option(help=MODEL_HELP)] = None,
    hop: Annotated[float, typer.Option(help="Seconds between the starts of consecutive 1 s frames (0.5: finer time resolution, twice the cost).")] = 1.0,
    batch_size: Annotated[int, typer.Option(help="Frames per model call.", min=1)] = 32,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    channel: Annotated[Optional[int], typer.Option(help="Score this channel (0-based) instead of the mix-down of all channels.", min=0)] = None,
    csv_out: Annotated[Optional[Path], typer.Option("--csv", help="Write a row per file: path, score, duration_s, clean_probability, top_degradation, top_probability, error, warnings.")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write per-file results with frame scores and degradation guesses.")] = None,
    embeddings: Annotated[Optional[Path], typer.Option(help="Folder for one <stem>.npy of latents (frames x latent_dim) per file.")] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Folder for one <stem>.png per scored file: spectrogram, score over time, degradation types (docs/score.md).")] = None,
    precision: Annotated[str, typer.Option(help="fp32 or bf16 (autocast).")] = "fp32",
    files_from: Annotated[Optional[str], typer.Option("--files-from", help="Also score the paths listed in FILE, one per line (- reads standard input); relative paths are relative to FILE's folder (to the working directory for -).", metavar="FILE")] = None,
    glob: Annotated[Optional[str], typer.Option(help="Take the files of directories whose name (or, with a /, path below the directory) matches this pattern, e.g. '*.wav' or 'enhanced/*.flac', instead of every audio extension.")] = None,
    jsonl: Annotated[Optional[str], typer.Option(help="Write one JSON object per file to FILE (- for standard output), each as soon as the file is done: the CSV's columns and the file's resolved path (key). No table is printed.", metavar="FILE")] = None,
    frames: Annotated[bool, typer.Option("--frames", help="With --jsonl: add each file's per-frame scores to its line.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="With --jsonl: keep what FILE holds and score only the files not in it (a line cut short by a killed run is dropped and its file scored again).")] = False,
    shard: Annotated[Optional[str], typer.Option(help="Score share INDEX of COUNT (0-based) of the sorted list, e.g. 3/10; default: a Slurm array task's (SLURM_ARRAY_TASK_ID/COUNT) or RANK/WORLD_SIZE when set, else all (0/1).", metavar="INDEX/COUNT")] = None,
    workers: Annotated[int, typer.Option(help="Processes that decode and score files in parallel, each with its own model session and cores/N threads; results then come in completion order.", min=1)] = 1,
) -> None:
    """Score speech quality (1-5) of audio files: mean over the speech frames of 1 s frames.

    Exit status: 0 when at least one file was scored, 1 when every file failed, 2 for bad options.
    """
    from ..scoring.output import format_table, is_error, score_paths
    from ..scoring.selection import Shard

    if not paths and files_from is None:
        fail("give audio files, directories or list files, or --files-from FILE")
    if jsonl is None and (resume or frames):
        fail(f"{'--resume' if resume else '--frames'} goes with --jsonl FILE (the streamed output)")
    if jsonl is not None and (csv_out or json_out):
        fail("--jsonl replaces --csv and --json (it holds the CSV's columns, and frames with --frames); give one of them")
    try:
        share = Shard.parse(shard) if shard is not None else Shard.from_env()
    except ValueError as e:
        fail(e)

    scorer = open_scorer_or_exit(model, device=device, batch_size=batch_size, hop_s=hop, precision=precision)
    try:
        from ..view.figure import FigureWriter  # matplotlib loads only when a figure is drawn

        figures = FigureWriter(plot, frame_s=scorer.frame_s, channel=channel) if plot is not None else None
        if jsonl is not None:  # streamed, resumable: exits when done
            _score_jsonl(scorer, model, device, paths or [], jsonl, files_from=files_from, glob=glob, shard=share, resume=resume, workers=workers, channel=channel, frames=frames, embeddings_dir=embeddings, on_item=figures)
        report = score_paths(scorer, paths or [], channel=channel, csv_path=csv_out, json_path=json_out, embeddings_dir=embeddings, on_item=figures, files_from=files_from, glob=glob, shard=share, workers=workers, model=model, device=device)
    except (OSError, ValueError) as e:  # an output that cannot be written, a bad list or glob; audio errors are per file
        fail(e)
    if output().quiet:
        for item in report.items:
            if is_error(item):
                typer.echo(f"error: {item.error}", err=True)
    else:
        typer.echo(model_line(model, scorer))
        typer.echo(format_table(report.items))
        typer.echo(report.summary() + (f"; shard {share} (from {share.source})" if not share.whole else ""), err=True)
    raise typer.Exit(report.exit_code)


def _score_jsonl(scorer: Scorer, model: Optional[str], device: str, paths: list[Path], jsonl: str, **options: object) -> NoReturn:
    """`score --jsonl`: stream the lines (each failure is logged as it happens), print the summary, exit."""
    from concurrent.futures.process import BrokenProcessPool

    from ..scoring.packed import DEFAULT_GPU_BATCH
    from ..scoring.parallel import ScorerSpec
    from ..scoring.stream import score_to_jsonl

    pack = DEFAULT_GPU_BATCH if scorer.device.startswith("cuda") else None  # a GPU wants full batches
    spec = ScorerSpec.of(scorer, model, device, pack_frames=pack) if options["workers"] != 1 else None
    try:
        result = score_to_jsonl(scorer, paths, jsonl, spec=spec, pack_frames=pack, **options)  # type: ignore[arg-type]
    except FileExistsError as e:
        fail(e)
    except BrokenProcessPool as e:
        fail(f"a scoring worker died ({e}); {jsonl} keeps every file finished: rerun with --resume to go on", 1)
    if not output().quiet:
        typer.echo(model_line(model, scorer), err=True)
        typer.echo(result.summary(), err=True)
    raise typer.Exit(result.exit_code)


@app.command()
def compare(
    ref: Annotated[Path, typer.Argument(help="The reference (clean) recording.", show_default=False)],
    deg: Annotated[Path, typer.Argument(help="The degraded recording of the same content, starting at the same time.", show_default=False)],
    model: Annotated[Optional[str], typer.Option(help=MODEL_HELP)] = None,
    hop: Annotated[float, typer.Option(help="Seconds between the starts of consecutive 1 s frames (0.5: finer time resolution, twice the cost).")] = 1.0,
    batch_size: Annotated[int, typer.Option(help="Frame pairs per model call.", min=1)] = 32,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    channel: Annotated[Optional[int], typer.Option(help="Compare this channel (0-based) of both files instead of their mix-downs.", min=0)] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the comparison, with per-frame figures, as JSON.")] = None,
    precision: Annotated[str, typer.Option(help="fp32 or bf16 (autocast).")] = "fp32",
) -> None:
    """Reference-based mode: DEG against REF (scores, their difference, JND probability, estimated PESQ/STOI/...).

    Exit status: 0 on success, 1 when a file cannot be read, 2 for bad options.
    """
    from ..audio import AudioError
    from ..scoring.compare import compare as run_compare, format_compare
    from ..scoring.output import write_json

    scorer = open_scorer_or_exit(model, device=device, batch_size=batch_size, hop_s=hop, precision=precision)
    try:
        result = run_compare(scorer, ref, deg, channel=channel)
    except AudioError as e:
        fail(e, 1)
    typer.echo(format_compare(result))
    if json_out is not None:
        try:
            write_json(json_out, result.to_json())
        except OSError as e:
            fail(e)


@app.command()
def report(
    paths: Annotated[list[Path], typer.Argument(help="Audio files, directories or list files, as `score` takes them.", show_default=False)],
    out: Annotated[Path, typer.Option(help="The HTML page to write; audio is linked by paths relative to its folder.")] = Path("report.html"),
    model: Annotated[Optional[str], typer.Option(help=MODEL_HELP)] = None,
    embed_audio: Annotated[bool, typer.Option("--embed-audio", help="Put each file's audio inside the page (base64) instead of linking it.")] = False,
    hop: Annotated[float, typer.Option(help="Seconds between the starts of consecutive 1 s frames.")] = 1.0,
) -> None:
    """Write one HTML page: a sortable table of the files' scores, then per file its figure, audio player and frame scores.

    Exit status: 0 when at least one file was scored, 1 when every file failed, 2 for bad options.
    """
    from ..scoring.output import is_error
    from ..view.report import write_report

    scorer = open_scorer_or_exit(model, device="auto", hop_s=hop)
    try:
        batch = write_report(scorer, paths, out, model=model, embed_audio=embed_audio)
    except OSError as e:  # the page cannot be written there
        fail(e)
    for item in batch.items:
        if is_error(item):
            typer.echo(f"error: {item.error}", err=True)
    if not output().quiet:
        typer.echo(f"{batch.summary()}; report: {out}", err=True)
    raise typer.Exit(batch.exit_code)
