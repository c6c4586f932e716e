#!/usr/bin/env bash
# Runs every benchmark suite and regenerates docs/benchmarks.md (tables, plots in docs/benchmarks/,
# raw CSV and PNG in target/benchmarks/).
# Usage: tools/bench/run.sh [--quick] [--suites kv,overhead,prompt-cache,conversation,codec,concurrency,batch-pass,constrain,noisy-neighbours,prefill-interference]
#   full: 20-40 minutes on 2 cores (the Qwen-shape concurrency levels at max-batch-size 1 take the longest);
#   --quick: under 5. With --suites, only those run and their report goes to
#   target/benchmarks/benchmarks-<suites>.md instead of replacing docs/benchmarks.md.
# Makes the Qwen2.5-0.5B-shape benchmark model first when models/bench/ lacks it (needs Debian's
# python3-torch and python3-onnx; installed with apt-get when missing and running as root).
set -euo pipefail
cd "$(dirname "$0")/../.."
quick=false
suites=kv,overhead,prompt-cache,conversation,codec,concurrency,batch-pass,constrain,noisy-neighbours,prefill-interference
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=true ;;
    --suites) suites="$2"; shift ;;
    *) echo "Unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

if [ ! -f models/bench/qwen2.5-0.5b/model.onnx ]; then
  if ! /usr/bin/python3 -c 'import torch, onnx' 2>/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && apt-get install -y -qq python3-torch python3-onnx python3-numpy python3-regex
    else
      echo "Install the model tooling first: sudo apt-get install -y python3-torch python3-onnx python3-numpy python3-regex" >&2
      exit 1
    fi
  fi
  tools/model/make-bench-models.sh qwen2.5-0.5b
fi

./mvnw -B -q -Pbench test -Dtest=BenchmarkSuiteRunner -Dbench.quick="$quick" -Dbench.suites="$suites" -Dsurefire.failIfNoSpecifiedTests=false
echo "Wrote the report (docs/benchmarks.md, or target/benchmarks/ for a subset of suites)"
