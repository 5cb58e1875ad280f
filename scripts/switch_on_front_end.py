"""Write a checkpoint saved without the input front-end again with the front-end switched on.

The weights are kept as they are (no retraining): the model then sees each 1 s frame with DC
removed, at -16 dBFS RMS and with canonical polarity, so its score no longer moves with playback
gain, polarity or DC offset. The generated training frames sit near -16 dBFS already, which is
why the weights still rank speech nearly as well (docs/model-card.md gives the cost).

    python scripts/switch_on_front_end.py OLD.ckpt NEW.ckpt
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

import torch

from sesqa.model.checkpoint import TRAINING_STATE, load_checkpoint, save_checkpoint
from sesqa.model.config import LEGACY_FRONT_END, ModelConfig
from sesqa.model.network import SesqaModel

log = logging.getLogger("switch_on_front_end")


def switch_on_front_end(src: Path, dst: Path) -> None:
    """Copy `src` to `dst` (fp16, no resume state) with ModelConfig's default front-end fields."""
    loaded = load_checkpoint(src)
    defaults = {f.name: f.default for f in dataclasses.fields(ModelConfig)}
    on = {name: defaults[name] for name in LEGACY_FRONT_END}
    if all(getattr(loaded.config, name) == value for name, value in on.items()):
        raise SystemExit(f"{src}: the front-end is already on")
    model = SesqaModel(dataclasses.replace(loaded.config, **on))
    model.load_state_dict(loaded.model.state_dict(), strict=True)
    extra = {k: v for k, v in (loaded.extra or {}).items() if k not in TRAINING_STATE}
    extra["export"] = {**extra.get("export", {}), "front_end": "switched on after training, weights unchanged"}
    save_checkpoint(dst, model.eval(), metric_stats=loaded.metric_stats, extra=extra, weights_dtype=torch.float16)
    log.info("wrote %s: %s", dst, on)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    switch_on_front_end(args.src, args.dst)


if __name__ == "__main__":
    main()
