#!/usr/bin/env bash
# The GPU checks of the neural estimators, as one script for a machine with CUDA (CI has none):
# training throughput against a raw torch loop in fp16 and fp32, then tests/test_neural_gpu.py.
# Run from the repository root with a CUDA build of torch; results also go to $OUT if set.
#
#   bash benchmarks/gpu_check.sh
set -u
OUT=${OUT:-/tmp}
export PYTHONPATH=$PWD
# A source tree has no tsrnn._bundled (an install maps datasets/ to it): link it for this run.
[ -e tsrnn/_bundled ] || ln -s ../datasets tsrnn/_bundled
PY=${PYTHON:-python3}
timeout 120 $PY benchmarks/train_throughput.py --device cuda --precision fp16 | tee "$OUT/bench_fp16.txt"
timeout 60 $PY benchmarks/train_throughput.py --device cuda --precision fp32 | tee "$OUT/bench_fp32.txt"
$PY -m pytest -q -p no:cacheprovider tests/test_neural_gpu.py 2>&1 | tail -8 | tee "$OUT/gpu_tests.txt"
