#!/usr/bin/env bash
# The GPU check, one command on a machine with an NVIDIA GPU (about 10 minutes): the CUDA tests,
# then the training-speed benchmark of ResNet-18/50 eager and compiled and the study's GPU-hour
# projection, eager and compiled.
set -uo pipefail
cd "$(dirname "$0")" || exit 2
python -c "import torch; assert torch.cuda.is_available()" 2>/dev/null ||
  { echo "error: no CUDA device visible to python: this check needs an NVIDIA GPU" >&2; exit 2; }
# results/bench/ gets test_cuda.log, eager/, compiled/, study/, study-compiled/ (<device-name>.json;
# <device-name>-study.json under study*/)
OUT=results/bench
mkdir -p "$OUT" || exit 2
failed=0
# the CUDA tests: compiled against eager per method, one graph, no host sync in a step, compiled
# memory, torchrun with NCCL on two GPUs
python -m pytest -q tests/test_cuda.py 2>&1 | tee "$OUT/test_cuda.log"
((PIPESTATUS[0] == 0)) || failed=1
BENCH="--models resnet18,resnet50 --quants fp32,bitnet,ttq,dorefa --steps 10 --repeats 3"
python bench.py $BENCH --out "$OUT/eager" || failed=1
python bench.py $BENCH --compile --out "$OUT/compiled" || failed=1
python bench.py --study --steps 5 --repeats 2 --out "$OUT/study" || failed=1
python bench.py --study --steps 5 --repeats 2 --compile --out "$OUT/study-compiled" || failed=1
echo "figures in $OUT"
exit $failed
