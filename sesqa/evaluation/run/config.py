"""`EvaluateConfig`: the options of `sesqa evaluate`, checked before any scoring or training.

A module of its own so that every part of the command (inputs, single run, k-fold) can
import it without importing the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...runtime.seeds import check_seed
from ..peers import PEERS

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class EvaluateConfig:
    """Everything `run_evaluate` needs; the fields mirror `sesqa evaluate`'s options."""

    pred: Path | None = None
    pred_column: str | None = None
    model: str | None = None
    """Checkpoint path, a packaged model's name ("default"), or None: the packaged default when there is no ``pred``."""
    labels: Path | None = None
    pairs: Path | None = None
    shards: Path | None = None
    split: str = "test"
    max_quadruples: int | None = None
    strengths: Path | None = None
    """CSV ``path,type,strength`` of user-degraded files for the strength figure."""
    out: Path | None = None
    n_boot: int = 1000
    level: float = 0.95
    seed: int = 0
    plot: Path | None = None
    peer: str | None = None
    device: str = "auto"
    precision: str = "fp32"
    batch_size: int = 32
    kfold: int | None = None
    runs: Path | None = None
    """Folder of the k-fold training runs; default: beside ``out``, named after it."""
    init: str | None = None
    train_shards: Path | None = None
    steps: int | None = None
    model_size: str = "paper"
    train_batch_size: int = 16
    train_precision: str = "auto"
    jnd: tuple[Path, ...] = ()
    """--kfold: JND pair lists (path_a,path_b,label; PerceptualAudio lists) each fold trains with."""
    loss_weights: tuple[tuple[str, float], ...] = ()
    """--kfold: weights of the folds' losses (`TrainConfig.loss_weights`), e.g. those --init was trained with."""
    train_lr: float | None = None
    """--kfold: the folds' learning rate (`TrainConfig.lr`; None: its default). Lower it to fine-tune a trained --init."""
    progress: bool = False

    def __post_init__(self) -> None:
        check_seed(self.seed)
        if self.kfold is None and not (self.labels or self.pairs or self.shards):
            raise ValueError("nothing to evaluate: give --labels, --pairs and/or --shards")
        if self.n_boot < 0:
            raise ValueError(f"--boot must be >= 0, got {self.n_boot}")
        if not 0.0 < self.level < 1.0:
            raise ValueError(f"the confidence level must lie in (0, 1), got {self.level}")
        if self.split not in SPLITS:
            raise ValueError(f"--split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        if self.peer is not None and self.peer not in PEERS:
            raise ValueError(f"--peer: unknown peer {self.peer!r}; choose from {', '.join(PEERS)}")
        if self.max_quadruples is not None and self.max_quadruples < 1:
            raise ValueError(f"--max-quadruples must be >= 1, got {self.max_quadruples}")
        if self.kfold is not None:
            self._check_kfold()
        elif self.jnd:
            raise ValueError(f"--jnd trains the models of --kfold; without --kfold nothing is trained, got --jnd {', '.join(str(p) for p in self.jnd)}")
        elif self.loss_weights:
            raise ValueError("--loss-weight weighs the losses of --kfold's training runs; without --kfold nothing is trained")
        elif self.train_lr is not None:
            raise ValueError(f"--lr sets the learning rate of --kfold's training runs; without --kfold nothing is trained, got --lr {self.train_lr}")
        elif self.shards is not None and self.pred is not None and self.model is None:
            raise ValueError(
                f"--shards {self.shards}: quadruples are evaluated on the scores of their four 1 s frames, "
                f"which a predictions CSV ({self.pred}) does not hold; add --model CKPT (or --model default)"
            )
        for name in ("pred", "labels", "pairs", "strengths"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise FileNotFoundError(f"{path}: --{name} file not found")
        for path in self.jnd:
            if not Path(path).is_file():
                raise FileNotFoundError(f"{path}: --jnd file not found")
        if self.shards is not None and not Path(self.shards).is_dir():
            raise FileNotFoundError(f"{self.shards}: --shards directory not found")

    def _check_kfold(self) -> None:
        if self.kfold is None or self.kfold < 2:
            raise ValueError(f"--kfold must be at least 2, got {self.kfold}")
        if self.labels is None:
            raise ValueError("--kfold needs --labels (the MOS data set to cross-validate on)")
        if self.pred is not None or self.model is not None:
            raise ValueError("--kfold trains its own model per fold: drop --pred/--model (use --init to start from a checkpoint)")
        if self.pairs is not None:
            raise ValueError("--kfold evaluates MOS labels only: drop --pairs")
        if self.runs is None and self.out is None:
            raise ValueError("--kfold needs a folder for its training runs: give --runs DIR (or --out FILE.json, runs then go beside it)")

    @property
    def runs_dir(self) -> Path:
        """Where k-fold training runs go: ``runs``, else ``out`` without its suffix."""
        if self.runs is not None:
            return Path(self.runs)
        assert self.out is not None
        return Path(self.out).with_suffix("")


__all__ = ["SPLITS", "EvaluateConfig"]
