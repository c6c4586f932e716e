#!/usr/bin/env bash
# Reproducible build of the bundled default model "kvshare-support-tiny":
#   traffic-shaped corpus -> tokenizer -> time-boxed, resumable training (copy practice alone until the model
#   copies, then the corpus with copy practice, then more of both with half the copy practice in text rows, then
#   a polish from those weights with a fresh optimiser) -> ONNX export
#   -> src/main/resources/kvshare/bundled-model/ and verify/reference.json (with --out elsewhere: DIR and
#   WORK/reference.json, so that an evaluation build leaves the tracked files alone)
# Evaluate the result with tools/model/eval/run-eval.sh before committing it (docs/models.md).
# Needs Debian's packages (PyPI is not used):
#   apt-get install -y python3-torch python3-onnx python3-numpy python3-regex libopenblas0-pthread libjemalloc2
# Usage: tools/model/build-bundled-model.sh [--minutes M] [--text-minutes T] [--polish-minutes P] [--out DIR]
#        [--work DIR] [--new-tokenizer]
# Training runs for M minutes (default 90), then T more (default 30) with text copy practice, then P more (default
# 30) of polish, on 2 CPU cores; each stage resumes from its last checkpoint if rerun.
# The shipped model's tokenizer is kept, also with --out elsewhere (token ids are part of the model's interface);
# --new-tokenizer trains one of its kind on the corpus's first 3,000 dialogues instead: byte-level BPE whose space
# never merges into a word, so that a said word and a quoted tool argument are the same tokens.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${PYTHON:-/usr/bin/python3}"
MINUTES=90
TEXT_MINUTES=30
POLISH_MINUTES=30
SHIPPED="$ROOT/src/main/resources/kvshare/bundled-model"
OUT="$SHIPPED"
WORK="$HERE/work"
NEW_TOKENIZER=false
# a 900-token system prompt by the generator's count is up to ~1,550 with the space apart, plus the conversation
CONTEXT=3072
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES="$2"; shift 2 ;;
    --text-minutes) TEXT_MINUTES="$2"; shift 2 ;;
    --polish-minutes) POLISH_MINUTES="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --new-tokenizer) NEW_TOKENIZER=true; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
# absolute before the cd below, so that --out and --work are relative to where the script is called from
OUT="$(realpath -m "$OUT")"
WORK="$(realpath -m "$WORK")"
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 PYTHONHASHSEED=0
mkdir -p "$WORK"
cd "$ROOT"  # tools.model is a package run from the repository root
echo "== corpus"
"$PY" -m tools.model.traffic_corpus --out "$WORK/corpus" --train 32000 --heldout 300 --per-prompt 8 --seed 1234 --drills 16000
echo "== tokenizer"
mkdir -p "$WORK/tokenizer"
if [ "$NEW_TOKENIZER" = true ] || [ ! -f "$SHIPPED/tokenizer.json" ]; then
  head -3000 "$WORK/corpus/train.jsonl" > "$WORK/tokenizer-corpus.jsonl"
  "$PY" -m tools.model.bpe_tokenizer --corpus "$WORK/tokenizer-corpus.jsonl" --vocab-size 3072 --model-max-length "$CONTEXT" \
    --digit-merges pairs --space-apart --out "$WORK/tokenizer"
else
  cp "$SHIPPED/tokenizer.json" "$SHIPPED/tokenizer_config.json" "$WORK/tokenizer/"
fi
# Under glibc's malloc every step's large activation buffers went back to the kernel when freed and were faulted
# in again on the next step (70,000 page faults a second, a third of the CPU in the kernel): steps took 2.6 times
# as long as under jemalloc told never to return memory (about 3 GB resident). docs/models.md, "Tooling".
JEMALLOC="$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -1 || true)"
[ -n "$JEMALLOC" ] || echo "warning: libjemalloc2 is not installed; training runs at about 40 % of its speed" >&2
train() {  # train.py with the options every stage shares and the stage's own after them
  LD_PRELOAD="$JEMALLOC" MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 nice -n 10 \
    "$PY" -m tools.model.train --corpus "$WORK/corpus" --tokenizer "$WORK/tokenizer" --steps 100000 --log-every 10 \
    --checkpoint-every 20 --max-len "$CONTEXT" --group-prompts --warmup 20 --threads 2 "$@"
}
from_scratch() {  # train until $1 minutes in all (a finished stage rerun returns at once), extra options after
  train --out "$WORK/checkpoint.pt" --max-minutes "$1" --lr 2e-3 --seed 1234 --copy-batch 32 --copy-first 0.9 \
    --config '{"num_hidden_layers": 4, "max_position_embeddings": '"$CONTEXT"', "tie_word_embeddings": true}' "${@:2}"
}
echo "== training (resumes from $WORK/checkpoint.pt.resume if present)"
from_scratch "$MINUTES"
# Text rows copy coined words, numbers and addresses between their said and their quoted form, as tool arguments
# do. From the start they slowed the corpus and cost phrasings the held-out set does not ask (docs/model-history.md);
# resumed into a longer box, the schedule's cosine stretches over it and the corpus carries on beside them.
echo "== text copy practice ($TEXT_MINUTES more minutes)"
from_scratch "$((MINUTES + TEXT_MINUTES))" --copy-text-share 0.5
# From those weights with a fresh optimiser, a new data order, a tenth of the peak rate and half the copy practice:
# it took the greedy replies that run to max_tokens from 7 to 3 of 747 held-out asks and from 5 to 1 of the 74
# phrasings, and raised every greedy column of the evaluation (docs/models.md, "The space kept apart").
echo "== polish ($POLISH_MINUTES more minutes; resumes from $WORK/polish.pt.resume if present)"
train --out "$WORK/polish.pt" --init-checkpoint "$WORK/checkpoint.pt" --max-minutes "$POLISH_MINUTES" --lr 2e-4 \
  --seed 1235 --copy-batch 16 --copy-text-share 0.5
echo "== export"
# the tracked torch reference belongs to the shipped model; a build elsewhere writes its own into the work dir
REFERENCE="$HERE/verify/reference.json"
[ "$OUT" = "$(realpath -m "$SHIPPED")" ] || REFERENCE="$WORK/reference.json"
"$PY" -m tools.model.bundle --checkpoint "$WORK/polish.pt" --tokenizer "$WORK/tokenizer" --corpus "$WORK/corpus" \
  --out "$OUT" --reference "$REFERENCE" --temperature 0.5 --top-p 0.9
echo "== done: $OUT"
ls -l "$OUT"
