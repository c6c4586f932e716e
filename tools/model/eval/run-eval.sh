#!/usr/bin/env bash
# Serve a model directory with the service's jar and run the held-out evaluation against it over HTTP.
# Usage: tools/model/eval/run-eval.sh MODEL_DIR [eval.py options, e.g. --limit 40 --out FILE]
#   PROBE=phrasings runs phrasings.py (its options) instead: fixed phrasings under the README's support prompt.
#   MODEL_DIR "bundled" serves the bundled model. Needs target/kvshare-*.jar (./mvnw -q -DskipTests package)
#   and the traffic corpus (tools/model/build-bundled-model.sh writes it to tools/model/work/corpus).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
PY="${PYTHON:-/usr/bin/python3}"
MODEL="$1"; shift
PORT="${PORT:-18080}"
CORPUS="${CORPUS:-$ROOT/tools/model/work/corpus}"
JAR="$(ls "$ROOT"/target/kvshare-*.jar | head -1)"
ARGS=(--server.port="$PORT")
TOKENIZER="$ROOT/src/main/resources/kvshare/bundled-model/tokenizer.json"
if [ "$MODEL" != bundled ]; then
  ARGS+=(--kvshare.model.path="$MODEL")
  TOKENIZER="$MODEL/tokenizer.json"
fi
java -jar "$JAR" "${ARGS[@]}" > "${TMPDIR:-/tmp}/kvshare-eval-server.log" 2>&1 &
SERVER=$!
# wait for it to exit, so that a next evaluation on the same port cannot reach this server while it shuts down
trap 'kill $SERVER 2>/dev/null && wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf "localhost:$PORT/v1/models" > /dev/null && break
  kill -0 $SERVER 2>/dev/null || { cat "${TMPDIR:-/tmp}/kvshare-eval-server.log"; exit 1; }
  sleep 1
done
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"  # tools.model is a package in the repository root
if [ "${PROBE:-}" = phrasings ]; then
  "$PY" -m tools.model.eval.phrasings --url "http://localhost:$PORT" "$@"
else
  "$PY" -m tools.model.eval.eval --url "http://localhost:$PORT" --heldout "$CORPUS/heldout.jsonl" \
    --vocab-from "$CORPUS/train.jsonl" --tokenizer "$TOKENIZER" "$@"
fi
