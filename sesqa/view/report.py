"""`sesqa report`: one self-contained HTML page about a batch of files.

The page (template `templates/report.html.j2`, Jinja2 macros) holds a header (model, date, how
many files scored and failed), a sortable table of the files (score, loudness, peak, top
degradations, warnings or error; click a header, no script from the network), then per file a
section with its figure (`figure.py`, PNG inside the page as base64), an `<audio controls>`
player and its frame scores.

A batch of thousands of files never sits in memory: each file is scored, drawn and its section
rendered to a temporary file as soon as it is done (the figure is then dropped); only a one-line
summary per file is kept, for the table rendered at the end. The page is written under a
temporary name and renamed to `out` when complete (`sesqa.runtime.files.AtomicFile`).

Audio is linked by a path relative to the page's folder (the page works where it was written,
and moved together with the audio), or with `embed_audio` put in the page as a base64 data URI
(a page that travels alone, at 4/3 of the audio's size).
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import tempfile
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..audio import AudioError
from ..runtime.files import AtomicFile
from ..scoring.output import BatchReport, is_error, score_paths
from .figure import figure_png

if TYPE_CHECKING:
    from ..scoring.scorer import FileError, Scorer, ScoreResult

log = logging.getLogger(__name__)

TEMPLATE = "report.html.j2"
FIGURE_DPI = 80
"""Figures in the page are smaller than `score --plot`'s (880 x 600 pixels): a page of a
thousand files stays a size a browser opens."""
AUDIO_TYPES: dict[str, str] = {
    "wav": "audio/wav", "wave": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg", "ogg": "audio/ogg",
    "oga": "audio/ogg", "opus": "audio/ogg", "spx": "audio/ogg", "m4a": "audio/mp4", "m4b": "audio/mp4",
    "mp4": "audio/mp4", "aac": "audio/aac", "webm": "audio/webm", "mka": "audio/x-matroska",
    "aif": "audio/aiff", "aiff": "audio/aiff", "aifc": "audio/aiff", "au": "audio/basic", "snd": "audio/basic",
    "caf": "audio/x-caf", "amr": "audio/amr", "3gp": "audio/3gpp", "wma": "audio/x-ms-wma",
}  # fmt: skip
"""MIME type of an embedded file by extension; others go in as application/octet-stream."""


@dataclass(frozen=True)
class Row:
    """One line of the file table: what is kept of a file once its section is written."""

    source: str
    anchor: str
    """Id of the file's section; empty when it has none (a failed file)."""
    score_text: str
    score_sort: str
    lufs_text: str
    lufs_sort: str
    peak_text: str
    peak_sort: str
    degradations: str
    notes: str
    error: bool


def _number(value: float | None, fmt: str) -> tuple[str, str]:
    """(shown, sort key): the formatted number and its full value, or a dash and an empty key."""
    if value is None or not np.isfinite(value):
        return "-", ""
    return format(value, fmt), repr(float(value))


def _guesses(result: ScoreResult) -> str:
    return ", ".join(f"{d.name} ({d.probability:.2f})" for d in result.degradations)


def audio_link(source: str, folder: Path) -> str:
    """`source` as a URL relative to `folder` (the page's), or a file: URI when no relative path exists."""
    target = os.path.abspath(source)
    try:
        relative = os.path.relpath(target, os.path.abspath(folder))
    except ValueError:  # another drive (Windows)
        return Path(target).as_uri()
    return urllib.parse.quote(Path(relative).as_posix())


def audio_data_uri(source: str) -> str:
    """The file's bytes as a base64 data URI (OSError naming the file when it cannot be read)."""
    kind = AUDIO_TYPES.get(Path(source).suffix[1:].lower(), "application/octet-stream")
    try:
        data = Path(source).read_bytes()
    except OSError as e:
        raise OSError(f"{source}: cannot read the audio to embed it ({e.strerror or e})") from e
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


