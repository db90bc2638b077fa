#!/usr/bin/env bash
# Spark scaling on a larger machine: `benchmarks spark` at 1, 4, 8 and 16 local cores,
# full scale (1,000,000 communications; 1,000,000 contact rows), against the pure-Python
# single process in the same run. Target (issue 14): local[16] routes at least 12x the
# local[1] throughput ("route scaling" line).
#
# Needs: Java 17+ on PATH and this checkout installed with the spark extra
#   python -m venv .venv && .venv/bin/pip install -e '.[spark]' duckdb
# (duckdb: the shared-contacts benchmark module imports it). About 16 GB of memory.
# Usage: benchmarks/device/spark_scaling.sh [OUT_DIR]
#   env: PYTHON (default .venv/bin/python), SCALE (1), CORES (1,4,8,16),
#        DRIVER_MEMORY (16g), SEED (7)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
OUT_DIR=${1:-${OUT:-.}}
mkdir -p "$OUT_DIR"
if ! command -v java >/dev/null 2>&1; then
  echo "spark_scaling: no Java runtime on PATH (apt-get install default-jre-headless)" >&2
  exit 2
fi
if ! "$PY" -c "import pyspark, pyarrow, duckdb" 2>/dev/null; then
  echo "spark_scaling: install the checkout with: pip install -e '.[spark]' duckdb" >&2
  exit 2
fi
nproc_have=$(nproc)
echo "cores on this machine: $nproc_have (local[N] above that oversubscribes)"
"$PY" -m benchmarks spark \
  --scale "${SCALE:-1}" \
  --cores "${CORES:-1,4,8,16}" \
  --seed "${SEED:-7}" \
  --driver-memory "${DRIVER_MEMORY:-16g}" 2>&1 \
  | grep -v -e ' WARN ' -e 'FutureWarning' -e 'require_minimum_pandas_version' \
  | tee "$OUT_DIR/spark-scaling.txt"
