"""The run folder's logs: train.csv and valid.csv (one row per logged step), TensorBoard, train.log."""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

from ..runtime.files import AtomicFile

log = logging.getLogger(__name__)


class RunLog:
    """Appends scalars to CSV files and TensorBoard; on resume, drops rows past the restored step."""

    def __init__(self, folder: Path, resume_step: int | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        if resume_step is not None:
            for name in ("train.csv", "valid.csv"):
                _truncate_after(self.folder / name, resume_step)
        self._handler = logging.FileHandler(self.folder / "train.log")
        self._handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.getLogger("sesqa").addHandler(self._handler)
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as e:  # tensorboard is a dependency, but a broken install should not stop training
            log.warning("TensorBoard logging is off (%s); CSV logs are still written", e)
            self._tb = None
        else:
            self._tb = SummaryWriter(str(self.folder / "tensorboard"), purge_step=resume_step)

    def write(self, table: str, step: int, values: dict[str, Any]) -> None:
        """One row of `table` ("train" or "valid") at `step`."""
        row = {"step": step, **values}
        path = self.folder / f"{table}.csv"
        existing = _header(path)
        columns = existing or list(row)
        if existing and set(row) - set(existing):
            columns = existing + [k for k in row if k not in existing]
            _rewrite_with_columns(path, columns)
        with path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns, restval="")
            if not existing:
                writer.writeheader()
            writer.writerow({k: _fmt(v) for k, v in row.items()})
        if self._tb is not None:
            for k, v in values.items():
                if isinstance(v, (int, float)):
                    self._tb.add_scalar(f"{table}/{k}", v, step)

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
        logging.getLogger("sesqa").removeHandler(self._handler)
        self._handler.close()


def _fmt(v: Any) -> Any:
    return f"{v:.6g}" if isinstance(v, float) else v


def _header(path: Path) -> list[str] | None:
    if not path.exists() or path.stat().st_size == 0:
        return None
    with path.open(newline="") as f:
        return next(csv.reader(f), None)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _rewrite_with_columns(path: Path, columns: list[str]) -> None:
    rows = _rows(path)
    with AtomicFile(path, "w", newline="") as f:  # a kill here keeps the old table whole
        writer = csv.DictWriter(f.file, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)


def _truncate_after(path: Path, step: int) -> None:
    if _header(path) is None:
        return
    columns = _header(path)
    kept = [r for r in _rows(path) if int(r["step"]) <= step]
    with AtomicFile(path, "w", newline="") as f:  # a kill while resuming keeps the old table whole
        writer = csv.DictWriter(f.file, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(kept)
