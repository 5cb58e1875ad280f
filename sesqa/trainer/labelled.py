"""Human-labelled data: MOS lists and JND pairs read from CSV, streamed as random 1 s crops.

Accepted MOS lists (spec section 2):
- a CSV with a header naming `path,mos` and optionally `system` and `dataset`;
- the NISQA corpus CSV (`NISQA_corpus_file.csv`: columns `db`, `con`, `filepath_deg`, `mos`,
  ...; `filepath_deg` is relative to the corpus root, where that CSV lies);
- VoiceMOS / BVCC lists without a header, `sys-utt.wav,mos` per line (`sets/train_mos_list.txt`,
  audio in `wav/` beside `sets/`); the system is the part of the name before the first "-".

Accepted JND lists:
- a CSV with a header naming `path_a,path_b,label` (1 = listeners heard a difference);
- the PerceptualAudio data set's own lists (github.com/pranaymanocha/PerceptualAudio,
  `dataset/dataset_combined.txt`, `dataset_reverb.txt`, `dataset_eq.txt`, `dataset_linear.txt`):
  tab-separated `path_a<TAB>path_b<TAB>label`, no header, paths relative to the list's folder;
  `dataset_linear.txt` has a 4th column, the noise name, and its paths are relative to
  `<noise>_list/` in that folder (as the repository's `metric_code/dataloader.py` reads them).
  The label is 1 where listeners heard a difference: identical files are always labelled 0.

The streams are endless: they walk their items in a fresh seeded order every pass (MOS and JND
items are reused within an epoch, as in the paper) and take a random 1 s crop of each file
(temporal sampling), the same offset for both files of a pair, then augment the group. Each
position's randomness comes from (seed, pass, index in pass), so `state()`/`restore()` and
`skip()` resume the same sequence exactly. Pass a different seed per rank for distributed runs.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import torch

from .. import audio
from ..audio import SAMPLE_RATE, AudioError
from .augment import Augment, augment_group
from .batch import JndBatch, MosBatch

log = logging.getLogger(__name__)

MOS_RANGE = (1.0, 5.0)
FRAME_SAMPLES = SAMPLE_RATE
"""1 s crops at 48 kHz."""
_SHOW_MISSING = 5
_TAG_ORDER, _TAG_ITEM, _TAG_HOLDOUT = 201, 202, 203


@dataclass(frozen=True)
class MosItem:
    """One rated recording."""

    path: Path
    mos: float
    system: str | None = None
    dataset: str | None = None


@dataclass(frozen=True)
class JndItem:
    """Two recordings and whether listeners heard a difference (1) or not (0)."""

    path_a: Path
    path_b: Path
    label: int


# --- reading lists ------------------------------------------------------------------------------


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, fields) of the non-blank, non-comment CSV rows of `path`."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: cannot read the list ({e})") from e
    reader = csv.reader(io.StringIO(text))
    rows = []
    for fields in reader:
        if not any(f.strip() for f in fields) or fields[0].lstrip().startswith("#"):
            continue
        rows.append((reader.line_num, [f.strip() for f in fields]))
    if not rows:
        raise ValueError(f"{path}: the list is empty")
    return rows


def _resolve(name: str, bases: Sequence[Path]) -> Path:
    """`name` if absolute, else the first of base/name that exists (else the first candidate)."""
    p = Path(name).expanduser()
    if p.is_absolute():
        return p
    candidates = [b / p for b in bases]
    return next((c for c in candidates if c.is_file()), candidates[0])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _mos(raw: str, path: Path, line: int) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and MOS_RANGE[0] <= value <= MOS_RANGE[1]):
        raise ValueError(f"{path}: line {line}: MOS {raw!r} is not a number in [{MOS_RANGE[0]:g}, {MOS_RANGE[1]:g}]")
    return value


def _field(fields: list[str], column: int | None) -> str | None:
    if column is None or column >= len(fields) or not fields[column]:
        return None
    return fields[column]


def _need(fields: list[str], columns: Sequence[int], path: Path, line: int) -> None:
    if max(columns) >= len(fields):
        raise ValueError(f"{path}: line {line}: {len(fields)} fields, expected at least {max(columns) + 1}")


def _drop_missing(items: list[Any], paths_of, path: Path, what: str) -> list[Any]:
    """Items whose audio files all exist; logs the missing ones; ValueError when none is left."""
    kept, missing = [], []
    for item in items:
        absent = [p for p in paths_of(item) if not p.is_file()]
        if absent:
            missing.extend(absent)
        else:
            kept.append(item)
    if missing:
        shown = ", ".join(str(p) for p in missing[:_SHOW_MISSING])
        more = f" and {len(missing) - _SHOW_MISSING} more" if len(missing) > _SHOW_MISSING else ""
        log.warning("%s: %d audio files are missing; their %d %s are skipped: %s%s", path, len(missing), len(items) - len(kept), what, shown, more)
    if not kept:
        raise ValueError(f"{path}: none of the {len(items)} {what} has its audio file(s) (first missing: {missing[0]})")
    return kept


def read_mos_csv(path: str | Path) -> list[MosItem]:
    """The rated recordings of a MOS list (generic CSV, NISQA corpus CSV or VoiceMOS list).

    Relative audio paths resolve against the list's folder (NISQA: also its parent; VoiceMOS:
    also `wav/` in it and beside it). ValueError for a MOS outside [1, 5] or not a number (naming
    the file, line and value) and for a list in none of the formats; missing audio is logged and
    skipped.
    """
    path = Path(path)
    rows = _rows(path)
    here = path.parent
    header = [f.lower() for f in rows[0][1]]
    items: list[MosItem] = []
    if "filepath_deg" in header and "mos" in header:
        col = {name: header.index(name) if name in header else None for name in ("filepath_deg", "mos", "con", "db")}
        for line, fields in rows[1:]:
            _need(fields, (col["filepath_deg"], col["mos"]), path, line)
            items.append(
                MosItem(
                    _resolve(fields[col["filepath_deg"]], (here, here.parent)),
                    _mos(fields[col["mos"]], path, line),
                    system=_field(fields, col["con"]),
                    dataset=_field(fields, col["db"]),
                )
            )
    elif "path" in header and "mos" in header:
        col = {name: header.index(name) if name in header else None for name in ("path", "mos", "system", "dataset")}
        for line, fields in rows[1:]:
            _need(fields, (col["path"], col["mos"]), path, line)
            items.append(
                MosItem(
                    _resolve(fields[col["path"]], (here,)),
                    _mos(fields[col["mos"]], path, line),
                    system=_field(fields, col["system"]),
                    dataset=_field(fields, col["dataset"]),
                )
            )
    elif len(rows[0][1]) >= 2 and _is_number(rows[0][1][1]):
        for line, fields in rows:
            _need(fields, (0, 1), path, line)
            name = fields[0]
            stem = Path(name).name
            items.append(
                MosItem(
                    _resolve(name, (here, here / "wav", here.parent / "wav")),
                    _mos(fields[1], path, line),
                    system=stem.split("-", 1)[0] if "-" in stem else None,
                )
            )
    else:
        raise ValueError(
            f"{path}: not a MOS list: expected a header with path,mos[,system][,dataset], the NISQA corpus "
            f"columns (filepath_deg, mos, ...), or header-less sys-utt,mos lines; line {rows[0][0]} is {','.join(rows[0][1])!r}"
        )
    if not items:
        raise ValueError(f"{path}: the list has a header but no items")
    return _drop_missing(items, lambda i: (i.path,), path, "items")


def _label(raw: str, path: Path, line: int) -> int:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if value not in (0.0, 1.0):
        raise ValueError(f"{path}: line {line}: label {raw!r} is not 0 or 1")
    return int(value)


def read_jnd_csv(path: str | Path) -> list[JndItem]:
    """The pairs of a JND list (generic `path_a,path_b,label` CSV or a PerceptualAudio list).

    Relative paths resolve against the list's folder. ValueError for a label other than 0/1
    (naming the file, line and value) and for an unrecognised list; missing audio is logged
    and skipped.
    """
    path = Path(path)
    here = path.parent
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: cannot read the list ({e})") from e
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip() and not line.lstrip().startswith("#")]
    if not numbered:
        raise ValueError(f"{path}: the list is empty")
    items: list[JndItem] = []
    if "\t" in numbered[0][1]:
        for n, line in numbered:
            fields = [f.strip() for f in line.split("\t")]
            if len(fields) not in (3, 4):
                raise ValueError(f"{path}: line {n}: {len(fields)} tab-separated fields, expected path_a, path_b, label[, noise]")
            base = here / f"{fields[3]}_list" if len(fields) == 4 else here
            items.append(JndItem(_resolve(fields[0], (base,)), _resolve(fields[1], (base,)), _label(fields[2], path, n)))
    else:
        rows = _rows(path)
        header = [f.lower() for f in rows[0][1]]
        if not {"path_a", "path_b", "label"} <= set(header):
            raise ValueError(
                f"{path}: not a JND list: expected a header with path_a,path_b,label or PerceptualAudio's "
                f"tab-separated path_a, path_b, label lines; line {rows[0][0]} is {','.join(rows[0][1])!r}"
            )
        a, b, lab = (header.index(c) for c in ("path_a", "path_b", "label"))
        for n, fields in rows[1:]:
            _need(fields, (a, b, lab), path, n)
            items.append(JndItem(_resolve(fields[a], (here,)), _resolve(fields[b], (here,)), _label(fields[lab], path, n)))
    if not items:
        raise ValueError(f"{path}: the list has a header but no pairs")
    return _drop_missing(items, lambda i: (i.path_a, i.path_b), path, "pairs")


T = TypeVar("T")


def split_holdout(items: Sequence[T], fraction: float = 0.1, seed: int = 0) -> tuple[list[T], list[T]]:
    """(kept, held out): a seeded random `fraction` of the items held out (at least one of two or more).

    Items are held out one by one, not by system, so validation sees the training systems.
    """
    if not (math.isfinite(fraction) and 0.0 < fraction < 1.0):
        raise ValueError(f"fraction must lie in (0, 1), got {fraction!r}")
    n = len(items)
    n_held = min(n - 1, max(1, round(fraction * n))) if n >= 2 else 0
    held = set(_rng(seed, _TAG_HOLDOUT).permutation(n)[:n_held].tolist())
    return [x for k, x in enumerate(items) if k not in held], [x for k, x in enumerate(items) if k in held]


# --- streams ------------------------------------------------------------------------------------


def _rng(*words: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(w) for w in words]))


def fit(x: np.ndarray, n: int) -> np.ndarray:
    """`x` cut or zero-padded at the end to `n` samples (a file shorter than a frame is padded)."""
    if len(x) >= n:
        return x[:n]
    return np.concatenate([x, np.zeros(n - len(x), dtype=x.dtype)])


class _CropStream(Generic[T]):
    """Endless, seeded batches of random crops of labelled items; see the module docstring."""

    what = "items"

    def __init__(
        self,
        items: Sequence[T],
        batch_size: int,
        seed: int = 0,
        augment: Augment | None = None,
        frame_samples: int = FRAME_SAMPLES,
        sample_rate: int = SAMPLE_RATE,
    ):
        self.items = tuple(items)
        if not self.items:
            raise ValueError(f"items: no {self.what} to stream")
        for name, value, least in (("batch_size", batch_size, 1), ("seed", seed, 0), ("frame_samples", frame_samples, 1), ("sample_rate", sample_rate, 1)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.augment = augment
        self.frame_samples = int(frame_samples)
        self.sample_rate = int(sample_rate)
        self._pass = 0
        self._index = 0
        self._batches = 0
        self._dropped: set[int] = set()
        self._order_cache: tuple[int, np.ndarray] | None = None
        self._durations: dict[Path, float] = {}

    # subclasses
    def _paths(self, item: T) -> tuple[Path, ...]:
        raise NotImplementedError

    def _target(self, item: T) -> float:
        raise NotImplementedError

    def _make(self, frames: np.ndarray, targets: np.ndarray) -> Any:
        raise NotImplementedError

    # position bookkeeping
    def _order(self, p: int) -> np.ndarray:
        if self._order_cache is None or self._order_cache[0] != p:
            self._order_cache = (p, _rng(self.seed, p, _TAG_ORDER).permutation(len(self.items)))
        return self._order_cache[1]

    def _next_position(self) -> tuple[int, int, int]:
        """(pass, index in pass, item) of the next item still in the pool; moves the cursor."""
        if len(self._dropped) >= len(self.items):
            raise ValueError(f"every one of the {len(self.items)} {self.what} failed to read: nothing left to stream")
        while True:
            if self._index >= len(self.items):
                self._pass, self._index = self._pass + 1, 0
            p, i = self._pass, self._index
            k = int(self._order(p)[i])
            self._index += 1
            if k not in self._dropped:
                return p, i, k

    def state(self) -> dict[str, Any]:
        """Where the stream is: enough for `restore` to continue the same sequence."""
        return {"items": len(self.items), "seed": self.seed, "pass": self._pass, "index": self._index, "batches": self._batches, "dropped": sorted(self._dropped)}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a `state()`; ValueError if it belongs to another item list or seed."""
        try:
            items, seed = int(state["items"]), int(state["seed"])
            p, i, b = int(state["pass"]), int(state["index"]), int(state["batches"])
            dropped = {int(k) for k in state["dropped"]}
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"state: not a {type(self).__name__} state ({e!r})") from e
        if items != len(self.items) or seed != self.seed:
            raise ValueError(f"state: saved for {items} {self.what} with seed {seed}, this stream has {len(self.items)} with seed {self.seed}")
        if p < 0 or not 0 <= i <= items or b < 0 or any(not 0 <= k < items for k in dropped):
            raise ValueError(f"state: position pass {p}, index {i}, batches {b} or dropped {sorted(dropped)[:5]} out of range")
        self._pass, self._index, self._batches, self._dropped = p, i, b, dropped

    def skip(self, n_batches: int) -> None:
        """Move past `n_batches` batches without reading audio (exact unless a file in them fails)."""
        if n_batches < 0:
            raise ValueError(f"n_batches must be >= 0, got {n_batches}")
        for _ in range(n_batches * self.batch_size):
            self._next_position()
        self._batches += n_batches

    @property
    def dropped(self) -> list[T]:
        """Items dropped because their audio failed to read."""
        return [self.items[k] for k in sorted(self._dropped)]

    # reading
    def _duration(self, path: Path) -> float:
        if path not in self._durations:
            self._durations[path] = audio.info(path).duration_s
        return self._durations[path]

    def _crop(self, item: T, rng: np.random.Generator) -> np.ndarray:
        """(files, frame_samples): one random crop at the same offset in every file of the item."""
        paths = self._paths(item)
        frame_s = self.frame_samples / self.sample_rate
        span = max(0.0, min(self._duration(p) for p in paths) - frame_s)
        offset = float(rng.uniform(0.0, span))
        group = np.stack([fit(audio.load(p, self.sample_rate, offset, frame_s), self.frame_samples) for p in paths])
        return augment_group(group, self.augment, rng)

    def __iter__(self) -> _CropStream[T]:
        return self

    def __next__(self) -> Any:
        frames, targets = [], []
        while len(frames) < self.batch_size:
            p, i, k = self._next_position()
            item = self.items[k]
            try:
                frames.append(self._crop(item, _rng(self.seed, p, i, _TAG_ITEM)))
            except (AudioError, OSError) as e:
                self._dropped.add(k)
                files = ", ".join(str(f) for f in self._paths(item))
                log.warning("dropping %s from the %s pool (%d of %d dropped): %s", files, self.what, len(self._dropped), len(self.items), e)
                continue
            targets.append(self._target(item))
        self._batches += 1
        return self._make(np.stack(frames).astype(np.float32, copy=False), np.asarray(targets, dtype=np.float32))


class MosStream(_CropStream[MosItem]):
    """Endless MosBatch of `batch_size` random 1 s crops of rated recordings."""

    what = "MOS items"

    def _paths(self, item: MosItem) -> tuple[Path, ...]:
        return (item.path,)

    def _target(self, item: MosItem) -> float:
        return item.mos

    def _make(self, frames: np.ndarray, targets: np.ndarray) -> MosBatch:
        return MosBatch(frames=torch.from_numpy(np.ascontiguousarray(frames[:, 0])), mos=torch.from_numpy(targets))


class JndStream(_CropStream[JndItem]):
    """Endless JndBatch of `batch_size` pairs, both cropped at the same random offset."""

    what = "JND pairs"

    def _paths(self, item: JndItem) -> tuple[Path, ...]:
        return (item.path_a, item.path_b)

    def _target(self, item: JndItem) -> float:
        return float(item.label)

    def _make(self, frames: np.ndarray, targets: np.ndarray) -> JndBatch:
        return JndBatch(frames=torch.from_numpy(frames), label=torch.from_numpy(targets))
