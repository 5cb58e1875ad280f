"""The models shipped inside the package, by name.

`default` is the model of docs/model-card.md, trained on the paper's 37 degradations;
`telephony` continues it on the paper's and the telephony pool's degradations together (codecs
down to AMR-NB and G.711, packet loss, jitter, phone bands; the card's "Telephony" section): it
ranks calls better and the paper's conditions a little worse. Each ships as a torch checkpoint
(`NAME.ckpt`: training, `--init`, GPU, bf16) and as its ONNX export (`NAME.onnx`: scoring
without torch, `sesqa.scoring.backend`). A name wins over a file of the same name in the
working directory; write `./telephony` for the file.
"""

from __future__ import annotations

from pathlib import Path

from ..data import DATA_DIR

MODELS_DIR = DATA_DIR / "models"
PACKAGED_MODELS: dict[str, str] = {"default": "default.ckpt", "telephony": "telephony.ckpt"}
"""Name -> file in `MODELS_DIR`."""
DEFAULT_MODEL = MODELS_DIR / PACKAGED_MODELS["default"]


def _checkpoint_path(name: str) -> Path:
    # DEFAULT_MODEL is read at call time: tests point it elsewhere to act out an install without it
    return DEFAULT_MODEL if name == "default" else MODELS_DIR / PACKAGED_MODELS[name]


def packaged_checkpoint(name: str = "default") -> Path:
    """The file of a packaged model; FileNotFoundError with what to do when this install lacks it."""
    path = _checkpoint_path(name)
    if not path.is_file():
        raise FileNotFoundError(
            f"no {name} model at {path} (a packaged model this install lacks); pass a checkpoint from `sesqa train` "
            "(--model PATH, or Scorer.from_checkpoint(PATH))"
        )
    return path


def packaged_onnx(name: str = "default") -> Path:
    """Where the ONNX twin of a packaged model lives (`sesqa export --onnx`; may be absent)."""
    return _checkpoint_path(name).with_suffix(".onnx")


def default_checkpoint() -> Path:
    """The packaged default model (`packaged_checkpoint("default")`)."""
    return packaged_checkpoint("default")


def packaged_name(path: str | Path | None) -> str | None:
    """The packaged model `path` names (None means "default"), or None for a file path."""
    if path is None:
        return "default"
    return str(path) if str(path) in PACKAGED_MODELS else None


def resolve_model(path: str | Path | None) -> Path:
    """A checkpoint path from the command line: None or a packaged model's name ("default",
    "telephony") mean that packaged model, anything else is a file path."""
    name = packaged_name(path)
    return packaged_checkpoint(name) if name is not None else Path(path)  # type: ignore[arg-type]
