#!/usr/bin/env bash
# The default model's recipe (issue "Agree with listeners"): the running-speech corpus, the paper's
# 37 degradations and the telephony pool together, a model trained from scratch with the input
# front-end on, continued on balanced draws (every degradation type equally often), then scored
# against listeners. Every step resumes: run it again after a stop.
#
# Usage: scripts/train_default.sh RUN_DIR
#   CORPUS   the built corpus (sesqa corpus build; docs/recipe.md)     default /data/sesqa-speech
#   N        quadruples in all splits (train:valid:test = 20:2:2)      default 24000
#   STEPS    training steps from scratch                               default 6000
#   SIZE     encoder preset: small, paper                              default small
#   WEIGHTS  --loss-weight value ("" = the paper's plain sum)          default dt=0.1,mr=0.2
#   BALANCED_N      quadruples of the balanced continuation's shards (train and valid only)  default 14400
#   BALANCED_STEPS  steps of the continuation at lr 3e-4 (0: none)    default 2400
#   TCD      the TCD-VoIP MOS list (scripts/prepare_tcd_voip.py), scored at the end when present;
#            a test set here: nothing in this recipe reads it before the last step.
set -euo pipefail
cd "$(dirname "$0")/.."
SESQA=${SESQA:-.venv/bin/sesqa}
PYTHON=${PYTHON:-.venv/bin/python}
RUN=${1:?usage: scripts/train_default.sh RUN_DIR}
CORPUS=${CORPUS:-/data/sesqa-speech}
N=${N:-24000}
STEPS=${STEPS:-6000}
SIZE=${SIZE:-small}
WEIGHTS=${WEIGHTS-dt=0.1,mr=0.2}
BALANCED_N=${BALANCED_N:-14400}
BALANCED_STEPS=${BALANCED_STEPS:-2400}
TCD=${TCD:-}

step() { printf '\n== %s (%s)\n' "$*" "$(date -u +%FT%TZ)" >&2; }
mkdir -p "$RUN"

step "1/6 check the corpus against its manifest"
"$SESQA" corpus check "$CORPUS"

step "2/6 generate $N quadruples, pool all (an interrupted run keeps its complete shards)"
"$SESQA" generate --clean "$CORPUS" --pool all --n "$N" --ratios 20,2,2 --seed 0 \
    --shard-size 500 --out "$RUN/shards"

step "3/6 train a $SIZE model for $STEPS steps (resumes from $RUN/model/last.ckpt)"
resume=()
[ -f "$RUN/model/last.ckpt" ] && resume=(--resume)
"$SESQA" train --shards "$RUN/shards" --out "$RUN/model" --model-size "$SIZE" --steps "$STEPS" \
    --batch-size 16 --checkpoint-every 100 --log-every 20 --loss-weight "$WEIGHTS" "${resume[@]}"

FINAL="$RUN/model/last.ckpt"
if [ "$BALANCED_STEPS" -gt 0 ]; then
    step "4/6 generate $BALANCED_N quadruples, pool all, every type equally often (--balance 1, seed 1)"
    "$SESQA" generate --clean "$CORPUS" --pool all --balance 1 --n "$BALANCED_N" --ratios 20,2,2 --seed 1 \
        --split train --split valid --shard-size 500 --out "$RUN/shards-balanced"

    step "5/6 continue for $BALANCED_STEPS steps on them (resumes from $RUN/balanced/last.ckpt)"
    resume=()
    [ -f "$RUN/balanced/last.ckpt" ] && resume=(--resume)
    "$SESQA" train --shards "$RUN/shards-balanced" --out "$RUN/balanced" --init "$RUN/model/last.ckpt" \
        --model-size "$SIZE" --steps "$BALANCED_STEPS" --lr 3e-4 --seed 1 --batch-size 16 --checkpoint-every 100 \
        --log-every 20 --loss-weight "$WEIGHTS" "${resume[@]}"
    FINAL="$RUN/balanced/last.ckpt"
fi

step "6/6 agreement with listeners ($FINAL)"
if [ -n "$TCD" ]; then
    "$PYTHON" benchmarks/listeners.py "$TCD" --model "$FINAL" --model default --peers none \
        --json "$RUN/listeners.json"
else
    echo "TCD unset: no listeners benchmark" >&2
fi
