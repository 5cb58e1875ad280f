#!/usr/bin/env bash
# The figures a candidate default model must show (issue "Agree with listeners", items 1, 3, 4),
# beside the packaged default model, each written under OUT. Run it once training is done: it
# reads TCD-VoIP, a test set for the candidate, so nothing may be chosen on what it prints.
#
# Usage: scripts/measure_default.sh CANDIDATE OUT
#   CANDIDATE  the trained checkpoint (e.g. runs/default-v2/weighted/last.ckpt)
#   SHARDS     the run's shards: R_RANK and L_CONS on the test split          (required)
#   TCD        the TCD-VoIP list (scripts/prepare_tcd_voip.py): listeners     (skipped if unset)
#   FULLBAND   held-out full-band clips (sesqa corpus build DIR --set fullband)   (required)
#   CORPUS     the built corpus: one clip of >= 3 s per test-split speaker    (required)
#   SPEAKERS   how many of those speakers the sweep takes (the sources in turn; default 12: about 250
#              signals a clip, 1.4 signals/s on 2 busy cores)
#   PEERS      dnsmos,distillmos (default) or none; with PEER_SCORES, an earlier
#              `benchmarks/listeners.py --scores` CSV whose peer columns are reused
set -euo pipefail
cd "$(dirname "$0")/.."
SESQA=${SESQA:-.venv/bin/sesqa}
PYTHON=${PYTHON:-.venv/bin/python}
CANDIDATE=${1:?usage: scripts/measure_default.sh CANDIDATE OUT}
OUT=${2:?usage: scripts/measure_default.sh CANDIDATE OUT}
: "${SHARDS:?set SHARDS to the shards folder of the run}" "${FULLBAND:?set FULLBAND}" "${CORPUS:?set CORPUS}"
TCD=${TCD:-}
PEERS=${PEERS:-dnsmos,distillmos}
PEER_SCORES=${PEER_SCORES:-}
SPEAKERS=${SPEAKERS:-12}

step() { printf '\n== %s (%s)\n' "$*" "$(date -u +%FT%TZ)" >&2; }
mkdir -p "$OUT"

step "1/6 R_RANK and L_CONS on the generated test split, candidate and packaged"
for model in "$CANDIDATE" default; do
    name=$([ "$model" = default ] && echo packaged || echo candidate)
    "$SESQA" evaluate --model "$model" --shards "$SHARDS" --split test --out "$OUT/test-$name.json" | tee "$OUT/test-$name.txt"
done

step "2/6 agreement with listeners on TCD-VoIP (a test set: read once, nothing chosen on it)"
if [ -n "$TCD" ]; then
    peers=(--peers "$PEERS")
    if [ -n "$PEER_SCORES" ]; then
        peers=(--peers none --pred "DNSMOS P.808=$PEER_SCORES:DNSMOS P.808" --pred "Distill-MOS=$PEER_SCORES:Distill-MOS")
    fi
    "$PYTHON" benchmarks/listeners.py "$TCD" --model "$CANDIDATE" --model default "${peers[@]}" \
        --scores "$OUT/tcd-scores.csv" --json "$OUT/tcd.json" | tee "$OUT/tcd.txt"
else
    echo "TCD unset: no listeners benchmark" >&2
fi

step "3/6 held-out clips: the full-band set and one clip of >= 3 s from each of $SPEAKERS test-split speakers"
"$PYTHON" - "$CORPUS" "$OUT/test-speakers.txt" "$SPEAKERS" <<'EOF'
import csv, sys
from pathlib import Path
root, out, limit = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
chosen = {}
with open(root / "manifest.tsv", newline="") as f:
    for row in csv.DictReader(f, delimiter="\t"):
        if row["split"] == "test" and float(row["duration_s"]) >= 3.0:
            chosen.setdefault(row["speaker"], (row["source"], str(root / row["file"])))
by_source = {}
for speaker, (source, path) in sorted(chosen.items()):
    by_source.setdefault(source, []).append(path)
# the sources in turn, so that a few speakers still come from each
taken = sorted((k, source, path) for source, paths in by_source.items() for k, path in enumerate(paths))[:limit]
out.write_text("".join(f"{path}\n" for _, _, path in taken))
print(f"{len(taken)} of {len(chosen)} test-split speakers", file=sys.stderr)
EOF

step "4/6 sweep, pool all, candidate: rho of score against strength per type"
"$SESQA" sweep "$FULLBAND" "$OUT/test-speakers.txt" --pool all --model "$CANDIDATE" \
    --csv "$OUT/sweep.csv" --plot "$OUT/sweep" | tee "$OUT/sweep.txt"

step "5/6 band order on the full-band clips"
"$PYTHON" benchmarks/band_order.py "$FULLBAND" --model "$CANDIDATE" --model default --json "$OUT/band.json" | tee "$OUT/band.txt"

step "6/6 invariance (gain, polarity, DC, rate, silence)"
"$PYTHON" benchmarks/invariance.py --model "$CANDIDATE" --no-peer --json "$OUT/invariance.json" | tee "$OUT/invariance.txt"

echo "figures in $OUT; whole-process speed: benchmarks/score.py --whole-process-only once the ONNX export replaces the packaged one" >&2
