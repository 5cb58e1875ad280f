"""Commands that assemble the clean-speech corpora (the training corpus, the full-band check set): corpus build, corpus check."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .common import app, fail, output

if TYPE_CHECKING:
    from ..corpora import CorpusSet

corpus_app = typer.Typer(help="Assemble and verify a clean-speech corpus: the running-speech corpus (docs/recipe.md) or the full-band check set (docs/sweep.md).", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(corpus_app, name="corpus")

MANIFEST_HELP = "Manifest to compare with (default: the one sesqa ships for --set, sesqa/corpora/manifests/speech.tsv.gz or fullband.tsv)."
SET_HELP = "Which corpus: speech (the running-speech training corpus) or fullband (13 held-out full-band VCTK clips, all split test)."
SHOWN_PROBLEMS = 30


def _echo_problems(problems: list, what: str) -> None:
    typer.echo(f"{len(problems)} {what}:", err=True)
    for p in problems[:SHOWN_PROBLEMS]:
        typer.echo(f"  {p}", err=True)
    if len(problems) > SHOWN_PROBLEMS:
        typer.echo(f"  ... and {len(problems) - SHOWN_PROBLEMS} more", err=True)


def _corpus_set(name: str) -> CorpusSet:
    """The CorpusSet called `name`; exit 2 naming the choices when there is none."""
    from ..corpora import CORPUS_SETS

    if name not in CORPUS_SETS:
        fail(f"unknown --set {name!r}; choose from {', '.join(CORPUS_SETS)}")
    return CORPUS_SETS[name]


def _totals_table(entries: list) -> str:
    from ..corpora.build import totals

    lines = [f"{'source':<24}{'files':>7}{'speakers':>9}{'hours':>7}{'>=16k h':>8}  {'rates':<30}languages"]
    for t in totals(entries):
        rates = ",".join(str(r) for r in t.sample_rates)
        lines.append(f"{t.source:<24}{t.files:>7}{t.speakers:>9}{t.hours:>7.2f}{t.full_band_hours:>8.2f}  {rates:<30}{','.join(t.languages)}")
    all_row = totals(entries)[-1]
    lines.append("speakers per split: " + ", ".join(f"{k} {v}" for k, v in all_row.splits.items()))
    return "\n".join(lines)


@corpus_app.command("build")
def corpus_build(
    out: Annotated[Path, typer.Argument(help="Folder to build the corpus in (created; a rebuild rewrites only changed files).")],
    corpus_set: Annotated[str, typer.Option("--set", help=SET_HELP)] = "speech",
    mirrors: Annotated[Optional[Path], typer.Option(help="Folder holding the git directories of the GitHub sources, as <owner>+<name>/repo or <owner>+<name> (git clone --bare).")] = None,
    debs: Annotated[Path, typer.Option(help="Folder holding the pinned Debian packages; a missing one is fetched with apt-get download.")] = Path("debs"),
    no_download: Annotated[bool, typer.Option("--no-download", help="Fail on a missing .deb instead of running apt-get download.")] = False,
    source: Annotated[Optional[list[str]], typer.Option(help="Build only this source (repeatable); the comparison is then with its rows only.")] = None,
    manifest: Annotated[Optional[Path], typer.Option(help=MANIFEST_HELP)] = None,
    allow_mismatch: Annotated[bool, typer.Option("--allow-mismatch", help="Report files that differ from the manifest but exit 0.")] = False,
    write_manifest: Annotated[Optional[Path], typer.Option(help="Also write the built rows to this manifest (.gz: compressed), for maintainers updating the shipped one; differences are then reported, not refused.")] = None,
) -> None:
    """Build the corpus from its sources, then compare it with the manifest: exit 1 naming each file that differs."""
    from ..corpora import Places
    from ..corpora.build import build_corpus, check_outside_checkout
    from ..corpora.manifest import compare_entries, read_corpus_manifest, write_corpus_manifest

    try:
        check_outside_checkout(out)
    except ValueError as e:
        fail(e)
    chosen = _corpus_set(corpus_set)
    names = [r.name for r in chosen.recipes]
    if unknown := sorted(set(source or ()) - set(names)):
        fail(f"unknown source(s) {', '.join(unknown)}; choose from {', '.join(names)}")
    recipes = [r for r in chosen.recipes if not source or r.name in source]
    expected_path = manifest or chosen.manifest
    expected = None  # a maintainer's first --write-manifest has nothing to compare with
    if expected_path.exists() or write_manifest is None:
        try:
            expected = read_corpus_manifest(expected_path)
        except ValueError as e:
            fail(e)
    result = build_corpus(out, recipes, Places(mirrors, debs, download=not no_download), ratios=chosen.ratios)
    if not output().quiet:  # the summary; errors and differences below print whatever --quiet says
        typer.echo(_totals_table(result.entries))
        reasons = Counter(s.kind for s in result.skipped)
        if result.skipped:
            typer.echo(f"skipped {len(result.skipped)} files: " + ", ".join(f"{n} {r}" for r, n in reasons.most_common()))
        if result.removed:
            typer.echo(f"removed {len(result.removed)} files of an earlier build that this one did not make")
    for name, problem in result.failed_sources:
        typer.echo(f"error: source {name} not built: {problem}", err=True)
    if write_manifest is not None:
        write_corpus_manifest(write_manifest, result.entries)
        typer.echo(f"wrote {write_manifest} ({len(result.entries)} files)")
    problems = []
    if expected is not None:
        built = {r.name for r in recipes}
        problems = compare_entries(result.entries, [e for e in expected if e.source in built])
        if problems:
            _echo_problems(problems, f"files differ from {expected_path}")
        elif not output().quiet:
            typer.echo(f"{out}: all {len(result.entries)} files match {expected_path}")
    if result.failed_sources or (problems and not allow_mismatch and write_manifest is None):
        raise typer.Exit(1)


@corpus_app.command("check")
def corpus_check(
    root: Annotated[Path, typer.Argument(help="A corpus folder made by `sesqa corpus build`.")],
    corpus_set: Annotated[str, typer.Option("--set", help=SET_HELP)] = "speech",
    manifest: Annotated[Optional[Path], typer.Option(help=MANIFEST_HELP)] = None,
) -> None:
    """Check every file of a built corpus against the manifest (sha256 of its bytes): exit 1 naming each missing, changed or unlisted file."""
    from ..corpora.manifest import read_corpus_manifest, verify_corpus
    from ..runtime.progress import progress_bar

    expected_path = manifest or _corpus_set(corpus_set).manifest
    if not root.is_dir():
        fail(f"{root}: not a folder")
    try:
        expected = read_corpus_manifest(expected_path)
    except ValueError as e:
        fail(e)
    with progress_bar(len(expected), desc="check", unit="file") as bar:
        problems = verify_corpus(root, expected, on_file=bar.update)
    if problems:
        _echo_problems(problems, f"files of {root} do not match {expected_path}")
        raise typer.Exit(1)
    if not output().quiet:
        typer.echo(f"{root}: all {len(expected)} files match {expected_path}")
