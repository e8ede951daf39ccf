"""Tests of the phase scripts: run counts, each script's recipes, run folders and teachers, the
TTQ paper's fine-tuning and the STE ablation's configurations."""
import os
import re
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

import common
import flags
import models
import qlayers
import ste_factors
from conftest import ROOT
from study import STE_ARMS_KEEP

PHASE_RUNS = {"phase1": 22, "phase2": 27, "phase3": 18, "phase4": 54, "phase5": 14, "phase6": 18}
OTHER_RUNS = {
    "ttq_paper": 24, "ste_ablation": 111, "li2017": 75, "quant_table": 90, "imagenet": 53,
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


def folders_of(lines):
    """{run folder: the listed command that trains it}, asserting that no two commands share one."""
    owner = {}
    for line in lines:
        folder = run_folder(line)
        assert owner.setdefault(folder, line) == line, f"{line} and {owner[folder]} share {folder}"
    return owner


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
    # TTQ paper's AlexNet, as its authors' code: from scratch, Adam, lr 1e-4 x0.2 at epochs 56 and
    # 64 of 100, weight decay 5e-6, batch 128
    ("imagenet", dict(model="alexnet", quant="ttq", keep="conv1,fc", tag=None),
     dict(optimizer="adam", lr="1e-4", gamma="0.2", milestones="56,64", epochs="100",
          weight_decay="5e-6", batch_size=None, init_from=None)),
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
    folders_of([line for script in OTHER_RUNS for line in dry_run(script, "--out", out)])
    # the scripts alone
    assert bash("phases/phase1.sh", env=dict(env, RUN_LIST="1")).stdout.count("\n") == 22


def test_the_smoke_keeps_every_run_in_a_folder_of_its_own_and_its_teachers_among_them(tmp_path):
    # the smoke once trained every run at batch 8: li2017's stochastic-rounding arms of batch 128
    # to 1024 shared one folder (two at once clashed on its lock)
    out = tmp_path / "raw"
    lines = [line for script in [*PHASE_RUNS, *(s for s in OTHER_RUNS if s != "imagenet")]
             for line in dry_run("--smoke", script, "--out", out)]
    owner = folders_of(lines)
    for line in lines:
        argv = shlex.split(line)
        start = flag(argv, "--kd") or flag(argv, "--init-from")
        assert start is None or Path(start).parent in owner, line
    # each run's batch over 16, appended last (the last --batch-size wins): li2017's 128, 256,
    # 512 and 1024 as 8, 16, 32 and 64
    batches = Counter(" ".join(shlex.split(line)[-2:])
                      for line in dry_run("--smoke", "li2017", "--out", out))
    assert batches == {"--batch-size 8": 30, "--batch-size 16": 15, "--batch-size 32": 15,
                       "--batch-size 64": 15}


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


def without_dataset(line):
    """What a run differs in besides its seed and dataset (the KD teacher's folder names both)."""
    return re.sub(r"--dataset \S+|raw/[^/ ]+/", "", configuration(line))


def test_only_given_twice_selects_the_runs_holding_both_and_one_dataset_holds_every_configuration():
    lines = dry_run()
    both = dry_run("--only", "--seed 42", "--only", "--dataset cifar100")
    assert both == [line for line in lines
                    if " --seed 42 " in f"{line} " and " --dataset cifar100 " in line]
    # what test_run_all's smoke runs: every configuration, each once
    assert sorted(map(without_dataset, both)) == sorted({without_dataset(line) for line in lines})


def test_only_that_selects_no_run_is_one_line_and_exit_2():
    # a stale --only (the TTQ pair's model renamed) once ran nothing and exited 0
    r = bash("run_all.sh", "--dry-run", "--only", "--model resnet20", "ttq_paper")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == 'error: no run of ttq_paper contains all of: "--model resnet20"\n'


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


def test_the_ste_ablation_arms_keep_the_first_and_last_layer(tmp_path):
    # a +-1 classifier with no batch norm after it stalls BinaryConnect near ln 10; every arm keeps
    # the layers ReSTE's ResNet-20 keeps, and ste_factors.py's init column leaves out the same ones
    kept = Counter()
    for line in dry_run("ste_ablation", "--out", tmp_path / "raw"):
        args = resolved(line)
        if args.quant != "fp32":
            kept[args.quant, tuple(args.keep)] += 1
    assert kept == {("twn", ("conv1", "fc")): 51, ("bc", ("conv1", "fc")): 51,
                    ("ttq", ("conv1", "fc")): 3, ("xnor", ("conv1", "fc")): 3}
    # the factors' init column and the published STE rows read the layer policy the phase runs
    assert {keep for _, keep in kept} == {tuple(ste_factors.ARMS["keep"]), tuple(STE_ARMS_KEEP)}
