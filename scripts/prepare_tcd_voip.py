#!/usr/bin/env python3
"""Prepare TCD-VoIP for sesqa: its rated audio, a MOS list with talker folds, checked against the manifest.

    python scripts/prepare_tcd_voip.py SOURCE OUT

SOURCE is an unpacked TCD-VoIP download (the folder holding ``Test Set/`` and the workbook) or a
bare git directory of its GitHub mirror (nschimme/TCD-VOIP). OUT receives ``audio/``,
``tcd-voip.csv`` (``path,mos,mos_std,ratings,condition,degradation,talker,fold,dataset``) and
``folds/fold-<k>-{train,test}.csv``; everything written is compared with the committed checksums
(``sesqa/corpora/manifests/tcd-voip.tsv``). OUT may not lie inside this repository: TCD-VoIP's
licence (CC BY-NC-SA 4.0) keeps its audio out of this GPL package. What is written and why:
``sesqa/corpora/tcd_voip.py``; the recipe: docs/recipe.md, "MOS: TCD-VoIP".

``--write-manifest`` (maintainers) rewrites the committed manifest from this build instead of
checking against it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sesqa.corpora.tcd_voip import MANIFEST, prepare, write_manifest

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="unpacked TCD-VoIP folder or bare git directory of its mirror")
    parser.add_argument("out", type=Path, help="output folder (outside this repository)")
    parser.add_argument("--write-manifest", action="store_true", help=f"rewrite {MANIFEST.relative_to(REPO)} from this build")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = args.out.expanduser().resolve()
    if out == REPO or REPO in out.parents:
        parser.error(f"OUT {out} lies inside the repository {REPO}; TCD-VoIP's audio (CC BY-NC-SA 4.0) stays out of it")
    try:
        prepared = prepare(args.source, out, manifest=None if args.write_manifest else MANIFEST)
    except (ValueError, ImportError, OSError) as e:
        logging.error("%s", e)
        return 1
    if args.write_manifest:
        logging.info("wrote %s", write_manifest(MANIFEST, prepared))
    else:
        logging.info("checked %d files against %s", len(prepared.manifest), MANIFEST.relative_to(REPO))
    folds = ", ".join(f"{k}: {talker}" for talker, k in prepared.folds.items())
    logging.info("%s: %d rated files; folds (leave one talker out) %s", prepared.labels, len(prepared.files), folds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
