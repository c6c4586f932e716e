#!/usr/bin/env bash
# Random-weight benchmark models with real shapes, written to models/bench/<name>/ (git-ignored).
# Usage: tools/model/make-bench-models.sh [qwen2.5-0.5b|llama3.2-1b|all]   (default: all)
# Needs: apt-get install -y python3-torch python3-onnx python3-numpy python3-regex libopenblas0-pthread
# Disk: qwen2.5-0.5b ~2.5 GB, llama3.2-1b ~6 GB (fp32, tied lm_head stored transposed a second time).
# Peak memory: ~8 GB (0.5B), ~16 GB (1B).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"  # tools.model is a package in the repository root
exec "${PYTHON:-/usr/bin/python3}" -m tools.model.make_bench_models "${1:-all}" "${@:2}"
