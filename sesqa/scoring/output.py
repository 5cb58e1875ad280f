"""What `sesqa score` writes: a terminal table, CSV, JSON and embeddings, and the batch loop behind them.

Files are written atomically: rows go to a temporary file next to the target as each audio file
is scored (memory stays flat over thousands of files), and the temporary file replaces the target
only when the batch is done, so an interrupted run never leaves a truncated CSV or JSON behind.
Embeddings (.npy) are written as each file finishes, and only for files scored to the end: a file
that fails half-way (a NaN found after an hour) leaves nothing but its error.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..runtime.files import AtomicFile
from .paths import find_audio, iter_entries

if TYPE_CHECKING:
    from .scorer import FileError, Scorer, ScoreResult
    from .selection import Shard

    Item = ScoreResult | FileError

log = logging.getLogger(__name__)

CSV_COLUMNS: tuple[str, ...] = (
    "path", "score", "duration_s", "clean_probability", "top_degradation", "top_probability",
    "loudness_lufs", "peak_dbfs", "error", "warnings",
)  # fmt: skip
"""Columns of `sesqa score --csv`; a failed file has only path and error filled, a file with
nothing to score (silence, DC only, no speech frame) an empty score and the reason in warnings."""


def _number(value: float | None, fmt: str) -> str:
    """A CSV cell: the formatted number, or empty when there is none (NaN, -inf, None)."""
    return format(value, fmt) if value is not None and np.isfinite(value) else ""


def write_json(path: str | Path, data: Any) -> None:
    """Write `data` as indented JSON to `path`, atomically."""
    with AtomicFile(path) as w:
        json.dump(data, w.file, indent=2, allow_nan=False)
        w.file.write("\n")


def is_error(item: Item) -> bool:
    """Whether a batch item is a FileError (the file could not be scored)."""
    from .scorer import FileError

    return isinstance(item, FileError)


def csv_row(item: Item) -> dict[str, str]:
    """One CSV row: the figures of a scored file, or its path and error."""
    if is_error(item):
        return {**dict.fromkeys(CSV_COLUMNS, ""), "path": item.source, "error": item.error}
    top = item.top_degradation
    level = item.level
    return {
        "path": item.source,
        "score": _number(item.score, ".6f"),
        "duration_s": f"{item.duration_s:.3f}",
        "clean_probability": _number(item.clean_probability, ".4f"),
        "top_degradation": top.name if top else "",
        "top_probability": f"{top.probability:.4f}" if top else "",
        "loudness_lufs": _number(level.loudness_lufs if level else None, ".2f"),
        "peak_dbfs": _number(level.peak_dbfs if level else None, ".2f"),
        "error": "",
        "warnings": "; ".join(item.warnings),
    }


def json_item(item: Item, embeddings: Path | None = None) -> dict[str, Any]:
    """One element of the JSON list: the full result with frames, or {"path", "error"}."""
    out = item.to_json()
    if embeddings is not None:
        out["embeddings"] = str(embeddings)
    return out


class UniqueStems:
    """File names from the sources' stems, unique within a run (case-insensitively, for case-blind
    file systems): a stem seen before gets `-1`, `-2`, ... appended (`a/take.wav`, `b/take.wav`
    -> `take`, `take-1`). Used for embeddings and figures alike."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def take(self, source: str) -> str:
        """A stem for `source` that no earlier source of this run got; characters unsafe in names become `_`."""
        stem = re.sub(r"[^\w.+-]", "_", Path(source).stem) or "audio"
        name, k = stem, 0
        while name.lower() in self._taken:
            k += 1
            name = f"{stem}-{k}"
        self._taken.add(name.lower())
        return name


class EmbeddingWriter:
    """One `<stem>.npy` per file in a folder; a stem seen before in this run gets `-1`, `-2`, ... appended."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OSError(f"{self.directory}: cannot create the embeddings folder ({e.strerror or e})") from e
        self._stems = UniqueStems()

    def name_for(self, source: str) -> Path:
        """A file name for `source`'s embeddings that no other file of this run has (case-insensitively)."""
        return self.directory / f"{self._stems.take(source)}.npy"

    def write(self, source: str, z: np.ndarray) -> Path:
        """Save (frames, latent_dim) float32 latents atomically; returns the path written."""
        path = self.name_for(source)
        with AtomicFile(path, "wb", fsync=False) as f:  # thousands of small files; the tables are fsynced
            np.save(f.file, np.asarray(z, dtype=np.float32))
        return path


@dataclass(frozen=True)
class BatchReport:
    """What `score_paths` did: every item in output order, and where embeddings went."""

    items: tuple[Item, ...]
    embeddings: dict[str, str]
    """source path -> .npy written."""

    @property
    def n_scored(self) -> int:
        return sum(not is_error(i) for i in self.items)

    @property
    def n_failed(self) -> int:
        return len(self.items) - self.n_scored

    @property
    def exit_code(self) -> int:
        """0 when at least one file was scored, 1 when every one failed (or none was found)."""
        return 0 if self.n_scored else 1

    def summary(self) -> str:
        warned = sum(bool(getattr(i, "warnings", ())) for i in self.items)
        parts = [f"{self.n_scored} file(s) scored", f"{self.n_failed} failed"]
        if warned:
            parts.append(f"{warned} with warnings")
        return ", ".join(parts)


