"""Where the model shipped inside the package lives."""

from __future__ import annotations

from pathlib import Path

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "data" / "models" / "default.ckpt"


def default_checkpoint() -> Path:
    """The packaged default model; FileNotFoundError with what to do when this install lacks it."""
    if not DEFAULT_MODEL.is_file():
        raise FileNotFoundError(
            f"no default model at {DEFAULT_MODEL}; pass a checkpoint from `sesqa train` "
            "(--model PATH, or Scorer.from_checkpoint(PATH))"
        )
    return DEFAULT_MODEL


def resolve_model(path: str | Path | None) -> Path:
    """A checkpoint path from the command line: None or "default" mean the packaged model."""
    if path is None or str(path) == "default":
        return default_checkpoint()
    return Path(path)
