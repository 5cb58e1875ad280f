"""Agreement with listeners, side by side: sesqa and the peers a user would pick instead, on one rated set.

Scores every file of a MOS list (`sesqa.labels.read_mos`: a ``condition`` column gives the
conditions, ``degradation``/``type`` the degradation types) with

- sesqa, one row per ``--model`` (the packaged ``default`` or checkpoint files; default: ``default``);
- DNSMOS via speechmos (`sesqa.evaluation.peers.DnsmosPeer`): its P.808 MOS and its P.835 OVRL,
  two rows from one run (``pip install 'sesqa[peer]'``);
- Distill-MOS (`sesqa.evaluation.peers.distill_mos`; ``pip install --no-deps distillmos==0.9.1 xls-r-sqa==0.1.0``);

- any predictions already made, one row per ``--pred NAME=CSV[:COLUMN]`` (a `sesqa score` CSV,
  the pooled out-of-fold ``predictions.csv`` of `sesqa evaluate --kfold`, a peer's CSV), matched
  to the list by the path as listed or, else, the resolved path;

and prints, on the files every predictor scored, per-file and per-condition PCC, SRCC and RMSE
after P.1401's first-order map to MOS, the raw mean absolute error (the paper's L_MOS), R_RANK
over pairs of files with different MOS, and SRCC within each degradation type
(`sesqa.evaluation.listeners`). A peer that is not installed is skipped with a line saying so.
Also prints each predictor's wall time and the CPU. Asserts nothing. From the repository root:

    .venv/bin/python benchmarks/listeners.py /data/tcd-voip/tcd-voip.csv [--model default --model runs/other/best.ckpt]
        [--peers dnsmos,distillmos | --peers none] [--pred "out of fold=eval/tcd-cv/predictions.csv"]
        [--scores scores.csv] [--json figures.json]

TCD-VoIP's list comes from scripts/prepare_tcd_voip.py; the figures are in docs/recipe.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from sesqa.audio import AudioError
from sesqa.evaluation.listeners import figures_table, listener_figures, types_table
from sesqa.evaluation.peers import PEERS, Peer, PeerUnavailable
from sesqa.evaluation.run.tables import read_predictions
from sesqa.labels import MosItem, read_mos
from sesqa.runtime.device import cpu_name

log = logging.getLogger("benchmarks.listeners")

PEER_ROWS: dict[str, tuple[tuple[str, str], ...]] = {
    "dnsmos": (("DNSMOS P.808", "p808"), ("DNSMOS P.835 OVRL", "ovrl")),
    "distillmos": (("Distill-MOS", "mos"),),
}
"""Per peer, the rows it gives: (row name, the peer's figure)."""


def score_sesqa(model: str, items: Sequence[MosItem]) -> dict[str, float]:
    """sesqa's score of each item (by its path as listed); files it cannot score are left out."""
    from sesqa.scoring.scorer import FileError, open_scorer

    scorer = open_scorer(model, device="cpu")
    scores = {}
    for item, result in zip(items, scorer.score_files([i.path for i in items]), strict=True):
        if isinstance(result, FileError):
            log.warning("sesqa %s cannot score %s: %s", model, item.name, result.error)
        elif not result.scored:
            log.warning("sesqa %s gave %s no score: %s", model, item.name, "; ".join(result.warnings))
        else:
            scores[item.name] = result.score
    return scores


def score_peer(peer: Peer, items: Sequence[MosItem], figures: Sequence[str]) -> dict[str, dict[str, float]]:
    """Each of the peer's ``figures`` per item; files it cannot read are left out."""
    out: dict[str, dict[str, float]] = {f: {} for f in figures}
    for item in items:
        try:
            found = peer.score_file(item.path)
        except AudioError as e:
            log.warning("%s cannot score %s", peer.name, e)
            continue
        for f in figures:
            out[f][item.name] = found[f]
    return out


def parse_pred(text: str) -> tuple[str, Path, str | None]:
    """'NAME=CSV[:COLUMN]' -> (row name, CSV path, score column or None); ValueError naming the text."""
    name, sep, rest = text.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise ValueError(f"--pred: {text!r} is not NAME=CSV[:COLUMN]")
    path, column = rest, ""
    if ":" in rest and "/" not in rest.rsplit(":", 1)[1]:
        path, _, column = rest.rpartition(":")
    return name.strip(), Path(path), column.strip() or None


def given_scores(items: Sequence[MosItem], predictions: dict[str, float]) -> dict[str, float]:
    """The predictions of the listed items, found by the path as listed, else by the resolved path."""
    resolved = {str(Path(p).resolve()): score for p, score in predictions.items()}
    out = {}
    for item in items:
        score = predictions.get(item.name, resolved.get(str(Path(item.path).resolve())))
        if score is not None:
            out[item.name] = score
    return out


def run_predictors(items: Sequence[MosItem], models: Sequence[str], peers: Sequence[str], make_peer: Callable[[str], Peer]) -> tuple[dict[str, dict[str, float]], dict[str, float], list[str]]:
    """(scores per row name, wall seconds per predictor, notes on skipped peers)."""
    scores: dict[str, dict[str, float]] = {}
    seconds: dict[str, float] = {}
    notes: list[str] = []
    for model in models:
        start = time.perf_counter()
        scores[f"sesqa {model}"] = score_sesqa(model, items)
        seconds[f"sesqa {model}"] = time.perf_counter() - start
    for name in peers:
        start = time.perf_counter()
        try:
            peer = make_peer(name)
        except PeerUnavailable as e:
            notes.append(f"{name}: skipped, not installed ({e})")
            continue
        rows = PEER_ROWS[name]
        found = score_peer(peer, items, [figure for _, figure in rows])
        scores.update({row: found[figure] for row, figure in rows})
        seconds[name] = time.perf_counter() - start
    return scores, seconds, notes


def write_scores(path: Path, items: Sequence[MosItem], scores: dict[str, dict[str, float]]) -> None:
    """Every file's MOS, condition, type and each row's score ('' where it gave none)."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "mos", "condition", "degradation", *scores])
        for item in items:
            cells = [f"{scores[row][item.name]:.6f}" if item.name in scores[row] else "" for row in scores]
            writer.writerow([item.name, item.mos, item.system or "", item.degradation or "", *cells])


def main(argv: Sequence[str] | None = None, make_peer: Callable[[str], Peer] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels", type=Path, help="MOS list (path, mos; optional condition, degradation)")
    parser.add_argument("--model", action="append", help="sesqa model: packaged name or checkpoint (repeatable; default: default, none when --pred is given)")
    parser.add_argument("--peers", default=",".join(PEER_ROWS), help=f"comma-separated peers to run, or 'none' (default: {','.join(PEER_ROWS)})")
    parser.add_argument("--pred", action="append", metavar="NAME=CSV[:COLUMN]", help="predictions already made, as a row named NAME (repeatable; default column: score)")
    parser.add_argument("--scores", type=Path, help="write every file's scores here (CSV)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    peers = [] if args.peers.strip().lower() == "none" else [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = [p for p in peers if p not in PEER_ROWS]
    if unknown:
        parser.error(f"--peers: unknown {', '.join(unknown)}; choose from {', '.join(PEER_ROWS)} or none")
    try:
        given = [parse_pred(text) for text in args.pred or ()]
    except ValueError as e:
        parser.error(str(e))
    models = args.model or ([] if given else ["default"])
    items = read_mos(args.labels, skip_missing=True)
    scores, seconds, notes = run_predictors(items, models, peers, make_peer or (lambda name: PEERS[name]()))
    for name, path, column in given:
        try:
            scores[name] = given_scores(items, read_predictions(path, column))
        except (ValueError, OSError) as e:
            print(f"--pred {name}: {e}", file=sys.stderr)
            return 2
        notes.append(f"{name}: {len(scores[name])} of {len(items)} files found in {path}")
    common = [i for i in items if all(i.name in s for s in scores.values())]
    if len(common) < 2:
        print(f"only {len(common)} of {len(items)} files were scored by every predictor: no figures", file=sys.stderr)
        return 1
    figures = [
        (row, listener_figures([s[i.name] for i in common], [i.mos for i in common], [i.system for i in common], [i.degradation for i in common]))
        for row, s in scores.items()
    ]  # fmt: skip
    audio_note = f"{len(common)} of {len(items)} listed files, scored by every predictor"
    print(f"{args.labels}: {audio_note}; CPU: {cpu_name()}")
    for note in notes:
        print(note)
    print()
    print(figures_table(figures))
    print()
    print("SRCC within each degradation type")
    print(types_table(figures))
    print()
    print("wall time (s, model loading included): " + ", ".join(f"{name} {s:.1f}" for name, s in seconds.items()))
    if args.scores is not None:
        write_scores(args.scores, items, scores)
    if args.json is not None:
        payload = {"labels": str(args.labels), "files": len(common), "cpu": cpu_name(), "skipped": notes, "seconds": seconds, "figures": {row: asdict(f) for row, f in figures}}
        args.json.write_text(json.dumps(payload, indent=2, allow_nan=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
