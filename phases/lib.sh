# Sourced by every phase script: `run python train.py ...` lists one training run or runs it.
# Environment: OUT (results root, default results/raw) and EXTRA_FLAGS (appended last, so they
# override). Paths are relative to the repository root.

# the commands name train.py in the repository root
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
OUT=${OUT:-results/raw}
EXTRA_FLAGS=${EXTRA_FLAGS:-}
FAILED=0

# SMOKE_BATCH_DIVISOR (run_all.sh --smoke: 16): each run's batch divided by it (128 -> 8, 1024 ->
# 64), so that runs told apart by their batch size keep their own folders.
SMOKE_BATCH_DIVISOR=${SMOKE_BATCH_DIVISOR:-1}
[[ $SMOKE_BATCH_DIVISOR =~ ^[1-9][0-9]*$ ]] || {
  echo "error: SMOKE_BATCH_DIVISOR=$SMOKE_BATCH_DIVISOR is not a positive whole number" >&2
  exit 2
}
# A batch size as the runs train it: $1, divided by SMOKE_BATCH_DIVISOR, at least 2 (batch norm
# trains on no batch of one).
run_batch() {
  local b=$(($1 / SMOKE_BATCH_DIVISOR))
  echo $((b > 1 || SMOKE_BATCH_DIVISOR == 1 ? b : 2))
}

# The batch size of the words $2...: their last --batch-size (EXTRA_FLAGS come last), else $1.
batch_of() {
  local b=$1
  shift
  while (($#)); do
    case $1 in
      --batch-size) b=${2:-$b} ;;
      --batch-size=*) b=${1#*=} ;;
    esac
    shift
  done
  echo "$b"
}

# FP32_TAG: the default tag of the FP32 runs whose checkpoints --kd and --init-from name; like
# train.py's default_tag it ends in _bs<N> when the runs' batch is not 128 (EXTRA_FLAGS set
# another, or run_all.sh --smoke divides it: 8).
FP32_TAG=fp32
read -ra _words <<< "$EXTRA_FLAGS"
_fp32_batch=$(run_batch "$(batch_of 128 "${_words[@]}")")
[[ $_fp32_batch == 128 ]] || FP32_TAG+="_bs$_fp32_batch"

# The TTQ paper's CIFAR-10 schedule (Zhu et al. 2017, sec. 5.1): lr 0.1 times 0.1 at epochs 80, 120
# (and 300, never reached), weight decay 2e-4, 160 epochs ("most models converge after 160"), batch
# 128. Accuracy: `--report ttq-avg`, the mean of the last 10 epochs, is this project's reading of
# the paper's error, which the paper averages over all epochs. The paper names no optimizer, warm-up
# or augmentation: SGD with Nesterov momentum 0.9 (train.py's default), none, and random crop and
# flip are our choices. The STE ablation's recipe (ste_ablation.sh); ttq_paper.sh ran it before it
# took the authors' setup below.
TTQ_SCHEDULE="--epochs 160 --schedule step --milestones 80,120 --weight-decay 2e-4"
TTQ_SCHEDULE+=" --warmup-epochs 0 --mixup 0 --label-smoothing 0 --report ttq-avg"

# The TTQ authors' CIFAR-10 setup (czhu95/ternarynet; docs/reproduction-resnet20-cifar10.md) for
# ttq_paper.sh: their 2 GPUs x 128 images are one step of 256 at lr 0.1, and their epoch of 390
# such steps is two of ours, so every epoch count is doubled; per-pixel-mean inputs, plain
# momentum, weight decay 2e-4, no warm-up, mixup or smoothing. FP32 as cifar10-resnet.py (x 0.1 at
# 82 and 123, 0.0002 at 300 of their 400 epochs); TTQ as the paper's text (x 0.1 at 80, 120, 300).
TTQ_AUTHORS="--batch-size 256 --lr 0.1 --normalize pixel --no-nesterov --weight-decay 2e-4"
TTQ_AUTHORS+=" --schedule step --epochs 800 --warmup-epochs 0 --mixup 0 --label-smoothing 0"
TTQ_AUTHORS+=" --report ttq-avg"
TTQ_AUTHORS_FP32="$TTQ_AUTHORS --milestones 164,246,600 --gamma 0.1,0.1,0.2"
TTQ_AUTHORS_TTQ="$TTQ_AUTHORS --milestones 160,240,600"
# their FP32 runs' default tag, which the TTQ runs' --init-from names (EXTRA_FLAGS may set a batch)
TTQ_AUTHORS_FP32_TAG=fp32_norm-pixel
_fp32_batch=$(run_batch "$(batch_of 256 "${_words[@]}")")
[[ $_fp32_batch == 128 ]] || TTQ_AUTHORS_FP32_TAG+="_bs$_fp32_batch"

# The quantization results table's common recipe (quant_table.sh, imagenet.sh): step decay by 10,
# plain (not Nesterov) momentum, no warm-up, mixup or label smoothing, the best test accuracy
# reported; batch 128 unless a row says otherwise. The epochs and milestones are each dataset's,
# the optimizer and lr each row's.
RESULTS_TABLE="--schedule step --gamma 0.1 --no-nesterov --warmup-epochs 0 --mixup 0"
RESULTS_TABLE+=" --label-smoothing 0 --report best"

# Teachers are found by path under OUT; a --out of its own would send runs where the teachers are
# not looked for.
case " $EXTRA_FLAGS " in
  *" --out "* | *" --out="*)
    echo "error: set the results root with OUT=DIR, not --out in EXTRA_FLAGS" >&2
    exit 2 ;;
