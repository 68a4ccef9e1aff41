#!/bin/bash
# The GPU checks of issue 13, in one go, on a GPU node where the project is installed
# (PYTHON defaults to .venv/bin/python): the device and package versions, bench/batching.py in full
# (single points, lockstep relaxation, lockstep MD, heat-capacity force pass, the main-set MOFs of
# <= 110 atoms, one large structure; peak GPU memory per pack) and tests/test_gpu.py (CUDA vs CPU,
# batched vs the calculator on the GPU, lockstep MD vs the calculator on the GPU). Output also goes
# to $OUT_DIR (default ./var/gpu_checks) for the record.
set -u
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
OUT_DIR=${OUT_DIR:-var/gpu_checks}
mkdir -p "$OUT_DIR"
export PYTHONUNBUFFERED=1
{
    date -u
    nvidia-smi -L
    "$PYTHON" -c "import torch, e3nn, sevenn, ase
print('torch', torch.__version__, 'cuda', torch.cuda.is_available() and torch.cuda.get_device_name(),
      'e3nn', e3nn.__version__, 'sevenn', sevenn.__version__, 'ase', ase.__version__)"
} 2>&1 | tee "$OUT_DIR/env.txt"
timeout "${BENCH_S:-600}" "$PYTHON" bench/batching.py "$@" 2>&1 | grep -v Warning | tee "$OUT_DIR/batching.txt"
timeout "${TEST_S:-300}" "$PYTHON" -m pytest tests/test_gpu.py -q -p no:cacheprovider 2>&1 | tail -30 | tee "$OUT_DIR/test_gpu.txt"
