"""Stand-in MOS lists from generated shards: PESQ (MOS-LQO) in place of listeners' MOS.

The bundled corpus has no listening-test scores, yet L_MOS, two rows of the loss ablation and
E_TOTAL all need a MOS list. This writes one per shard split from the quadruples whose x_i is
clean: the 1 s frame x_ik, and x_jk (the same window of x_i degraded further), as 48 kHz WAV
files, each labelled with its wide-band PESQ against x_ik (`sesqa.generator.metrics.pesq`: the
clean frame against itself gets PESQ's ceiling, 4.64). The "system" of a file is its quadruple's
first degradation (clean for x_ik), so system-level figures group by condition.

PESQ is a model of listeners, not listeners: figures on these lists measure agreement with PESQ.
docs/ablation.md says so wherever it uses them.

    .venv/bin/python scripts/pesq_mos_lists.py SHARDS OUT [--split train --split test] [--max 600]

writes OUT/<split>/*.wav and OUT/mos-<split>.csv (path,mos,system; paths relative to the CSV).
"""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

import numpy as np
import soundfile as sf

from sesqa.runtime.files import atomic_write_text
from sesqa.generator.metrics.pesq import pesq
from sesqa.shards.reader import read_shard

log = logging.getLogger("pesq_mos_lists")


def write_split(shards: Path, split: str, out: Path, limit: int) -> int:
    """Frames and labels of one split; returns the number of files listed."""
    folder = out / split
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["path,mos,system"]
    quadruples = 0
    for shard in sorted(shards.glob(f"{split}-*.tar")):
        log.info("%s: reading %s", split, shard.name)
        for sample in read_shard(shard):
            record = sample.record
            if record.chain_i or quadruples >= limit:
                continue
            ik, _, jk, _ = sample.frames()
            sr = record.sample_rate
            for name, frame, system in ((f"{record.key}-ik", ik, "clean"), (f"{record.key}-jk", jk, record.chain_j[0].type)):
                mos = pesq(ik, frame, sr)
                if not math.isfinite(mos):
                    log.warning("%s: PESQ undefined (silent frame?); left out", name)
                    continue
                sf.write(folder / f"{name}.wav", np.asarray(frame, np.float32), sr, subtype="FLOAT")
                lines.append(f"{split}/{name}.wav,{mos:.4f},{system}")
            quadruples += 1
    atomic_write_text(out / f"mos-{split}.csv", "\n".join(lines) + "\n")
    return len(lines) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shards", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--split", action="append", default=None, help="splits to list (default: train and test)")
    parser.add_argument("--max", type=int, default=600, help="quadruples with a clean x_i per split (default 600)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    for split in args.split or ["train", "test"]:
        n = write_split(args.shards, split, args.out, args.max)
        log.info("%s: %d files in %s", split, n, args.out / f"mos-{split}.csv")


if __name__ == "__main__":
    main()
