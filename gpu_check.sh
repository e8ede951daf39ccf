#!/usr/bin/env bash
# The GPU check, one command on a machine with an NVIDIA GPU, at most 8 minutes: the CUDA tests,
# then step time and peak memory of ResNet-18/50 eager and compiled, and the study's GPU-hour
# projection.
# Each section prints its seconds; a failed section or one cut by the time limit fails the check.
set -uo pipefail
cd "$(dirname "$0")" || exit 2
# an image may name its interpreter python3 only; PYTHON=... picks another
PYTHON=${PYTHON:-$(command -v python || command -v python3)} ||
  { echo "error: no python on PATH" >&2; exit 2; }
LIMIT=${GPU_CHECK_SECONDS:-480}
[[ $LIMIT =~ ^[0-9]+$ ]] ||
  { echo "error: GPU_CHECK_SECONDS takes whole seconds, not '$LIMIT'" >&2; exit 2; }
# bounded: torch's import and CUDA's start on a fresh machine are part of the limit
probe=$(timeout 240 "$PYTHON" -c "
try:
    import torch
except ImportError as e:
    raise SystemExit(f'cannot import torch ({e})')
if not torch.cuda.is_available():
    raise SystemExit(f'torch {torch.__version__} sees no CUDA device')
" 2>&1)
case $? in
  0) echo "torch imported and CUDA started in $SECONDS s" ;;
  124) echo "error: torch's import and CUDA's start took over 240 s" >&2; exit 2 ;;
  *) echo "error: ${probe##*$'\n'}: this check needs an NVIDIA GPU" >&2; exit 2 ;;
esac
NAME=$("$PYTHON" -c "import torch; print(torch.cuda.get_device_name().replace(' ', '-'))") || exit 2
# reproductions/gpu/<gpu>/ (or GPU_CHECK_OUT, from the repository root): env.txt, timing.txt, a
# log per section, the benchmarks' JSON
OUT=${GPU_CHECK_OUT:-reproductions/gpu/$NAME}
[[ ! -e $OUT ]] || [[ -z $(ls -A "$OUT") ]] ||
  { echo "error: $OUT holds an earlier record: move it, or set GPU_CHECK_OUT" >&2; exit 2; }
mkdir -p "$OUT" || exit 2
failed=()

running=""  # the section's timeout process, leader of its process group
stop() {  # Ctrl-C or a kill: the running section's whole process group goes too
  [[ -n $running ]] && kill -TERM -- "-$running" 2>/dev/null
  echo "interrupted" >&2
  exit 130
}
trap stop INT TERM

section() {  # NAME COMMAND...: runs it within the time left, logs to NAME.log, times it
  local name=$1 left=$((LIMIT - SECONDS)) begin=$SECONDS rc=124
  shift
  if ((left > 10)); then
    timeout -k 10 "$left" "$@" > "$OUT/$name.log" 2>&1 &
    running=$!
    wait "$running"
    rc=$?
    running=""
  fi
  local verdict=ok
  ((rc == 0)) || { verdict="FAILED (exit $rc)"; failed+=("$name"); }
  ((rc == 124)) && verdict="CUT at the ${LIMIT} s limit"
  echo "$name: $((SECONDS - begin)) s, $verdict; $SECONDS s in all" | tee -a "$OUT/timing.txt"
}

{ date -u +%FT%TZ
  echo "commit $(git rev-parse --short HEAD 2>/dev/null)," \
       "$(git status --porcelain 2>/dev/null | wc -l) files changed"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  "$PYTHON" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda)"
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
# per method: compiled against eager, one graph, no recompile after warm-up, no host sync in a
# step, compiled memory; end to end: kill and resume, KD, the compile-error fallback, bf16 layers
# several test processes at once where pytest-xdist is installed (the compiles dominate)
XDIST=$("$PYTHON" -c "import xdist" 2>/dev/null && echo "-n 4")
section tests "$PYTHON" -m pytest -q -p no:cacheprovider $XDIST tests/test_cuda.py \
  tests/test_cuda_runs.py
RATE="--models resnet18,resnet50 --quants fp32,bitnet,ttq --steps 10 --repeats 3"
section bench-eager-32px "$PYTHON" bench.py $RATE --out "$OUT/eager-32px"
section bench-eager-64px "$PYTHON" bench.py $RATE --image-size 64 --out "$OUT/eager-64px"
section study-eager "$PYTHON" bench.py --study --steps 5 --repeats 2 --out "$OUT/study-eager"
section bench-compiled-32px "$PYTHON" bench.py $RATE --compile --out "$OUT/compiled-32px"
section study-compiled "$PYTHON" bench.py --study --steps 5 --repeats 2 --compile \
  --out "$OUT/study-compiled"
echo "figures in $OUT"
((${#failed[@]} == 0)) || { echo "error: failed: ${failed[*]}" >&2; exit 1; }
