#!/usr/bin/env bash
# Issue 15's GPU checks in one go, for a session lent a GPU (about 7 minutes; keep it under 8):
#   1. the CUDA-path tests (graphs really captured and replayed, compared with the eager loop and
#      with the float64 reference; the compiled step; TRPO);
#   2. the speed tables with GPU rows: `train` end to end (default = CUDA graph; --compile;
#      --no-cuda-graph; this machine's CPU), meta-batch 25 / 100 / 1,000 / 10,000, the largest
#      meta-batch that fits, navigation Adam vs TRPO per iteration.
# Needs torch with CUDA, numpy, pandas, safetensors, tqdm and pytest (not Streamlit or Plotly).
# Usage: bash benchmarks/gpu_check.sh   (the log also goes to ${OUT:-/tmp}/gpu_check.txt)
set -uo pipefail
cd "$(dirname "$0")/.."
export CUBLAS_WORKSPACE_CONFIG=:4096:8 MAML_VIZ_RUNS="$(mktemp -d)"
log="${OUT:-/tmp}/gpu_check.txt"
{
  echo "== machine"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  python -c "import torch, os; print('torch', torch.__version__, 'CUDA', torch.version.cuda, \
torch.cuda.get_device_name(), os.cpu_count(), 'CPU cores')"
  echo "== CUDA-path tests"
  timeout 200 python -m pytest -q -p no:cacheprovider tests/test_stepper.py tests/test_trpo.py \
      tests/test_gradients.py tests/test_engine.py 2>&1 | tail -15
  echo "== speed, GPU rows"
  timeout 270 python benchmarks/speed.py --device cuda --budget 250 --rounds 2
  echo "== done in ${SECONDS} s"
} 2>&1 | tee "$log"
