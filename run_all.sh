#!/usr/bin/env bash
# Runs the study: the training runs that the phase scripts list, teachers first, several at once on
# GPUs; a second call skips completed runs and resumes unfinished ones. Also --dry-run, --smoke (the
# whole pipeline on generated data) and --slurm (one job array per phase); options: --help.
set -uo pipefail  # no -e: one failed run must not stop the others
cd "$(dirname "$0")" || exit 2

DEFAULT_PHASES=(phase1 phase2 phase3 phase4 phase5 phase6)  # the 153 runs

usage() {
  cat <<'EOF'
usage: bash run_all.sh [options] [PHASE...]

Runs the 153 runs of phase1 ... phase6 (or the named phase scripts) in dependency order: a KD run
waits for its teacher, completed runs are skipped, unfinished ones resumed, a failed run does not
stop the others. Ends with a summary (completed / resumed / failed / skipped) and exit status 1 if
a run failed.

  PHASE             phase1 ... phase6, ttq_paper, ste_ablation, li2017, quant_table, imagenet
                    (phases/<PHASE>.sh)
  --dry-run         print every command, one per line, and nothing else
  --out DIR         results root (default results/raw; --smoke: scratch/smoke/raw);
                    logs go to DIR/../logs
  --gpus 0,1,...    run on these GPUs, CUDA_VISIBLE_DEVICES set per run
  --jobs-per-gpu K  runs at once on each GPU (default 1; K > 1 packs small runs such as ResNet-18
                    on 32 px)
  --jobs N          runs at once without --gpus, the CPU cores shared out among them
                    (--threads cores/N; default 1; --smoke: one per CPU core); where torch sees
                    a GPU, with EXTRA_FLAGS="--device cpu"
  --only WORDS      only the runs whose command line contains WORDS, e.g. --only "--model lenet5";
                    given again, only those containing each, e.g. --only "--seed 42" --only
                    "--dataset cifar100"; one that selects no run is an error
  --smoke           every run for one step on generated images, at a sixteenth of its batch,
                    into a fresh scratch/smoke/raw
                    (or --out), then aggregate.py, tables.py and figures.py on it: the whole
                    pipeline, offline, on a CPU
  --slurm           write one Slurm job array per phase to DIR/../slurm and submit.sh, which
                    chains the arrays with --dependency=afterany on the ones their teachers
                    come from (a student whose teacher failed stops with one line)
  --submit          with --slurm: submit them now (needs sbatch)

Environment: EXTRA_FLAGS is appended to every train.py command, e.g. EXTRA_FLAGS="--data-dir /data".
TORCHINDUCTOR_COMPILE_THREADS (torch.compile's compile workers per run), when not set: each
run's share of the CPU cores (the cores over the runs at once, at least 1; Slurm: --cpus-per-task).
EOF
}

die() {
  echo "error: $*" >&2
  exit 2
}

# ----------------------------------------------------------------------------- options

PHASES=() DRY_RUN=0 SMOKE=0 SLURM=0 SUBMIT=0 OUT="" GPUS="" JOBS_PER_GPU=1 JOBS="" ONLY=()
while (($#)); do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --dry-run) DRY_RUN=1 ;;
    --smoke) SMOKE=1 ;;
    --slurm) SLURM=1 ;;
    --submit) SUBMIT=1 ;;
    --out | --gpus | --jobs-per-gpu | --jobs | --only)
      (($# >= 2)) || die "$1 needs a value"
      case $1 in
        --out) OUT=$2 ;;
        --gpus) [[ $2 =~ ^[0-9]+(,[0-9]+)*$ ]] ||
                  die "--gpus takes GPU numbers like 0,1,2, got '$2'"
                GPUS=$2 ;;
        --jobs-per-gpu) [[ $2 =~ ^[1-9][0-9]*$ ]] ||
                          die "--jobs-per-gpu takes a positive number, got '$2'"
                        JOBS_PER_GPU=$2 ;;
        --jobs) [[ $2 =~ ^[1-9][0-9]*$ ]] || die "--jobs takes a positive number, got '$2'"
                JOBS=$2 ;;
        --only) ONLY+=("$2") ;;
      esac
      shift ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) name=${1##*/} name=${name%.sh}
       [[ $name != lib && -f phases/$name.sh ]] ||
         die "unknown phase '$1'; choose from:" \
             "$(cd phases && ls *.sh | grep -vx lib.sh | sed 's/\.sh$//' | xargs)"
       PHASES+=("$name") ;;
  esac
  shift
done
((${#PHASES[@]})) || PHASES=("${DEFAULT_PHASES[@]}")
((SUBMIT && !SLURM)) && die "--submit goes with --slurm"
((SMOKE && SLURM)) && die "--smoke runs here; it does not go with --slurm"
((SUBMIT)) && ! command -v sbatch >/dev/null &&
  die "--submit needs sbatch, which is not on PATH (no Slurm here)"

EXTRA_FLAGS=${EXTRA_FLAGS:-}
if ((SMOKE)); then
  # One step on generated images; a second epoch doubles the time and tests nothing new.
  # 16 px images, not each dataset's own size, halve the smoke's time and exercise the same code
  SMOKE_FLAGS="--fake-data --fake-size 16 --epochs 1 --steps-per-epoch 1"
  SMOKE_FLAGS+=" --device cpu --threads 1 --quiet"
  EXTRA_FLAGS="$SMOKE_FLAGS $EXTRA_FLAGS"
  # one single-threaded run per core beats one run on all cores; at most 4, as a run may take 4 GB
  cores=$(nproc 2>/dev/null || echo 1)
  JOBS=${JOBS:-$((cores < 4 ? cores : 4))}
  if [[ -z $OUT ]]; then
    OUT=scratch/smoke/raw
    # the default scratch root starts fresh; a given --out resumes
    ((DRY_RUN)) || rm -rf scratch/smoke
  fi
fi
# the smoke: each run's batch over 16 (128 -> 8), so runs apart by their batch size stay apart
# (phases/lib.sh); set here either way, never taken from the caller's environment
export SMOKE_BATCH_DIVISOR=$((SMOKE ? 16 : 1))
if ((!SMOKE && ${JOBS:-1} > 1)) && [[ -z $GPUS && " $EXTRA_FLAGS " != *" --threads "* ]]; then
  # several runs on the CPU at once: the cores shared out among them, so as not to oversubscribe it
  cores=$(nproc 2>/dev/null || echo 1)
  EXTRA_FLAGS="--threads $((cores / JOBS > 0 ? cores / JOBS : 1)) $EXTRA_FLAGS"
fi
OUT=${OUT:-results/raw}
# train.py prints run folders without a trailing slash or a leading ./
while [[ $OUT == */ && $OUT != / ]]; do OUT=${OUT%/}; done
while [[ $OUT == ./* ]]; do OUT=${OUT#./}; done
if ((SMOKE)); then
  # generated images only: the imagenet phase's runs need the real data
  [[ " ${PHASES[*]} " == *" imagenet "* ]] &&
    die "--smoke cannot run the imagenet phase: its runs read the real ImageNet" \
        "(it has no generated stand-in)"
  # nor into a folder of real runs, which aggregate.py would then mix with generated ones
  real=$(grep -Ls '"fake_data": true' "$OUT"/*/*/*/config.json 2>/dev/null | head -1)
  [[ -z $real ]] || die "--smoke --out $OUT: that folder holds runs on real data (${real%/*});" \
                        "give the smoke a folder of its own"
fi
ROOT=$(dirname "$OUT")  # logs, processed results and Slurm scripts go beside the results root
export OUT EXTRA_FLAGS
# checkpoints_present, fp32_run_of, FP32_TAG; rejects EXTRA_FLAGS that move or rename run folders
source phases/lib.sh

# ----------------------------------------------------------------------------- the commands

# CMDS[i]: one train.py command line; PHASE_OF[i]: the phase script listing it first;
# LOG_OF[i]: its log's name.
CMDS=() PHASE_OF=() LOG_OF=()
declare -A SEEN=()
selected() {  # command line $1 contains every --only
  local words
  for words in "${ONLY[@]}"; do [[ " $1 " == *" $words "* ]] || return 1; done
}
for phase in "${PHASES[@]}"; do
  listing=$(RUN_LIST=1 bash "phases/$phase.sh") || die "phases/$phase.sh could not list its runs"
  n=0
  while IFS= read -r cmd; do
    n=$((n + 1))
    # a run listed by two scripts (e.g. quant_table and phase1) runs once
    [[ -n ${SEEN[$cmd]:-} ]] && continue
    selected "$cmd" || continue
    SEEN[$cmd]=1
    CMDS+=("$cmd") PHASE_OF+=("$phase") LOG_OF+=("$(printf '%s-%03d' "$phase" "$n")")
  done <<< "$listing"
done
# a selection that matches nothing is a typo or a stale command, never a finished study
if ((${#CMDS[@]} == 0)); then
  die "no run of ${PHASES[*]} contains all of:$(printf ' "%s"' "${ONLY[@]}")"
fi

if ((DRY_RUN)); then
  printf '%s\n' "${CMDS[@]}"
  exit 0
fi

# DEPS_OF[i]: the run folders (one per line) whose checkpoints command i starts from
# (--kd, --init-from).
DEPS_OF=()
declare -A IS_DEP=()
for i in "${!CMDS[@]}"; do
  eval "words=(${CMDS[i]})"  # lib.sh quotes the lines for the shell, so this only splits them
  deps=""
  for ((w = 0; w < ${#words[@]} - 1; w++)); do
    if [[ ${words[w]} == --kd || ${words[w]} == --init-from ]]; then
      deps+="${words[w + 1]%/*}"$'\n'
      IS_DEP[${words[w + 1]%/*}]=1
    fi
  done
  DEPS_OF+=("$deps")
done

# ----------------------------------------------------------------------------- Slurm

# Writes NAME.commands (to read) and NAME.sbatch (one array task per command) for the commands whose
# indices follow NAME. The script holds its commands: sbatch copies it when submitted, so a pending
# task runs its own line even after a later --slurm rewrites this folder.
write_array() {
  local name=$1 i cpus=8 script=$SLURM_DIR/$1.sbatch
  shift
  for i in "$@"; do echo "${CMDS[i]}"; done > "$SLURM_DIR/$name.commands"
  cat > "$script" <<EOF
#!/bin/bash
# $name: $# training runs from phases/${PHASE_OF[$1]}.sh, one per array task
# (written by run_all.sh --slurm). A run that stops (time limit, preemption) resumes from its
# last.pt when submitted again; a completed one is skipped.
#SBATCH --job-name=$name
#SBATCH --array=0-$(($# - 1))
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=$cpus
#SBATCH --time=2-00:00:00
#SBATCH --output=$ABS_ROOT/logs/slurm/$name-%a.log
cd $(printf %q "$PWD") || exit 1
# inductor starts up to 32 compile workers (as many as the node's cores): this task's cores instead
threads=\${SLURM_CPUS_PER_TASK:-$cpus}
export TORCHINDUCTOR_COMPILE_THREADS=\${TORCHINDUCTOR_COMPILE_THREADS:-\$threads}
EOF
  {
    echo "cmds=("
    for i in "$@"; do printf '  %q\n' "${CMDS[i]}"; done
    echo ")"
  } >> "$script"
  cat >> "$script" <<'EOF'
cmd=${cmds[SLURM_ARRAY_TASK_ID]:-}
[[ -n $cmd ]] || { echo "error: no command for array task $SLURM_ARRAY_TASK_ID" >&2; exit 1; }
echo "$cmd"
eval "$cmd"
EOF
}

if ((SLURM)); then
  SLURM_DIR=$ROOT/slurm
  mkdir -p "$SLURM_DIR" "$ROOT/logs/slurm" || die "cannot create $SLURM_DIR"
  # arrays of an earlier selection must not be submitted
  rm -f "$SLURM_DIR"/*.sbatch "$SLURM_DIR"/*.commands
  ABS_ROOT=$(cd "$ROOT" && pwd)
  declare -A ARRAY_OF_RUN=()  # run folder under OUT -> the array that trains it (FP32 runs only)
  {
    echo '#!/usr/bin/env bash'
    echo '# Submits the job arrays of run_all.sh --slurm, each after the arrays its KD teachers'
    echo '# and initial checkpoints come from (--dependency=afterany: a student whose teacher'
    echo '# failed stops with one line, where afterok would keep every student pending). Site'
    echo '# options (partition, account, ...) go in SBATCH_FLAGS.'
    echo 'set -euo pipefail'
    echo 'cd "$(dirname "$0")"'
    echo 'submit() { local id; id=$(sbatch --parsable ${SBATCH_FLAGS:-} "$@") || exit 1;' \
         'echo "${id%%;*}"; }'
  } > "$SLURM_DIR/submit.sh"
  # First the arrays of runs that start from scratch, then those that start from another run's
  # checkpoint, each after the arrays that train those runs (FP32 runs with the default tag, found
  # as lib.sh's producer does).
  for phase in "${PHASES[@]}"; do
    free=()
    for i in "${!CMDS[@]}"; do
      [[ ${PHASE_OF[i]} == "$phase" && -z ${DEPS_OF[i]} ]] && free+=("$i")
    done
    ((${#free[@]})) || continue
    write_array "$phase" "${free[@]}"
    echo "$phase=\$(submit $phase.sbatch); echo \"$phase: job \$$phase (${#free[@]} runs)\"" \
      >> "$SLURM_DIR/submit.sh"
    for i in "${free[@]}"; do
      run=$(fp32_run_of "${CMDS[i]}")
      [[ -n $run ]] && ARRAY_OF_RUN[$run]=$phase
    done
  done
  for phase in "${PHASES[@]}"; do
    waiting=()
    for i in "${!CMDS[@]}"; do
      [[ ${PHASE_OF[i]} == "$phase" && -n ${DEPS_OF[i]} ]] && waiting+=("$i")
    done
    ((${#waiting[@]})) || continue
    write_array "${phase}_dep" "${waiting[@]}"
    declare -A after=()
    for i in "${waiting[@]}"; do
      while IFS= read -r dir; do
        [[ -n $dir ]] || continue
        producer_array=${ARRAY_OF_RUN[${dir#"$OUT"/}]:-}
        # none: trained earlier, or missing (the run says so)
        [[ -n $producer_array ]] && after[$producer_array]=1
      done <<< "${DEPS_OF[i]}"
    done
    dependency=""
    for array in "${!after[@]}"; do dependency+=":\$$array"; done
    unset after
    echo "${phase}_dep=\$(submit ${dependency:+--dependency=afterany$dependency}" \
         "${phase}_dep.sbatch); echo \"${phase}_dep: job \$${phase}_dep (${#waiting[@]} runs)\"" \
         >> "$SLURM_DIR/submit.sh"
  done
  chmod +x "$SLURM_DIR/submit.sh"
  echo "wrote $(ls "$SLURM_DIR"/*.sbatch | wc -l) job arrays (${#CMDS[@]} runs)" \
       "and submit.sh to $SLURM_DIR"
  if ((SUBMIT)); then
    bash "$SLURM_DIR/submit.sh" || { echo "error: submitting failed" >&2; exit 1; }
  else
    echo "submit them with: bash $SLURM_DIR/submit.sh"
  fi
  exit 0
fi

# ----------------------------------------------------------------------------- running here

command -v python >/dev/null || die "python not found on PATH: activate the project's environment"
# checked once here (else every run fails alike, once each), with the GPUs torch sees
seen=$(python -c "import torch, torchvision, numpy, tqdm; print(torch.cuda.device_count())" \
       2>/dev/null) ||
  die "python cannot import torch, torchvision, numpy and tqdm:" \
      "activate the environment requirements.txt is installed in"
# a GPU torch cannot see: every run would refuse it (or, before, train on the CPU)
if [[ -n $GPUS ]]; then
  for gpu in ${GPUS//,/ }; do
    ((gpu < ${seen:-0})) ||
      die "--gpus $GPUS: GPU $gpu is not visible to torch (it sees ${seen:-0};" \
          "CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES-unset}): check the numbers and the driver"
  done
fi
# several runs without --gpus: train.py would put each on the first GPU
if [[ -z $GPUS && ${JOBS:-1} -gt 1 && " $EXTRA_FLAGS " != *" --device "* ]] && ((${seen:-0} > 0))
then
  die "--jobs $JOBS without --gpus would run every job on the same GPU: give --gpus 0,1,..." \
      "(and --jobs-per-gpu), or EXTRA_FLAGS=\"--device cpu\" to share the CPU cores"
fi
LOGS=$ROOT/logs
mkdir -p "$LOGS" || die "cannot create $LOGS"
STATE=$(mktemp -d) || die "cannot create a temporary folder"

# Slots: one per job that may run at once, each with the GPU it uses ("" = let train.py choose):
# --gpus counts the GPUs torch sees, so under a CUDA_VISIBLE_DEVICES already set, its entries.
SLOT_GPU=() SLOT_JOB=()
if [[ -n $GPUS ]]; then
  IFS=, read -ra visible <<< "${CUDA_VISIBLE_DEVICES:-}"
  for gpu in ${GPUS//,/ }; do
    for ((k = 0; k < JOBS_PER_GPU; k++)); do SLOT_GPU+=("${visible[gpu]:-$gpu}"); done
  done
else
  for ((k = 0; k < ${JOBS:-1}; k++)); do SLOT_GPU+=(""); done
fi
for s in "${!SLOT_GPU[@]}"; do SLOT_JOB[s]=-1; done
# inductor starts up to 32 compile workers a run (as many as the cores): each run its share instead
cores=$(nproc 2>/dev/null || echo 1) share=$((cores / ${#SLOT_GPU[@]}))
export TORCHINDUCTOR_COMPILE_THREADS=${TORCHINDUCTOR_COMPILE_THREADS:-$((share > 0 ? share : 1))}

declare -A COUNT=([completed]=0 [resumed]=0 [failed]=0 [skipped]=0)
START_OFFSET=() STARTED_AT=() JOB_PID=() FAILURES=() RUNNING=0 DONE=0 FORCE=0 BEGAN=$SECONDS

stop() {  # on Ctrl-C or kill: stop the runs started here; they resume on the next call
  local pid_file
  for pid_file in "$STATE"/*.pid; do
    [[ -f $pid_file ]] && kill -TERM "$(<"$pid_file")" 2>/dev/null
  done
  wait
  echo "interrupted: the unfinished runs resume on the next call" >&2
  exit 130
}
trap stop INT TERM
trap 'rm -rf "$STATE"' EXIT

# Whether every checkpoint command $1 starts from belongs to a completed run.
ready() {
  local dir
  while IFS= read -r dir; do
    [[ -z $dir ]] || grep -qs '"status": *"completed"' "$dir/results.json" || return 1
  done <<< "${DEPS_OF[$1]}"
}

# The folder of command $1's run if an earlier call at this commit of the code saw train.py name it
# (its log) and it is completed: it is skipped without starting Python. After a commit train.py
# checks it again (a changed default makes the same line another recipe; final.pt may be missing).
CODE=$(git rev-parse HEAD 2>/dev/null)
completed_before() {
  local log=$LOGS/${LOG_OF[$1]}.log dir
  [[ -f $log && -n $CODE ]] || return 1
  dir=$(CMD="@$CODE: ${CMDS[$1]}" awk '
    index($0, "=== run_all.sh ") == 1 { same = substr($0, index($0, " @") + 1) == ENVIRON["CMD"] }
    same && /^run: / { sub(/^run: /, ""); sub(/ \([^(]*$/, ""); print }' "$log" | tail -1)
  [[ -n $dir ]] && grep -qs '"status": *"completed"' "$dir/results.json" && echo "$dir"
}

start() {  # start command $1 in slot $2
  local i=$1 s=$2 log=$LOGS/${LOG_OF[$1]}.log
  START_OFFSET[i]=0
  [[ -f $log ]] && START_OFFSET[i]=$(wc -c < "$log")  # this attempt's output starts here
  STARTED_AT[i]=$SECONDS
  echo "=== run_all.sh $(date '+%F %T')${SLOT_GPU[s]:+ GPU ${SLOT_GPU[s]}} @$CODE: ${CMDS[i]}" \
    >> "$log"
  eval "words=(${CMDS[i]})"
  # started although waiting: its teacher never came
  if ! checkpoints_present "${words[@]}" 2>> "$log"; then
    echo 2 > "$STATE/$i.rc"
    JOB_PID[i]=""
  else
    (
      [[ -n ${SLOT_GPU[s]} ]] && export CUDA_VISIBLE_DEVICES=${SLOT_GPU[s]}
      "${words[@]}" >> "$log" 2>&1 &
      echo $! > "$STATE/$i.pid"  # train.py's pid, for stop()
      wait $!
      echo $? > "$STATE/$i.rc"
    ) &
    JOB_PID[i]=$!
  fi
  SLOT_JOB[s]=$i
  RUNNING=$((RUNNING + 1))
}

finish() {  # classify finished command $1 (exit status $2) by train.py's "run: <folder> (...)" line
  local i=$1 rc=$2 log=$LOGS/${LOG_OF[$1]}.log section line dir status reason
  section=$(tail -c +$((START_OFFSET[i] + 1)) "$log")
  line=$(grep -m1 '^run: ' <<< "$section")
  dir=${line#run: } dir=${dir% (*}
  if ((rc != 0)); then
    status=failed
    reason=$(grep '^error: ' <<< "$section" | tail -1)
    FAILURES+=("${CMDS[i]}"$'\n'"    ${reason:-exit status $rc} (log: $log)")
  elif [[ $line == *"(completed;"* ]]; then
    status=skipped
  elif [[ $line == *"(resuming at epoch"* ]]; then
    status=resumed
  else
    status=completed
  fi
  COUNT[$status]=$((COUNT[$status] + 1))
  DONE=$((DONE + 1))
  printf '[%d/%d] %-9s %s (%ds)\n' "$DONE" "${#CMDS[@]}" "$status" "${dir:-${CMDS[i]}}" \
    $((SECONDS - STARTED_AT[i]))
  # 153 runs' checkpoints would fill ~27 GB
  if ((SMOKE)) && [[ $status != failed && -n $dir ]]; then
    rm -f "$dir/last.pt" "$dir/last.pt.prev"
    [[ -n ${IS_DEP[$dir]:-} ]] || rm -f "$dir/best.pt" "$dir/final.pt"  # keep the teachers'
  fi
}

reap() {  # finish every job that has ended; returns 1 if none has
  local s i rc found=1
  for s in "${!SLOT_JOB[@]}"; do
    i=${SLOT_JOB[s]}
    ((i >= 0)) || continue
    if [[ -f $STATE/$i.rc ]]; then
      rc=$(<"$STATE/$i.rc")
    elif ! kill -0 "${JOB_PID[i]}" 2>/dev/null; then
      rc=137  # its subshell was killed before it could write the exit status (or wrote it just now)
      [[ -f $STATE/$i.rc ]] && rc=$(<"$STATE/$i.rc")
    else
      continue
    fi
    [[ -n ${JOB_PID[i]} ]] && wait "${JOB_PID[i]}" 2>/dev/null
    finish "$i" "$rc"
    rm -f "$STATE/$i.rc" "$STATE/$i.pid"
    SLOT_JOB[s]=-1
    RUNNING=$((RUNNING - 1))
    found=0
  done
  return $found
}

where=${GPUS:+"GPUs $GPUS, $JOBS_PER_GPU per GPU"}
echo "${#CMDS[@]} runs (${PHASES[*]}), ${#SLOT_GPU[@]} at a time${where:+ on $where};" \
     "results in $OUT, logs in $LOGS"
PENDING=()
for i in "${!CMDS[@]}"; do
  if dir=$(completed_before "$i"); then
    COUNT[skipped]=$((COUNT[skipped] + 1)) DONE=$((DONE + 1))
    printf '[%d/%d] %-9s %s (already completed)\n' "$DONE" "${#CMDS[@]}" skipped "$dir"
  else
    PENDING+=("$i")
  fi
done
while ((${#PENDING[@]} || RUNNING)); do
  waiting=()
  for i in "${PENDING[@]}"; do
    slot=-1
    for s in "${!SLOT_JOB[@]}"; do ((SLOT_JOB[s] < 0)) && { slot=$s; break; }; done
    if ((slot >= 0)) && { ((FORCE)) || ready "$i"; }; then
      start "$i" "$slot"
    else
      waiting+=("$i")
    fi
  done
  PENDING=("${waiting[@]}")
  FORCE=0
  if ((RUNNING == 0)); then
    # nothing runs, so no waiting run will become ready: start them, they fail with the reason
    FORCE=1
    continue
  fi
  reap || { wait -n 2>/dev/null; reap; }
done

SUMMARY="summary: ${COUNT[completed]} completed, ${COUNT[resumed]} resumed,"
SUMMARY+=" ${COUNT[failed]} failed,"
SUMMARY+=" ${COUNT[skipped]} skipped (${#CMDS[@]} runs, $((SECONDS - BEGAN))s; logs in $LOGS)"

# ----------------------------------------------------------------------------- smoke: the analysis

ANALYSIS_FAILED=0
if ((SMOKE)); then
  PROCESSED=$ROOT/processed
  for step in "aggregate.py --results $OUT --processed $PROCESSED" \
              "tables.py --processed $PROCESSED" \
              "figures.py --processed $PROCESSED"; do
    script=${step%% *}
    if python $step > "$LOGS/${script%.py}.log" 2>&1; then
      # the tables, as a user of the real study sees them
      [[ $script == tables.py ]] && cat "$LOGS/tables.log"
      echo "$script: done ($LOGS/${script%.py}.log)"
    else
      echo "$script: failed (log: $LOGS/${script%.py}.log)"
      tail -3 "$LOGS/${script%.py}.log" | sed 's/^/    /'
      ANALYSIS_FAILED=1
    fi
  done
  echo "processed results in $PROCESSED"
fi

for failure in "${FAILURES[@]}"; do echo "failed: $failure"; done
echo "$SUMMARY"
((COUNT[failed] == 0 && ANALYSIS_FAILED == 0))