@dataclass
class _Sections:
    """Renders each item's section to a temporary file as it comes, keeping only its table row."""

    macros: Any
    spool: Any
    folder: Path
    embed_audio: bool
    frame_s: float
    channel: int | None
    rows: list[Row] = field(default_factory=list)

    def __call__(self, item: ScoreResult | FileError) -> None:
        if is_error(item):
            log.info("%s: in the table with its error, no section", item.source)
            self.rows.append(Row(item.source, "", "-", "", "-", "", "-", "", "", item.error, True))
            return
        anchor = f"file-{len(self.rows) + 1}"
        self.spool.write(str(self.macros.section(self._section(item, anchor))))
        level = item.level
        score, score_key = _number(item.score, ".2f")
        lufs, lufs_key = _number(level.loudness_lufs if level else None, ".1f")
        peak, peak_key = _number(level.peak_dbfs if level else None, ".1f")
        row = Row(item.source, anchor, score, score_key, lufs, lufs_key, peak, peak_key, _guesses(item), "; ".join(item.warnings), False)
        self.rows.append(row)

    def _section(self, result: ScoreResult, anchor: str) -> dict[str, Any]:
        png, no_figure = "", ""
        if result.scored:
            try:
                png = base64.b64encode(figure_png(result, self.frame_s, self.channel, FIGURE_DPI)).decode("ascii")
            except AudioError as e:
                no_figure = f"the file could not be read again ({e})"
                log.warning("no figure for %s: %s", result.source, e)
        else:
            no_figure = "nothing was scored (" + ("; ".join(result.warnings) or "no speech frame") + ")"
        level = result.level
        level_text = (
            f"{_number(level.loudness_lufs, '.1f')[0]} LUFS, peak {_number(level.peak_dbfs, '.1f')[0]} dBFS"
            if level is not None else "level not measured"
        )  # fmt: skip
        frames = [
            {
                "start": f"{t:.2f}", "score": _number(float(s), ".2f")[0], "speech": bool(v),
                "guess": f"{g[0][0]} ({g[0][1]:.2f})" if g else "-",
            }  # fmt: skip
            for t, s, v, g in zip(result.frame_starts_s, result.frame_scores, result.speech_frames, result.frame_guesses(1), strict=True)
        ]
        return {
            "anchor": anchor,
            "source": result.source,
            "score_text": _number(result.score, ".2f")[0],
            "duration_text": f"{result.duration_s:.2f} s",
            "level_text": level_text,
            "degradations": _guesses(result),
            "warnings": "; ".join(result.warnings),
            "png": png,
            "no_figure": no_figure,
            "audio": audio_data_uri(result.source) if self.embed_audio else audio_link(result.source, self.folder),
            "frames": frames,
        }


def _macros() -> Any:
    """The template's macros (head, table, section, tail), HTML-escaping every value."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sesqa.view", "templates"), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return env.get_template(TEMPLATE).module


def model_label(model: str | Path | None, scorer: Scorer) -> str:
    """How the header names the model: the file that scored, "(packaged NAME)" added for a packaged one."""
    from ..scoring.default import packaged_name

    name = packaged_name(model)
    return f"{scorer.backend.source} (packaged {name})" if name is not None else scorer.backend.source


def write_report(
    scorer: Scorer,
    paths: Iterable[str | Path],
    out: str | Path,
    *,
    model: str | Path | None = None,
    embed_audio: bool = False,
    channel: int | None = None,
    progress: bool = True,
) -> BatchReport:
    """Score `paths` (as `score` takes them) and write the HTML report to `out`, atomically.

    Returns the batch's report (its `exit_code` is `score`'s). Raises OSError naming `out` when the
    page cannot be written there (checked before any scoring), or naming an audio file that
    cannot be read to embed it.
    """
    from .. import __version__

    out = Path(out)
    macros = _macros()
    page = AtomicFile(out)
    done = False
    try:
        with tempfile.TemporaryFile("w+", encoding="utf-8", dir=out.parent, prefix=f".{out.name}.sections-") as spool:
            sections = _Sections(macros, spool, out.parent, embed_audio, scorer.frame_s, channel)
            batch = score_paths(scorer, paths, channel=channel, progress=progress, on_item=sections)
            rows = sections.rows
            n_unscored = sum(1 for i in batch.items if not is_error(i) and not i.scored)
            meta = {
                "version": __version__,
                "model": model_label(model, scorer),
                "date": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
                "n_files": len(rows),
                "n_scored": batch.n_scored - n_unscored,
                "n_failed": batch.n_failed,
                "n_unscored": n_unscored,
                "hop_s": f"{scorer.hop_s:g}",
            }
            page.file.write(str(macros.head(meta)))
            page.file.write(str(macros.table(rows)))
            spool.seek(0)
            shutil.copyfileobj(spool, page.file)
            page.file.write(str(macros.tail()))
        page.commit()
        done = True
    finally:
        if not done:
            page.discard()
    return batch