esac
# Nor may EXTRA_FLAGS rename the runs' folders (train.py's default_tag; --batch-size is followed
# above): a KD run would look for its teacher where it is not.
for _word in "${_words[@]}"; do
  case ${_word%%=*} in
    --tag | --quant | --keep | --fp32-conv1 | --stem | --wbits | --abits | --ste | --stochastic | \
      --augment | --clip-factor | --bn | --no-bn | --shortcut | --normalize | --kd | --init-from | \
      --scale-lr)
      echo "error: EXTRA_FLAGS may not set ${_word%%=*}: it renames the run folders that other" \
           "runs' --kd and --init-from name; put it in the phase script's lines" >&2
      exit 2 ;;
  esac
done

# RUN_LIST=1 (run_all.sh sets it): print the command, one line, with --out $OUT and $EXTRA_FLAGS
# appended; otherwise run it now, unless a checkpoint it starts from (--kd, --init-from) is missing.
run() {
  local -a extra cmd
  read -ra extra <<< "$EXTRA_FLAGS"
  cmd=("$@" --out "$OUT" "${extra[@]}")
  ((SMOKE_BATCH_DIVISOR == 1)) || cmd+=(--batch-size "$(run_batch "$(batch_of 128 "${cmd[@]}")")")
  if [[ ${RUN_LIST:-} == 1 ]]; then
    quoted "${cmd[@]}"
    return 0
  fi
  echo "+ $(quoted "${cmd[@]}")"
  if ! checkpoints_present "${cmd[@]}" || ! "${cmd[@]}"; then
    FAILED=$((FAILED + 1))
    # go on with the other runs, fail at the end
    trap 'echo "$FAILED run(s) failed" >&2; exit 1' EXIT
  fi
}

# The words as one line, quoted where needed, so that it can be pasted into a shell.
quoted() {
  local word line=""
  for word in "$@"; do
    [[ $word =~ ^[A-Za-z0-9_./,:=+@%-]+$ ]] || printf -v word '%q' "$word"
    line+="${line:+ }$word"
  done
  echo "$line"
}

# Returns 1, with one error line naming the run to do first, when a checkpoint the command starts
# from is missing.
checkpoints_present() {
  local -a words=("$@")
  local i
  for ((i = 0; i < ${#words[@]} - 1; i++)); do
    case ${words[i]} in --kd | --init-from) ;; *) continue ;; esac
    [[ -f ${words[i + 1]} ]] && continue
    local what="teacher"; [[ ${words[i]} == --init-from ]] && what="initial checkpoint"
    echo "error: $what ${words[i + 1]} missing: $(producer "${words[i + 1]}")" >&2
    return 1
  done
}

# "run <script> first (<command>)": the listed FP32 run whose folder holds checkpoint $1. The phase
# script running now is searched first, then phase 1 (the teachers), then the others.
producer() {
  local run=${1%/*} script line
  run=${run#"$OUT"/}
  for script in "${BASH_SOURCE[-1]##*/}" phase1.sh $(cd phases && echo *.sh); do
    [[ $script == lib.sh || ! -f phases/$script ]] && continue
    line=$(RUN_LIST=1 OUT=$OUT EXTRA_FLAGS=$EXTRA_FLAGS bash "phases/$script" 2>/dev/null |
           while read -r line; do
             [[ $(fp32_run_of "$line") == "$run" ]] && { echo "$line"; break; }
           done)
    if [[ -n $line ]]; then
      echo "run ${script%.sh} first ($line)"
      return
    fi
  done
  echo "train it first"
}

# The run folder under OUT (dataset/model/tag_sSEED) of command line $1 if it trains an FP32 run
# with the default tag or an explicit --tag, the kind of run that teachers and initial checkpoints
# come from; nothing otherwise.
fp32_run_of() {
  local -a words
  read -ra words <<< "$1"
  # train.py's defaults; the last --batch-size wins (EXTRA_FLAGS come last)
  local i model=resnet18 dataset=cifar10 seed=0 tag="" norm=channel batch=128
  for ((i = 0; i < ${#words[@]}; i++)); do
    case ${words[i]} in
      --model) model=${words[i + 1]} ;;
      --dataset) dataset=${words[i + 1]} ;;
      --seed) seed=${words[i + 1]} ;;
      --tag) tag=${words[i + 1]} ;;
      --normalize) norm=${words[i + 1]} ;;
      --batch-size) batch=${words[i + 1]} ;;
      --quant) [[ ${words[i + 1]} == fp32 ]] || return 0 ;;
      # other flags that change the tag (train.py's default_tag): no teacher uses them
      --keep | --fp32-conv1 | --stem | --wbits | --abits | --ste | --stochastic | --clip-factor | \
        --no-bn | --shortcut | --kd) return 0 ;;
    esac
  done
  if [[ -z $tag ]]; then  # train.py's default_tag of an FP32 run
    tag=fp32
    [[ $norm == channel ]] || tag+="_norm-$norm"
    [[ $batch == 128 ]] || tag+="_bs$batch"
  fi
  echo "$dataset/$model/${tag}_s$seed"
}
