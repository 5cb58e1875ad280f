"""The models shipped inside the package, by name.

`default` is the one packaged model (docs/model-card.md), trained on the paper's 37 degradations
and the telephony pool's together, so it serves calls too. It ships as a torch checkpoint
(`default.ckpt`: training, `--init`, GPU, bf16) and as its ONNX export (`default.onnx`: scoring
without torch, `sesqa.scoring.backend`). A name wins over a file of the same name in the working
directory; write `./default` for the file (to --model; Path-typed options such as `--init` drop
the "./", so give them its absolute path).

A retired name (`RETIRED_MODELS`: `telephony`, the second packaged model until the default
learnt calls) raises ValueError saying what replaced it, rather than falling through to a file
path of that name and a puzzling file-not-found.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from ..data import DATA_DIR

MODELS_DIR = DATA_DIR / "models"
PACKAGED_MODELS: Mapping[str, str] = MappingProxyType({"default": "default.ckpt"})
"""Name -> file in `MODELS_DIR`."""
RETIRED_MODELS: Mapping[str, str] = MappingProxyType({
    "telephony": (
        "the packaged `telephony` model was retired: `default` is now trained on the telephony pool too "
        "(calls: narrowband codecs, packet loss, jitter, phone bands, competing talker) and serves calls; "
        "scores of the old telephony model are not comparable with the new default's"
    ),
})
"""Name of a packaged model no longer shipped -> why, and what to use instead."""
DEFAULT_MODEL = MODELS_DIR / PACKAGED_MODELS["default"]


def _refuse_retired(name: str) -> None:
    """ValueError when `name` is a retired packaged model: what replaced it, and how to pass a file of that name."""
    if name in RETIRED_MODELS:
        # "./NAME" survives only where the value stays a string (--model): a pathlib.Path drops the "./"
        raise ValueError(
            f"model {name!r}: {RETIRED_MODELS[name]}. A file literally named {name}: pass ./{name} to --model, "
            "or its absolute path anywhere"
        )


def _checkpoint_path(name: str) -> Path:
    _refuse_retired(name)
    if name not in PACKAGED_MODELS:
        raise ValueError(f"name must be a packaged model ({', '.join(PACKAGED_MODELS)}), got {name!r}")
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
    """The packaged model `path` names (None means "default"), or None for a file path.

    ValueError for a retired name (`RETIRED_MODELS`), with the way to pass a file of that name.
    """
    if path is None:
        return "default"
    name = str(path)
    _refuse_retired(name)
    return name if name in PACKAGED_MODELS else None


def resolve_model(path: str | Path | None) -> Path:
    """A checkpoint path from the command line: None or a packaged model's name ("default") mean
    that packaged model, a retired name raises ValueError (`packaged_name`), anything else is a file path."""
    name = packaged_name(path)
    return packaged_checkpoint(name) if name is not None else Path(path)  # type: ignore[arg-type]
