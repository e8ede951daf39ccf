"""Tests of the phase scripts and run_all.sh: run counts, run folders and teachers, the smoke
pipeline, resuming after a kill, a missing teacher, the Slurm scripts, each run's compile threads
and bad usage."""
import csv
import fcntl
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import torch

import common
import flags
import models
import qlayers
from conftest import ROOT

PHASE_RUNS = {"phase1": 22, "phase2": 27, "phase3": 18, "phase4": 54, "phase5": 14, "phase6": 18}
OTHER_RUNS = {
    "ttq_paper": 24, "ste_ablation": 111, "li2017": 120, "quant_table": 90, "imagenet": 53,
}
# smoke-like flags on ResNet-20 for every script: the run folders' shape, a few seconds a run
CHEAP = ("--model resnet20 --fake-data --epochs 1 --steps-per-epoch 1 --batch-size 8 --device cpu "
         "--threads 1 --quiet")


def bash(*args, env=None, first_on_path=None, timeout=120):
    """bash run_all.sh / a phase script with the test's python (or a folder of stand-ins) first
    on PATH."""
    path = [str(p) for p in (first_on_path, Path(sys.executable).parent) if p]
    full_env = dict(os.environ, **(env or {}), PATH=os.pathsep.join(path + [os.environ["PATH"]]))
    return subprocess.run(
        ["bash", *map(str, args)],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def dry_run(*args, env=None):
    r = bash("run_all.sh", "--dry-run", *args, env=env)
    assert r.returncode == 0 and not r.stderr, r.stderr
    return r.stdout.splitlines()


def flag(argv, name):
    return argv[argv.index(name) + 1] if name in argv else None


def resolved(line):
    """train.py's flags of a listed command, through its own resolve()."""
    argv = shlex.split(line)
    assert argv[:2] == ["python", "train.py"], line
    # resolve() wants the checkpoints a run starts from to exist
    for name in ("--kd", "--init-from"):
        if flag(argv, name):
            Path(flag(argv, name)).parent.mkdir(parents=True, exist_ok=True)
            Path(flag(argv, name)).touch()
    return flags.resolve(flags.parse_args(argv[2:] + ["--device", "cpu"]))


def run_folder(line):
    """The folder train.py would write for a listed command: its own resolve() and default tag."""
    args = resolved(line)
    return Path(args.out) / args.dataset / args.model / f"{args.tag}_s{args.seed}"


def test_dry_run_lists_153_runs_and_each_phase_its_count():
    lines = dry_run()
    assert len(lines) == 153 == sum(PHASE_RUNS.values())
    assert all(line.startswith("python train.py ") for line in lines)
    for phase, n in {**PHASE_RUNS, **OTHER_RUNS}.items():
        assert len(dry_run(phase)) == n, phase
    assert dry_run(*PHASE_RUNS) == lines  # the default set is phases 1 to 6, in order


def listed(phase, **flags):
    """The parsed command lines of a phase whose flags include all of flags
    (name without dashes -> value)."""
    runs = [shlex.split(line) for line in dry_run(phase)]
    return [
        argv for argv in runs
        if all(flag(argv, "--" + k.replace("_", "-")) == v for k, v in flags.items())
    ]


@pytest.mark.parametrize("phase,match,expected", [
    # the results table (quantization-results-wiki.txt): each row its own optimizer and initial lr
    ("quant_table", dict(model="lenet5_wide_max", quant="qnn", wbits="1", abits="1"),
     dict(optimizer="adam", lr="0.01")),
    ("quant_table", dict(model="lenet5_wide_avg", quant="dorefa", wbits="8", abits="8"),
     dict(optimizer="sgd", lr="0.1", momentum=None, weight_decay="0")),
    ("quant_table", dict(model="lenet5_wide_avg", tag="table_fp32"),
     dict(optimizer="sgd", lr="0.01", weight_decay="1e-4")),
    ("quant_table", dict(model="resnet20_redbit", quant="qnn", wbits="2", abits="1"),
     dict(optimizer="adam", lr="0.001")),
    ("quant_table", dict(model="vgg16_redbit", quant="dorefa", wbits="8", abits="8"),
     dict(optimizer="adam", lr="1e-5")),
    ("imagenet", dict(model="resnet18", quant="dorefa", wbits="4", abits="4"),
     dict(optimizer="adam", lr="0.001", batch_size="48")),
    ("imagenet", dict(model="alexnet", quant="xnor", abits="1"), dict(optimizer="sgd", lr="0.001")),
    # TTQ paper's AlexNet: lr 1e-4 x0.2 at epochs 56 and 64, weight decay 5e-6, batch 128, from FP32
    ("imagenet", dict(model="alexnet", quant="ttq", keep="conv1,fc", tag=None),
     dict(lr="1e-4", gamma="0.2", milestones="56,64", weight_decay="5e-6", batch_size=None)),
    # Li et al. 2017: Adam, lr 0.01, x0.1 at epochs 82 and 122 (CIFAR); 30 and 60 of 90 (ImageNet)
    ("li2017", dict(model="resnet56", quant="sr", batch_size="1024", dataset="cifar100"),
     dict(optimizer="adam", lr="0.01", milestones="82,122", epochs="164")),
    ("imagenet", dict(model="resnet18", quant="bc"),
     dict(optimizer="adam", lr="0.01", milestones="30,60", epochs="90")),
])
def test_scripts_carry_their_papers_recipe(phase, match, expected):
    runs = listed(phase, **match)
    assert len(runs) >= 1, match
    for argv in runs:
        for name, value in expected.items():
            assert flag(argv, "--" + name.replace("_", "-")) == value, (match, name, argv)


def test_results_table_schedule_per_dataset_and_rows_it_marks_absent():
    schedule = {"mnist": ("100", "20,40,60,80"), "cifar10": ("200", "60,120,180")}
    for argv in (shlex.split(line) for line in dry_run("quant_table")):
        epochs, milestones = schedule[flag(argv, "--dataset")]
        given = (flag(argv, "--epochs"), flag(argv, "--milestones"), flag(argv, "--report"))
        assert given == (epochs, milestones, "best")
        assert "--no-nesterov" in argv and flag(argv, "--seed") == "42"
    # 24 LeNet-5 rows: baseline, QNN 9, DoReFa 9, XNOR 2, TWN 2, TTQ 1; VGG-16 has no TTQ row ('-')
    assert len(listed("quant_table", dataset="mnist")) == 24
    vgg16 = [argv for argv in listed("quant_table") if flag(argv, "--model").startswith("vgg16")]
    assert len(vgg16) == 19 and [flag(argv, "--quant") for argv in vgg16].count("ttq") == 0
    # run_all.sh --only: a subset of a phase
    assert len(dry_run("--only", "--dataset mnist", "quant_table")) == 24


def test_results_table_lenet5_rows_run_redbits_model_pooling_and_augmentation():
    # RedBit's LeNet_5.py per method folder: Baseline and DoReFa-Net average-pool, QNN, TWN and TTQ
    # max-pool, XNOR-Net normalizes before its binary layers; main_mnist.py rotates and crops
    model = dict(fp32="lenet5_wide_avg", dorefa="lenet5_wide_avg", qnn="lenet5_wide_max",
                 twn="lenet5_wide_max", ttq="lenet5_wide_max", xnor="lenet5_wide_xnor")
    lines = dry_run("quant_table")
    for argv in (shlex.split(line) for line in lines):
        if flag(argv, "--dataset") == "mnist":
            assert flag(argv, "--model") == model[flag(argv, "--quant") or "fp32"], argv
            assert flag(argv, "--augment") == "rotate-crop", argv
        else:  # the CIFAR-10 rows: RedBit's crop of the reflect-padded image, and flip
            assert flag(argv, "--augment") == "reflect-crop-flip", argv
            assert "lenet5" not in flag(argv, "--model")
    assert {resolved(line).augment for line in lines} == {"rotate-crop", "reflect-crop-flip"}


def test_results_table_rows_keep_first_and_last_layers_as_each_methods_paper():
    # XNOR-Net, DoReFa-Net and TTQ keep the first conv and the classifier in full precision;
    # QNN (the image fed to its first layer as it is, built into quant.QNN) and TWN quantize
    # every layer; 32/32 rows have nothing to keep
    for phase in ("quant_table", "imagenet"):
        for argv in (shlex.split(line) for line in dry_run(phase)):
            if not (flag(argv, "--tag") or "").startswith("table_"):
                continue
            method = flag(argv, "--quant") or "fp32"
            bits = (flag(argv, "--wbits"), flag(argv, "--abits"))
            kept = method in ("xnor", "dorefa", "ttq") and bits != ("32", "32")
            assert flag(argv, "--keep") == ("conv1,fc" if kept else None), argv


def test_run_folders_are_unique_and_kd_runs_read_phase1_teachers(tmp_path):
    out = tmp_path / "raw"
    env = {"OUT": str(out)}
    by_phase = {
        p: [(line, run_folder(line)) for line in dry_run(p, "--out", out)]
        for p in PHASE_RUNS
    }
    folders = [folder for runs in by_phase.values() for _, folder in runs]
    assert len(set(folders)) == 153, [f for f, n in Counter(folders).items() if n > 1]
    teachers = {
        folder for line, folder in by_phase["phase1"]
        if "--stem" not in line and folder.name == "fp32_s42"
    }
    assert len(teachers) == 6  # 2 models x 3 datasets
    kd_lines = [line for runs in by_phase.values() for line, _ in runs if "--kd" in line]
    assert len(kd_lines) == 9 + 18 + 9
    for line in kd_lines:
        argv = shlex.split(line)
        teacher = Path(flag(argv, "--kd"))
        assert teacher == (
            out / flag(argv, "--dataset") / flag(argv, "--model") / "fp32_s42" / "final.pt"
        )
        assert teacher.parent in teachers
    # the other studies: valid for train.py, and two different commands never share a run folder
    owner = {}
    for script in OTHER_RUNS:
        for line in dry_run(script, "--out", out):
            folder = run_folder(line)
            assert owner.setdefault(folder, line) == line, (
                f"{script}: {line} and {owner[folder]} share {folder}")
    # the scripts alone
    assert bash("phases/phase1.sh", env=dict(env, RUN_LIST="1")).stdout.count("\n") == 22


def test_a_kd_run_whose_teacher_is_missing_names_the_phase1_run(tmp_path):
    out = tmp_path / "raw"
    r = bash("phases/phase2.sh", env={"OUT": str(out)})
    assert r.returncode == 1
    teacher = out / "cifar10/resnet18/fp32_s42/final.pt"
    assert (f"error: teacher {teacher} missing: run phase1 first "
            f"(python train.py --model resnet18 --dataset cifar10 --seed 42 --out {out})"
            in r.stderr.splitlines())
    assert not out.exists()  # nothing was started
    # run_all.sh waits for teachers, then starts the waiting runs anyway: they fail with the reason
    r = bash("run_all.sh", "--out", out, "phase2")
    assert r.returncode == 1
    assert "summary: 0 completed, 0 resumed, 27 failed, 0 skipped" in r.stdout
    assert f"error: teacher {teacher} missing: run phase1 first" in r.stdout


def test_ttq_paper_fine_tunes_its_own_fp32_run_with_all_but_conv1_ternarized(tmp_path):
    # the TTQ authors' tw-cifar10-resnet.py: only conv0 escapes, the linear layer is ternarized
    out = tmp_path / "raw"
    lines = dry_run("ttq_paper", "--out", out)
    fp32 = {run_folder(line) for line in lines if "--quant" not in line}
    ttq = [shlex.split(line) for line in lines if "--quant ttq" in line]
    assert len(fp32) == len(ttq) == 12
    for argv in ttq:
        model = models.build_model(flag(argv, "--model"), 10)
        qlayers.quantize_model(model, "ttq", keep=flag(argv, "--keep").split(","), init_from=True)
        assert type(model.fc) is qlayers.QLinear and type(model.conv1) is torch.nn.Conv2d
        assert flag(argv, "--model").startswith("preact_resnet")
        assert flag(argv, "--milestones") == "160,240,600"
        # --init-from: the final.pt of the FP32 run of its model and seed, as train.py names it
        teacher = Path(flag(argv, "--init-from"))
        assert teacher.name == "final.pt" and teacher.parent in fp32
        assert teacher.parent.parent.name == flag(argv, "--model")
        assert teacher.parent.name.endswith(f"_s{flag(argv, '--seed')}")
    assert all(flag(shlex.split(line), "--gamma") == "0.1,0.1,0.2"
               for line in lines if "--quant" not in line)

def configuration(line):
    """A command line without its seed (and the seed in a KD teacher's folder): what a run
    differs in."""
    return re.sub(r"--seed \d+|_s\d+/final.pt", "", line)


def test_the_seed_42_runs_hold_every_configuration_of_the_study():
    lines = dry_run()
    assert ({configuration(line) for line in lines}
            == {configuration(line) for line in lines if "--seed 42" in line})
    assert len(dry_run("--only", "--seed 42")) == 49


def weight_gradient(method, ste):
    """The weight gradient of one quantized conv layer with this STE, weights partly beyond +-1."""
    torch.manual_seed(0)
    layer = qlayers.quantize_layer(torch.nn.Conv2d(2, 2, 3), method, ste=ste)
    with torch.no_grad():
        layer.weight.mul_(20)  # where the clipped STE passes no gradient and the identity does
    layer(torch.randn(1, 2, 5, 5)).square().sum().backward()
    return layer.weight.grad


def test_the_ste_ablation_lists_each_configuration_once(tmp_path):
    # TWN's and BinaryConnect's STE is the identity unless --ste names another, so a run of theirs
    # without --ste computes what the same run with --ste identity computes, in another folder
    for method in ("twn", "bc"):
        default = weight_gradient(method, None)
        assert torch.equal(default, weight_gradient(method, "identity"))
        assert not torch.equal(default, weight_gradient(method, "clipped"))
    recipes = Counter()
    for line in dry_run("ste_ablation", "--out", tmp_path / "raw"):
        args = vars(resolved(line))
        if args["quant"] in ("twn", "bc"):
            args["ste"] = args["ste"] or "identity"
        args["init_from"] = configuration(str(args["init_from"]))  # the FP32 run of the same seed
        recipes[tuple(sorted((k, str(v)) for k, v in args.items()
                             if k not in common.FREE_SETTINGS | {"seed"}))] += 1
    assert set(recipes.values()) == {3}  # each configuration once, with its three seeds
    assert len(recipes) == 37 == OTHER_RUNS["ste_ablation"] // 3


def test_smoke_runs_the_whole_pipeline(tmp_path):
    """CI's end-to-end check: each of the study's 49 configurations one step (its seed-42 runs,
    teachers before their students; the other 104 runs differ only in the seed), then aggregate,
    tables, figures. The README's `bash run_all.sh --smoke` runs all 153 the same way."""
    r = bash("run_all.sh", "--smoke", "--only", "--seed 42", "--out", tmp_path / "raw",
             timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "summary: 49 completed, 0 resumed, 0 failed, 0 skipped" in r.stdout
    results = [common.read_json(p) for p in (tmp_path / "raw").glob("*/*/*/results.json")]
    assert len(results) == 49 and all(res["status"] == "completed" for res in results)
    kd = [p for p in (tmp_path / "raw").glob("*/*/*kd*") if p.is_dir()]
    assert len(kd) == (9 + 18 + 9) // 3
    processed = tmp_path / "processed"
    with open(processed / "aggregated.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 49 and {row["status"] for row in rows} == {"completed"}
    assert (processed / "tables" / "main.md").exists() and "| resnet18 | cifar10 |" in r.stdout
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
    args = ["bash", "run_all.sh", "--out", str(out), "--jobs", "2", "phase5"]
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
    assert 1 <= len(done) < 14
    r = bash("run_all.sh", "--out", out, "--jobs", "2", "phase5",
             env={"EXTRA_FLAGS": CHEAP}, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    summary = r.stdout.split("summary: ")[1].split(" (")[0]
    counts = {word: int(n) for n, word in (part.split()[:2] for part in summary.split(", "))}
    assert counts["skipped"] == len(done) and counts["failed"] == 0
    assert counts["completed"] + counts["resumed"] == 14 - len(done)
    for folder in done:
        assert f"skipped   {folder} (already completed)" in r.stdout
    results = [common.read_json(p) for p in out.glob("*/*/*/results.json")]
    assert len(results) == 14 and all(res["status"] == "completed" for res in results)
    assert not list(out.glob("*/*/*/lock"))


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
    assert "phase2_dep=$(submit --dependency=afterok:$phase1 phase2_dep.sbatch)" in submit
    assert "phase4_dep=$(submit --dependency=afterok:$phase1 phase4_dep.sbatch)" in submit
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
            == f"--parsable --dependency=afterok:{phase1} phase2_dep.sbatch")
    assert f"phase4_dep: job {int(phase1) + 6} (9 runs)" in r.stdout
    # runs that start from checkpoints of the same phase's runs: a second array, after the first
    assert bash("run_all.sh", "--slurm", "--out", out, "ttq_paper").returncode == 0
    assert ("--dependency=afterok:$ttq_paper ttq_paper_dep.sbatch"
            in (slurm / "submit.sh").read_text())
    assert {p.stem for p in slurm.glob("*.sbatch")} == {"ttq_paper", "ttq_paper_dep"}


@pytest.mark.parametrize("args,message", [
    (["phase7"], "error: unknown phase 'phase7'; choose from: "),
    (["--fast"], "error: unknown option '--fast'"),
    (["--jobs-per-gpu", "0"], "error: --jobs-per-gpu takes a positive number"),
    (["--gpus", "a,b"], "error: --gpus takes GPU numbers"),
    (["--out"], "error: --out needs a value"),
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


def test_extra_flags_may_not_move_the_results_root():
    r = bash("run_all.sh", "--dry-run", env={"EXTRA_FLAGS": "--out elsewhere"})
    assert r.returncode == 2 and r.stderr.startswith("error: set the results root with OUT=DIR")


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
        r = bash("run_all.sh", *args, "--only", "--seed 789", "--out", tmp_path / "raw", "phase5",
                 env={"LOG": str(log), "TORCHINDUCTOR_COMPILE_THREADS": given}, first_on_path=fake)
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
