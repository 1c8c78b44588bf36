#!/usr/bin/env bash
# The GPU checks of the neural estimators, as one script for a machine with CUDA (CI has none):
# the dtype cuDNN's LSTM runs in under autocast, training throughput against a raw torch loop
# in fp16, bf16 and fp32, then tests/test_neural_gpu.py. Run from the repository root with a
# CUDA build of torch; results also go to $OUT if set.
#
#   bash benchmarks/gpu_check.sh
set -u
OUT=${OUT:-/tmp}
export PYTHONPATH=$PWD
# A source tree has no tsrnn._bundled (an install maps datasets/ to it): link it for this run.
[ -e tsrnn/_bundled ] || ln -s ../datasets tsrnn/_bundled
PY=${PYTHON:-python3}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
timeout 60 $PY - <<'PROBE' 2>&1 | tee "$OUT/probe.txt"
# What each autocast dtype runs cuDNN's LSTM in, and how fast a true bfloat16 LSTM is.
import time

import torch
from torch.profiler import ProfilerActivity, profile

print("torch", torch.__version__, "cuDNN", torch.backends.cudnn.version())
lstm = torch.nn.LSTM(8, 128, 2, batch_first=True).cuda()
x = torch.randn(1024, 96, 8, device="cuda")
for dtype in (torch.float16, torch.bfloat16):
    with torch.autocast("cuda", dtype=dtype), profile(activities=[ProfilerActivity.CUDA]) as prof:
        out, _ = lstm(x)
        out.float().sum().backward()
        torch.cuda.synchronize()
    kernels = sorted(e.key[:60] for e in prof.key_averages() if "LSTM" in e.key)[:2]
    print(f"autocast {dtype}: LSTM output {out.dtype}; kernels {kernels}")


def ms(module, inputs, context):
    for i in range(60):
        if i == 10:
            torch.cuda.synchronize()
            start = time.perf_counter()
        with context:
            module(inputs)[0].float().sum().backward()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) * 1000 / 50


print(f"fwd+bwd, B=1024 L=96 hidden 128x2: fp32 {ms(lstm, x, torch.autocast('cuda', enabled=False)):.2f} ms, "
      f"fp16 autocast {ms(lstm, x, torch.autocast('cuda', dtype=torch.float16)):.2f} ms, "
      f"bf16 weights and inputs {ms(lstm.bfloat16(), x.bfloat16(), torch.autocast('cuda', enabled=False)):.2f} ms")
PROBE
timeout 150 $PY benchmarks/train_throughput.py --device cuda --precision fp16 | tee "$OUT/bench_fp16.txt"
timeout 150 $PY benchmarks/train_throughput.py --device cuda --precision bf16 | tee "$OUT/bench_bf16.txt"
timeout 100 $PY benchmarks/train_throughput.py --device cuda --precision fp32 | tee "$OUT/bench_fp32.txt"
timeout 200 $PY -m pytest -q -p no:cacheprovider tests/test_neural_gpu.py 2>&1 | tail -8 | tee "$OUT/gpu_tests.txt"
