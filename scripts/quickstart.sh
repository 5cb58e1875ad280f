#!/usr/bin/env bash
# The whole sesqa pipeline on the bundled data, in a few minutes on 2 CPU cores:
#   generate quadruples -> train a tiny model -> score a held-out clean clip and degraded copies.
# Usage: scripts/quickstart.sh [OUT]   (default OUT: quickstart/; SESQA: the sesqa executable)
set -euo pipefail
cd "$(dirname "$0")/.."
SESQA=${SESQA:-.venv/bin/sesqa}
OUT=${1:-quickstart}
# ro is the held-out (test) language of the bundled corpus's split: neither model trained on it.
CLIPS=sesqa/data/speech/ro
TYPES=additive_noise,low_pass,mp3,clipping,reverb

step() { printf '\n== %s\n' "$*" >&2; }

step "1/4 generate 800 quadruples from the bundled speech and noise (all 11 metric targets)"
"$SESQA" generate --n 800 --shard-size 100 --ratios 80,10,10 --out "$OUT/shards"

step "2/4 train a tiny model for 800 steps (CPU)"
"$SESQA" train --shards "$OUT/shards" --out "$OUT/run" --model-size tiny --steps 800 --batch-size 8 \
    --checkpoint-every 200 --log-every 50

step "3/4 score the held-out clips in $CLIPS degraded at growing strength, with the model just trained"
"$SESQA" sweep "$CLIPS" --model "$OUT/run/best.ckpt" --types "$TYPES" --strengths 0.1,0.5,0.9 \
    --csv "$OUT/sweep-quickstart.csv" --save-audio "$OUT/degraded" --quiet

step "4/4 the same with the packaged default model"
"$SESQA" sweep "$CLIPS" --types "$TYPES" --strengths 0.1,0.5,0.9 --csv "$OUT/sweep-default.csv" --quiet

printf '\nDone. Degraded clips to listen to: %s/degraded/; score any file with: %s score FILE\n' "$OUT" "$SESQA" >&2
