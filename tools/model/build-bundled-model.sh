#!/usr/bin/env bash
# Reproducible build of the bundled default model "kvshare-support-tiny":
#   corpus -> tokenizer -> training -> ONNX export -> src/main/resources/kvshare/bundled-model/
# Needs Debian's packages (PyPI is not used):
#   apt-get install -y python3-torch python3-onnx python3-numpy python3-regex libopenblas0-pthread
# Usage: tools/model/build-bundled-model.sh [--steps N] [--out DIR] [--work DIR]
# About 25 minutes on 2 CPU cores (training ~23 minutes).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${PYTHON:-/usr/bin/python3}"
STEPS=1200
OUT="$ROOT/src/main/resources/kvshare/bundled-model"
WORK="$HERE/work"
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) STEPS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 PYTHONHASHSEED=0
mkdir -p "$WORK"
cd "$HERE"
echo "== corpus";    "$PY" support_corpus.py --out "$WORK/corpus" --train 24000 --heldout 1000 --seed 1234
echo "== tokenizer"; "$PY" bpe_tokenizer.py --corpus "$WORK/corpus/train.jsonl" --vocab-size 3072 --out "$WORK/tokenizer"
echo "== training"
"$PY" train.py --corpus "$WORK/corpus" --tokenizer "$WORK/tokenizer" --out "$WORK/checkpoint.pt" \
  --steps "$STEPS" --tokens-per-batch 2048 --lr 2e-3 --warmup 100 --seed 1234 --threads 2 \
  --config '{"num_hidden_layers": 4}'
echo "== export";    "$PY" bundle.py --checkpoint "$WORK/checkpoint.pt" --tokenizer "$WORK/tokenizer" \
                       --corpus "$WORK/corpus" --out "$OUT" --reference "$HERE/verify/reference.json"
echo "== done: $OUT"
ls -l "$OUT"