def score_paths(
    scorer: Scorer,
    paths: Iterable[str | Path],
    *,
    channel: int | None = None,
    csv_path: str | Path | None = None,
    json_path: str | Path | None = None,
    embeddings_dir: str | Path | None = None,
    progress: bool = True,
    on_item: Callable[[Item], None] | None = None,
    files_from: str | Path | None = None,
    glob: str | None = None,
    shard: Shard | None = None,
    workers: int = 1,
    model: str | None = None,
    device: str = "auto",
) -> BatchReport:
    """Expand `paths` (find_audio), score every file, write the outputs asked for; errors stay per file.

    Paths that do not exist (or directories without audio) become errors like unreadable files.
    Output locations are checked before scoring starts: OSError naming the output if one cannot
    be written. `progress` shows a bar on stderr when there is more than one file. `on_item` is
    called with each item (result or error, in output order) as soon as it is done, so per-file
    work (figures, report sections) streams with the batch instead of waiting for its end.
    `files_from`, `glob` and `shard` choose files as for `stream.score_to_jsonl`; `workers` > 1
    scores in processes that open `model` (default: the scorer's file) on `device`, and items
    then come in completion order.
    """
    from .scorer import FileError

    files, problems = _choose(paths, files_from, glob, shard)
    items: list[Item] = [FileError(p, f"{p}: {reason}") for p, reason in problems]
    embeddings: dict[str, str] = {}
    writers: list[AtomicFile] = []
    done = False
    try:
        csv_w = json_w = None
        if csv_path is not None:
            csv_w = AtomicFile(csv_path, newline="")
            writers.append(csv_w)
        if json_path is not None:
            json_w = AtomicFile(json_path)
            writers.append(json_w)
        emb = EmbeddingWriter(embeddings_dir) if embeddings_dir is not None else None
        rows = csv.DictWriter(csv_w.file, fieldnames=CSV_COLUMNS) if csv_w else None
        if rows:
            rows.writeheader()
        first = True

        def emit(item: Item, emb_path: Path | None) -> None:
            nonlocal first
            if rows:
                rows.writerow(csv_row(item))
            if json_w:
                json_w.file.write(("[\n" if first else ",\n") + json.dumps(json_item(item, emb_path), allow_nan=False))
            first = False
            if on_item is not None:
                on_item(item)

        for item in items:
            emit(item, None)
        for item in _iterate(scorer, files, channel, emb is not None, progress, workers, model, device):
            emb_path = None
            if emb is not None and getattr(item, "embeddings", None) is not None:
                emb_path = emb.write(item.source, item.embeddings)
                embeddings[item.source] = str(emb_path)
                item = _without_embeddings(item)  # the batch keeps figures, not latents
            emit(item, emb_path)
            items.append(item)
        if json_w:
            json_w.file.write("[]\n" if first else "\n]\n")
        for w in writers:
            w.commit()
        done = True
    finally:
        if not done:  # an interrupted batch (Ctrl-C, a full disk) leaves the targets untouched
            for w in writers:
                w.discard()
    return BatchReport(tuple(items), embeddings)


def _choose(paths: Iterable[str | Path], files_from: str | Path | None, glob: str | None, shard: Shard | None) -> tuple[list[Path], list[tuple[str, str]]]:
    """(files, problems) of the inputs: `find_audio`, or with a list, a glob or a shard, the
    lazy expansion cut to the shard and cleared of duplicates (`selection.select`)."""
    if files_from is None and glob is None and (shard is None or shard.whole):
        return find_audio(paths)
    from .selection import Shard, Tally, select

    files, problems = [], []
    for entry in select(iter_entries(paths, files_from=files_from, glob=glob), shard or Shard(), set(), Tally()):
        if entry.problem is None:
            files.append(entry.path)
        else:
            problems.append((str(entry.path), entry.problem))
    return files, problems


def _iterate(
    scorer: Scorer, files: Sequence[Path], channel: int | None, embeddings: bool, progress: bool, workers: int = 1, model: str | None = None, device: str = "auto"
) -> Iterable[Item]:
    """The files' items (here, or in `workers` processes) under a tqdm bar (stderr, one tick per
    file) when asked and worth it."""
    from .parallel import ScorerSpec, score_in_workers, score_with

    if workers > 1:
        results = score_in_workers(ScorerSpec.of(scorer, model, device), [str(f) for f in files], workers, channel=channel, embeddings=embeddings)
    else:
        results = score_with(scorer, files, channel=channel, embeddings=embeddings, pack_frames=None)
    if not progress or len(files) <= 1:
        yield from results
        return
    from ..runtime.progress import progress_bar

    with progress_bar(len(files), unit="file", desc="score") as bar:
        for item in results:
            bar.update(1)
            yield item


def _without_embeddings(item: ScoreResult) -> ScoreResult:
    from dataclasses import replace

    return replace(item, embeddings=None)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else "..." + text[-(width - 3) :]


def format_table(items: Sequence[Item], path_width: int = 48) -> str:
    """The terminal table: path, score, duration, loudness, top degradation, and warnings or the error."""
    width = min(path_width, max([4] + [len(i.source) for i in items]))
    out = io.StringIO()
    out.write(f"{'path':<{width}}  {'score':>5}  {'dur_s':>8}  {'LUFS':>6}  {'top degradation':<24}  notes\n")
    for item in items:
        path = _clip(item.source, width)
        if is_error(item):
            out.write(f"{path:<{width}}  {'-':>5}  {'-':>8}  {'-':>6}  {'-':<24}  error: {item.error}\n")
            continue
        top = item.top_degradation
        guess = f"{top.name} ({top.probability:.2f})" if top else "-"
        notes = "; ".join(f"warning: {w}" for w in item.warnings)
        score = _number(item.score, ".2f") or "-"
        loudness = _number(item.level.loudness_lufs if item.level else None, ".1f") or "-"
        out.write(
            f"{path:<{width}}  {score:>5}  {item.duration_s:>8.2f}  {loudness:>6}  {guess:<24}  {notes}".rstrip() + "\n"
        )
    return out.getvalue().rstrip("\n")
