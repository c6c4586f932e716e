#!/usr/bin/env bash
# The peer benchmark (docs/benchmarks.md, "Peers"): kvshare against llama.cpp (node-llama-cpp) and transformers.js
# on the same weights and prompts. Prints the table; writes target/benchmarks/peers.json (the table and raw runs).
# Usage: tools/bench/peers.sh [MODEL_DIR] [--reps N] [--long TOKENS] [--work DIR] ...
#   MODEL_DIR: an fp32 export, default models/bench/qwen2.5-0.5b (tools/bench/run.sh makes it).
#   --work: where the GGUFs, the int4/int8 exports and the prompts go (default target/peers; several GB for 0.5B).
#   --engines "kvshare int4" "llama.cpp Q4_0": run only these columns.
# Needs node 20 and npm (the peers install from the registry with npm ci), Java 17, and Debian's python3-onnx and
# python3-numpy. Long on the 0.5B shape: at load ~18 on 2 cores, one repetition's kvshare and transformers.js
# columns took about 17 minutes (after 10 making the files) and llama.cpp F32 on 2 threads did not finish in 35 (docs/benchmarks.md, "Peers").
set -euo pipefail
cd "$(dirname "$0")/../.."
model=models/bench/qwen2.5-0.5b
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then model="$1"; shift; fi
args=("$@")
case " ${args[*]-} " in *" --work "*) ;; *) args+=(--work target/peers) ;; esac

if [ ! -d tools/bench/peers/node_modules/node-llama-cpp ]; then
  # onnxruntime-node's install script would fetch CUDA binaries; llama.cpp's CPU binary comes prebuilt from npm.
  (cd tools/bench/peers && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund)
fi
jar=$(ls target/kvshare-*.jar 2>/dev/null | grep -v original | head -1 || true)
if [ -z "$jar" ]; then
  ./mvnw -B -q package -DskipTests
  jar=$(ls target/kvshare-*.jar | grep -v original | head -1)
fi
mkdir -p target/benchmarks
/usr/bin/python3 tools/bench/peer_bench.py "$model" --jar "$jar" --out target/benchmarks/peers.json "${args[@]}"
