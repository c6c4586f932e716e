#!/usr/bin/env bash
# Runs every benchmark suite and regenerates docs/benchmarks.md (tables, plots in docs/benchmarks/,
# raw CSV and PNG in target/benchmarks/).
# Usage: tools/bench/run.sh [--quick]      full: under 30 minutes on 2 cores; --quick: under 5.
# Makes the Qwen2.5-0.5B-shape benchmark model first when models/bench/ lacks it (needs Debian's
# python3-torch and python3-onnx; installed with apt-get when missing and running as root).
set -euo pipefail
cd "$(dirname "$0")/../.."
quick=false
if [ "${1:-}" = "--quick" ]; then quick=true; fi

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

./mvnw -B -q -Pbench test -Dtest=BenchmarkSuiteRunner -Dbench.quick="$quick" -Dsurefire.failIfNoSpecifiedTests=false
echo "Wrote docs/benchmarks.md"
