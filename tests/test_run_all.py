"""Tests of run_all.sh: the smoke pipeline, resuming after a kill, the Slurm scripts, bad usage,
the checks before anything starts (imports, GPUs), and each run's compile threads."""
import csv
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import common
from conftest import ROOT
from test_phases import CHEAP, bash, dry_run


def test_smoke_runs_the_whole_pipeline(tmp_path):
    """CI's end-to-end check: each of the study's 17 configurations one step (its seed-42 runs on
    CIFAR-100, teachers before their students: on the smoke's 16 px images the other datasets'
    runs differ only in the class count, the other seeds' only in the seed), then aggregate,
    tables, figures. The README's `bash run_all.sh --smoke` runs all 153 the same way."""
    chosen = ["--only", "--seed 42", "--only", "--dataset cifar100"]
    r = bash("run_all.sh", "--smoke", *chosen, "--out", tmp_path / "raw", timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    listed = dry_run(*chosen)
    runs = len(listed)
    assert f"summary: {runs} completed, 0 resumed, 0 failed, 0 skipped" in r.stdout
    results = [common.read_json(p) for p in (tmp_path / "raw").glob("*/*/*/results.json")]
    assert len(results) == runs and all(res["status"] == "completed" for res in results)
    kd = [p for p in (tmp_path / "raw").glob("*/*/*kd*") if p.is_dir()]
    assert len(kd) == sum(" --kd " in line for line in listed) > 0
    processed = tmp_path / "processed"
    with open(processed / "aggregated.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == runs and {row["status"] for row in rows} == {"completed"}
    assert (processed / "tables" / "main.md").exists() and "| resnet18 | cifar100 |" in r.stdout
    assert len(list((processed / "figures").glob("*.svg"))) >= 4


def wait_for_a_completed_run(proc, out, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if any((common.read_json(p) or {}).get("status") == "completed"
               for p in out.glob("*/*/*/results.json")):
            return True
        time.sleep(0.05)
    return False


def wait_for_locks_released(out, timeout=60):
    """SIGKILL is asynchronous: a killed run holds its folder's flock until the kernel has torn the
    process down, so a rerun started at once can find it still held."""
    deadline = time.time() + timeout
    for path in out.glob("*/*/*/lock"):
        while True:
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                break
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                assert time.time() < deadline, f"{path} still held {timeout} s after the kill"
                time.sleep(0.05)
            finally:
                os.close(fd)


def test_a_killed_run_all_resumes_where_it_stopped(tmp_path):
    out = tmp_path / "raw"
    # phase 5's seven CIFAR-100 runs (its other seven are the same on Tiny-ImageNet)
    chosen = ["--jobs", "2", "--only", "--dataset cifar100", "phase5"]
    runs = len(dry_run(*chosen[2:]))
    args = ["bash", "run_all.sh", "--out", str(out), *chosen]
    env = dict(
        os.environ,
        EXTRA_FLAGS=CHEAP,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert wait_for_a_completed_run(proc, out)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # run_all.sh and the runs it started
        proc.wait()
    wait_for_locks_released(out)
    done = {
        p.parent for p in out.glob("*/*/*/results.json")
        if common.read_json(p)["status"] == "completed"
    }
    assert 1 <= len(done) < runs
    r = bash("run_all.sh", "--out", out, *chosen,
             env={"EXTRA_FLAGS": CHEAP}, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    summary = r.stdout.split("summary: ")[1].split(" (")[0]
    counts = {word: int(n) for n, word in (part.split()[:2] for part in summary.split(", "))}
    assert counts["skipped"] == len(done) and counts["failed"] == 0
    assert counts["completed"] + counts["resumed"] == runs - len(done)
    for folder in done:
        assert f"skipped   {folder} (already completed)" in r.stdout
    results = [common.read_json(p) for p in out.glob("*/*/*/results.json")]
    assert len(results) == runs and all(res["status"] == "completed" for res in results)
    # no process holds a lock; a file left by a run killed between completing and releasing it,
    # and skipped since, is held by none (a rerun through train.py removes it)
    wait_for_locks_released(out, timeout=0)


def test_a_completed_run_is_skipped_unstarted_only_at_the_commit_that_ran_it(tmp_path):
    out = tmp_path / "raw"
    only = ["--only", "--seed 123", "--only", "--model resnet18", "--only", "--dataset cifar100"]
    env = {"EXTRA_FLAGS": CHEAP}
    assert bash("run_all.sh", "--out", out, *only, "phase1", env=env).returncode == 0
    runs = [bash("run_all.sh", "--out", out, *only, "phase1", env=env).stdout]
    log = next((tmp_path / "logs").glob("phase1-*.log"))
    # a later commit of the code: train.py checks the run again (a default may have changed)
    log.write_text(re.sub(r" @[0-9a-f]+: ", " @0123abc: ", log.read_text()))
    runs.append(bash("run_all.sh", "--out", out, *only, "phase1", env=env).stdout)
    folder = next(out.glob("*/*/*_s123"))
    assert ["(already completed)" in r for r in runs] == [True, False]
    assert all(f"skipped   {folder}" in r for r in runs)


def test_slurm_writes_one_array_per_phase_with_teacher_dependencies(tmp_path):
    out = tmp_path / "raw"
    r = bash("run_all.sh", "--slurm", "--out", out)
    assert r.returncode == 0, r.stderr
    slurm = tmp_path / "slurm"
    sizes = {
        "phase1": 22, "phase2_dep": 27, "phase3": 18, "phase4": 45, "phase4_dep": 9,
        "phase5": 14, "phase6": 18,
    }
    assert {p.stem for p in slurm.glob("*.sbatch")} == set(sizes)
    for name, n in sizes.items():
        assert (slurm / f"{name}.commands").read_text().count("\n") == n
        assert f"#SBATCH --array=0-{n - 1}\n" in (slurm / f"{name}.sbatch").read_text()
    submit = (slurm / "submit.sh").read_text()
    assert "phase2_dep=$(submit --dependency=afterany:$phase1 phase2_dep.sbatch)" in submit
    assert "phase4_dep=$(submit --dependency=afterany:$phase1 phase4_dep.sbatch)" in submit
    assert "phase3=$(submit phase3.sbatch)" in submit
    # an array task runs line SLURM_ARRAY_TASK_ID + 1 of its commands file (python here only echoes)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python").write_text('#!/bin/sh\necho "ARGS $*"\n')
    (fake / "python").chmod(0o755)
    task = subprocess.run(
        ["bash", str(slurm / "phase4_dep.sbatch")],
        capture_output=True,
        text=True,
        env=dict(os.environ, SLURM_ARRAY_TASK_ID="3", PATH=f"{fake}:{os.environ['PATH']}"),
    )
    line = (slurm / "phase4_dep.commands").read_text().splitlines()[3]
    assert task.stdout.splitlines() == [line, "ARGS " + line.removeprefix("python ")]
    submitted = tmp_path / "submitted.sbatch"  # what sbatch keeps of a pending array
    shutil.copy(slurm / "phase4_dep.sbatch", submitted)
    # submit.sh hands each array's job id to the arrays that wait for it (sbatch here only counts)
    (fake / "sbatch").write_text(
        '#!/bin/sh\n'
        'n=$(($(wc -l < "$LOG") + 101)); echo "$n $*" >> "$LOG"; echo "$n;cluster"\n')
    (fake / "sbatch").chmod(0o755)
    (tmp_path / "sbatch.log").touch()
    r = bash("run_all.sh", "--slurm", "--submit", "--out", out,
             env={"LOG": str(tmp_path / "sbatch.log")}, first_on_path=fake)
    assert r.returncode == 0, r.stderr
    jobs = dict(line.split(" ", 1) for line in (tmp_path / "sbatch.log").read_text().splitlines())
    phase1 = next(n for n, args in jobs.items() if args.endswith(" phase1.sbatch"))
    assert (jobs[str(int(phase1) + 5)]
            == f"--parsable --dependency=afterany:{phase1} phase2_dep.sbatch")
    assert f"phase4_dep: job {int(phase1) + 6} (9 runs)" in r.stdout
    # runs that start from checkpoints of the same phase's runs: a second array, after the first
    assert bash("run_all.sh", "--slurm", "--out", out, "ttq_paper").returncode == 0
    assert ("--dependency=afterany:$ttq_paper ttq_paper_dep.sbatch"
            in (slurm / "submit.sh").read_text())
    assert {p.stem for p in slurm.glob("*.sbatch")} == {"ttq_paper", "ttq_paper_dep"}
    # a task of an array submitted before this rewrite runs its own line, never an empty one
    for task_id, code, out in (("3", 0, line), ("9", 1, "")):
        task = subprocess.run(["bash", str(submitted)], capture_output=True, text=True,
                              env=dict(os.environ, SLURM_ARRAY_TASK_ID=task_id,
                                       PATH=f"{fake}:{os.environ['PATH']}"))
        assert (task.returncode, task.stdout.splitlines()[:1]) == (code, [out] if out else [])
    assert task.stderr.strip() == "error: no command for array task 9"


@pytest.mark.parametrize("args,message", [
    (["phase7"], "error: unknown phase 'phase7'; choose from: "),
    (["--fast"], "error: unknown option '--fast'"),
    (["--jobs-per-gpu", "0"], "error: --jobs-per-gpu takes a positive number"),
    (["--gpus", "a,b"], "error: --gpus takes GPU numbers"),
    (["--out"], "error: --out needs a value"),
    (["--smoke", "imagenet"], "error: --smoke cannot run the imagenet phase"),
    pytest.param(
        ["--slurm", "--submit"],
        "error: --submit needs sbatch",
        marks=pytest.mark.skipif(shutil.which("sbatch") is not None, reason="Slurm is here"),
    ),
])
def test_bad_usage_is_one_error_line_and_exit_2(args, message, tmp_path):
    r = (bash("run_all.sh", *args, "--out", tmp_path / "raw") if args != ["--out"]
         else bash("run_all.sh", "--out"))
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith(message), r.stderr


def test_a_python_without_torch_is_one_error_line_and_exit_2(tmp_path):
    """The wrong environment active: said once, before any run starts, not one traceback per run."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python").write_text("#!/bin/bash\necho 'ModuleNotFoundError: torch' >&2; exit 1\n")
    (fake / "python").chmod(0o755)
    r = bash("run_all.sh", "--out", tmp_path / "raw", "phase5", first_on_path=fake)
    assert r.returncode == 2 and r.stdout == "", r.stdout
    assert r.stderr.splitlines() == [
        "error: python cannot import torch, torchvision, numpy and tqdm: activate the environment "
        "requirements.txt is installed in"]
    assert not (tmp_path / "logs").exists()


# run_all.sh's checks before it starts anything: the imports, and how many GPUs torch sees
CHECKS_SEEING_TWO_GPUS = 'if [[ $1 == -c ]]; then [[ $2 == *device_count* ]] && echo 2; exit 0; fi'


def test_gpus_torch_cannot_see_stop_run_all_before_anything_starts(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python").write_text(
        "#!/bin/bash\n"
        + CHECKS_SEEING_TWO_GPUS.replace("echo 2", "echo 1")
        + '\necho "run: started" >> "$LOG"\n')
    (fake / "python").chmod(0o755)
    log = tmp_path / "runs.log"
    r = bash("run_all.sh", "--gpus", "0,1", "--out", tmp_path / "raw", "phase5",
             env={"LOG": str(log)}, first_on_path=fake)
    assert r.returncode == 2 and r.stdout == "" and not log.exists(), r.stdout
    assert r.stderr.splitlines() == [
        "error: --gpus 0,1: GPU 1 is not visible to torch (it sees 1; "
        f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')}"
        "): check the numbers and the driver"]


def test_gpus_are_shared_by_jobs_per_gpu_runs_each(tmp_path):
    """--gpus 0,1 --jobs-per-gpu 2: four runs at once, two on each GPU (train.py replaced by a
    recorder)."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python").write_text(f'#!/bin/bash\n{CHECKS_SEEING_TWO_GPUS}\n'
                                 'echo "start $CUDA_VISIBLE_DEVICES" >> "$LOG"\n'
                                 'echo "run: $RANDOM (new)"; sleep 0.5\n'
                                 'echo "end $CUDA_VISIBLE_DEVICES" >> "$LOG"\n')
    (fake / "python").chmod(0o755)
    log = tmp_path / "gpus.log"
    r = bash(
        "run_all.sh", "--gpus", "0,1", "--jobs-per-gpu", "2", "--out", tmp_path / "raw", "phase5",
        env={"LOG": str(log)}, first_on_path=fake)
    assert (r.returncode == 0
            and "summary: 14 completed, 0 resumed, 0 failed, 0 skipped" in r.stdout), r.stdout
    running, most = Counter(), Counter()
    for event, gpu in (line.split() for line in log.read_text().splitlines()):
        running[gpu] += 1 if event == "start" else -1
        most[gpu] = max(most[gpu], running[gpu])
        most["all"] = max(most["all"], sum(running[g] for g in ("0", "1")))
    assert set(running) == {"0", "1"} and most["0"] <= 2 and most["1"] <= 2 and most["all"] >= 2
    # under CUDA_VISIBLE_DEVICES=5,7, torch's GPUs 0 and 1 are the machine's 5 and 7
    log.write_text("")
    r = bash("run_all.sh", "--gpus", "0,1", "--out", tmp_path / "raw", "--only", "--seed 789",
             "phase5", env={"LOG": str(log), "CUDA_VISIBLE_DEVICES": "5,7"}, first_on_path=fake)
    assert r.returncode == 0, r.stdout + r.stderr
    assert {line.split()[1] for line in log.read_text().splitlines()} == {"5", "7"}


def test_jobs_without_gpus_where_torch_sees_gpus_is_one_error_line(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python").write_text(f'#!/bin/bash\n{CHECKS_SEEING_TWO_GPUS}\necho "run: x (new)"\n')
    (fake / "python").chmod(0o755)
    r = bash("run_all.sh", "--jobs", "2", "--out", tmp_path / "raw", "phase5", first_on_path=fake)
    assert r.returncode == 2 and r.stderr.startswith("error: --jobs 2 without --gpus would run")
    r = bash("run_all.sh", "--jobs", "2", "--out", tmp_path / "raw", "phase5", first_on_path=fake,
             env={"EXTRA_FLAGS": "--device cpu"})
    assert r.returncode == 0 and "14 completed" in r.stdout, r.stdout + r.stderr


def test_extra_flags_may_not_move_the_results_root():
    r = bash("run_all.sh", "--dry-run", env={"EXTRA_FLAGS": "--out elsewhere"})
    assert r.returncode == 2 and r.stderr.startswith("error: set the results root with OUT=DIR")


@pytest.mark.parametrize("extra", ["--normalize pixel", "--augment=none", "--tag x"])
def test_extra_flags_may_not_rename_the_run_folders_teachers_are_found_in(extra):
    # phase 2's KD runs name fp32_s42; --normalize pixel would train the teacher in
    # fp32_norm-pixel_s42
    r = bash("run_all.sh", "--dry-run", "phase2", env={"EXTRA_FLAGS": extra})
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith(f"error: EXTRA_FLAGS may not set {extra.split()[0].split('=')[0]}")


def test_a_smoke_takes_a_folder_of_its_own_named_as_train_py_prints_it(tmp_path):
    real = tmp_path / "raw" / "cifar10" / "resnet18" / "fp32_s42"
    real.mkdir(parents=True)
    (real / "config.json").write_text('{"fake_data": false}')
    r = bash("run_all.sh", "--smoke", "--dry-run", "--out", tmp_path / "raw", "phase3")
    assert r.returncode == 2 and f"holds runs on real data ({real})" in r.stderr
    # ./x/raw is x/raw to train.py: the teachers' checkpoints, kept by that name, must match it
    lines = bash("run_all.sh", "--smoke", "--dry-run", "--out", "./scratch/x/raw", "phase2").stdout
    assert " --kd scratch/x/raw/cifar10/resnet18/fp32_bs8_s42/final.pt " in lines


def test_each_run_compiles_with_its_share_of_the_cores(tmp_path):
    """TORCHINDUCTOR_COMPILE_THREADS, read by inductor (else up to 32 compile workers a run): the
    cores over the runs at once, at least 1, unless set; a Slurm task its --cpus-per-task (train.py
    replaced by a recorder, nproc by a 16-core stand-in)."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "nproc").write_text("#!/bin/sh\necho 16\n")
    (fake / "python").write_text(f'#!/bin/bash\n{CHECKS_SEEING_TWO_GPUS}\n'
                                 'echo "$TORCHINDUCTOR_COMPILE_THREADS" >> "$LOG"\n'
                                 'echo "run: $RANDOM (new)"\n')
    for path in fake.iterdir():
        path.chmod(0o755)
    gpus = ["--gpus", "0,1", "--jobs-per-gpu", "3"]  # 6 runs at once
    cases = [(gpus, "", "2"), (["--jobs", "5"], "", "3"), ([], "", "16"),
             (["--gpus", "0", "--jobs-per-gpu", "20"], "", "1"), (gpus, "7", "7")]
    for n, (args, given, share) in enumerate(cases):  # "" counts as not set
        log = tmp_path / f"{n}.log"
        # --jobs where torch sees GPUs (the stand-in's two): on the CPU, as it must say
        cpu = "--device cpu" if "--jobs" in args else ""
        r = bash("run_all.sh", *args, "--only", "--seed 789", "--out", tmp_path / "raw", "phase5",
                 env={"LOG": str(log), "TORCHINDUCTOR_COMPILE_THREADS": given, "EXTRA_FLAGS": cpu},
                 first_on_path=fake)
        assert r.returncode == 0 and "summary: 2 completed" in r.stdout, r.stdout + r.stderr
        assert log.read_text().split() == [share, share], (args, given)
    # a Slurm array task: its --cpus-per-task as Slurm sets it, else as the script asks for
    assert bash("run_all.sh", "--slurm", "--out", tmp_path / "raw", "phase5").returncode == 0
    script = tmp_path / "slurm" / "phase5.sbatch"
    assert "#SBATCH --cpus-per-task=8\n" in script.read_text()
    for cpus, share in [("6", "6"), (None, "8")]:
        env = {k: v for k, v in os.environ.items() if k != "SLURM_CPUS_PER_TASK"}
        env.update(SLURM_ARRAY_TASK_ID="0", TORCHINDUCTOR_COMPILE_THREADS="",
                   LOG=str(tmp_path / "s.log"), PATH=f"{fake}:{os.environ['PATH']}")
        if cpus:
            env["SLURM_CPUS_PER_TASK"] = cpus
        (tmp_path / "s.log").write_text("")
        assert subprocess.run(["bash", str(script)], env=env, capture_output=True).returncode == 0
        assert (tmp_path / "s.log").read_text().split() == [share]
