"""train.py end to end on the synthetic dataset: learning, the files a run writes, deployed size,
resume, skip, KD and one-line errors; the stem, lr schedule, TTQ's scale group, default layout."""
import signal
import subprocess
import sys
import time

import pytest
import torch

import common
import devices
import flags
import qlayers
import train
from conftest import ROOT, run_script

RESNET20 = ["--model", "resnet20", "--epochs", "3", "--lr", "0.05", "--warmup-epochs", "1"]


def run_dir(tmp_path, tag, model="resnet20", seed=0):
    return tmp_path / "raw" / "synthetic" / model / f"{tag}_s{seed}"


@pytest.mark.parametrize("quant_flags,tag", [
    (["--quant", "fp32"], "fp32"),
    (["--quant", "bitnet"], "bitnet"),
    (["--quant", "ttq"], "ttq"),
])
def test_short_synthetic_run_learns_and_writes_its_files(tmp_path, fast_flags, quant_flags, tag):
    r = run_script("train.py", *RESNET20, *quant_flags, *fast_flags)
    assert r.returncode == 0, r.stderr
    folder = run_dir(tmp_path, tag)
    quantized = {"dynamics.jsonl"} if tag != "fp32" else set()  # how the quantized weights moved
    assert {p.name for p in folder.iterdir()} == {"config.json", "results.json", "last.pt",
                                                  "best.pt", "final.pt", "summary.md", *quantized}
    results = common.read_json(folder / "results.json")
    config = common.read_json(folder / "config.json")
    assert (results["status"] == "completed"
            and results["epochs_completed"] == 3
            and len(results["history"]) == 3)
    assert results["best_top1"] > 30, results["history"]  # chance is 10%
    assert results["final_top1"] == results["history"][-1]["test_top1"]
    assert results["best_top1"] == max(h["test_top1"] for h in results["history"])
    for key in ("final_top5", "wall_seconds", "train_images_per_second", "params",
                "quantized_params", "model_size_bytes"):
        assert results[key] > 0 or (key == "quantized_params" and tag == "fp32")
    assert config["quant"] == quant_flags[1] and config["stem"] == "cifar" and config["seed"] == 0
    assert config["torch_version"] == torch.__version__ and config["num_classes"] == 10
    best = common.load_checkpoint(folder / "best.pt")
    assert best["top1"] == results["best_top1"] and best["config"]["model"] == "resnet20"
    # a completed run is not trained again
    again = run_script("train.py", *RESNET20, *quant_flags, *fast_flags)
    assert again.returncode == 0 and "completed" in again.stdout and "nothing to do" in again.stdout


def test_deployed_size_counts_ternary_layers_at_two_bits(tmp_path, fast_flags):
    r = run_script("train.py", *RESNET20, "--epochs", "1", "--warmup-epochs", "0", "--quant",
                   "bitnet", "--fp32-conv1", *fast_flags)
    assert r.returncode == 0, r.stderr
    results = common.read_json(run_dir(tmp_path, "bitnet_keep-conv1") / "results.json")
    import models
    model = models.build_model("resnet20", 10)
    conv1 = model.conv1.weight.numel()
    quantized = sum(m.weight.numel() for m in model.modules()
                    if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))) - conv1
    params = sum(p.numel() for p in model.parameters())
    assert results["params"] == params and results["quantized_params"] == quantized
    assert results["model_size_bytes"] == (2 * quantized + 32 * (params - quantized) + 7) // 8


def kill_after_first_epoch(cmd, folder, epochs_done=1):
    """Start train.py, SIGKILL it once `epochs_done` epochs are on disk, and return."""
    proc = subprocess.Popen([sys.executable, "train.py", *cmd], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        results = common.read_json(folder / "results.json") or {}
        if results.get("epochs_completed", 0) >= epochs_done:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait()


def test_a_killed_run_resumes_to_the_same_weights_as_an_uninterrupted_run(tmp_path, fast_flags):
    cmd = [*RESNET20, "--steps-per-epoch", "6", "--quant", "bitnet", *fast_flags]
    assert run_script("train.py", *cmd, "--out", tmp_path / "whole").returncode == 0
    folder = tmp_path / "killed/synthetic/resnet20/bitnet_s0"
    kill_after_first_epoch([*cmd, "--out", str(tmp_path / "killed")], folder)
    assert common.read_json(folder / "results.json")["status"] == "running"
    r = run_script("train.py", *cmd, "--out", tmp_path / "killed")
    assert r.returncode == 0 and "resuming at epoch" in r.stdout, r.stdout + r.stderr
    a = common.load_checkpoint(tmp_path / "whole/synthetic/resnet20/bitnet_s0/last.pt")
    b = common.load_checkpoint(folder / "last.pt")
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    ra = common.read_json(tmp_path / "whole/synthetic/resnet20/bitnet_s0/results.json")
    rb = common.read_json(folder / "results.json")
    strip = lambda h: [{k: v for k, v in e.items() if k not in ("seconds", "images_per_second")}
                       for e in h]
    assert strip(ra["history"]) == strip(rb["history"]) and ra["final_top1"] == rb["final_top1"]
    # the weights' dynamics too: the codes, change directions and EMAs resume from last.pt
    assert all("dynamics" in e for e in ra["history"])
    whole = tmp_path / "whole/synthetic/resnet20/bitnet_s0/dynamics.jsonl"
    assert whole.read_text() == (folder / "dynamics.jsonl").read_text()


def test_kd_with_a_teacher_of_another_architecture_is_a_clear_error(tmp_path, fast_flags):
    assert run_script("train.py", *RESNET20, "--epochs", "1", "--warmup-epochs", "0",
                      *fast_flags).returncode == 0
    teacher = run_dir(tmp_path, "fp32") / "final.pt"
    r = run_script("train.py", "--model", "resnet32", "--epochs", "1", "--quant", "bitnet", "--kd",
                   teacher, *fast_flags)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--kd" in r.stderr and "resnet20" in r.stderr and "resnet32" in r.stderr


def test_kd_with_a_matching_teacher_trains(tmp_path, fast_flags):
    assert run_script("train.py", *RESNET20, "--epochs", "1", "--warmup-epochs", "0",
                      *fast_flags).returncode == 0
    teacher = run_dir(tmp_path, "fp32") / "final.pt"
    r = run_script("train.py", *RESNET20, "--quant", "bitnet", "--kd", teacher, *fast_flags)
    assert r.returncode == 0, r.stderr
    results = common.read_json(run_dir(tmp_path, "bitnet_kd") / "results.json")
    assert results["status"] == "completed" and results["best_top1"] > 20


@pytest.mark.parametrize("flags,words", [
    (["--model", "resnet19"], ["unknown model", "resnet18"]),
    (["--quant", "ternary"], ["unknown quantizer", "bitnet", "ttq"]),
    (["--dataset", "cifar11"], ["unknown dataset", "cifar10"]),
    (["--quant", "bitnet", "--keep", "layer9"], ["layer9", "layer1"]),
    (["--kd", "/no/such/teacher.pt"], ["--kd /no/such/teacher.pt not found"]),
])
def test_bad_input_is_one_clear_line_and_exit_code_2(tmp_path, fast_flags, flags, words):
    r = run_script("train.py", "--model", "resnet20", "--epochs", "1", *fast_flags, *flags)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    line = r.stderr.strip()
    assert line.startswith("error:") and len(line.splitlines()) == 1
    assert all(w in line for w in words), line


def test_stem_on_a_network_without_a_choice_of_stem_is_refused(capsys):
    # it was ignored, and the run tabulated as a stem ablation arm
    with pytest.raises(SystemExit) as stop:
        flags.resolve(flags.parse_args(["--device", "cpu", "--model", "resnet20", "--stem",
                                        "imagenet"]))
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err.endswith("applies to resnet18, resnet50; resnet20 has its own stem\n"), err


def test_stem_auto_picks_cifar_for_small_inputs_and_imagenet_for_large():
    import models
    import train
    args = flags.resolve(flags.parse_args(["--device", "cpu"]))
    _, stem_small = train.build(args, 10, 32, 3)
    _, stem_large = train.build(args, 10, 224, 3)
    assert (stem_small, stem_large) == ("cifar", "imagenet")
    cifar = models.build_model("resnet18", 10, stem="cifar")
    imagenet = models.build_model("resnet18", 10, stem="imagenet")
    assert (cifar(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
            and imagenet(torch.zeros(2, 3, 64, 64)).shape == (2, 10))
    assert (cifar.conv1.kernel_size == (3, 3)
            and cifar.conv1.stride == (1, 1)
            and isinstance(cifar.pool, torch.nn.Identity))
    assert imagenet.conv1.kernel_size == (7, 7) and imagenet.conv1.stride == (2, 2)
    assert abs(sum(p.numel() for p in cifar.parameters()) - 11.17e6) < 0.01e6


def test_lr_schedule_warms_up_then_follows_the_cosine():
    import math
    import train
    args = flags.resolve(flags.parse_args(["--epochs", "10", "--warmup-epochs", "2", "--lr", "0.1",
                                           "--min-lr", "0", "--device", "cpu"]))
    assert math.isclose(train.lr_at(args, 0, 5),
                        0.1 / 10) and math.isclose(train.lr_at(args, 9, 5), 0.1)
    # half way through the 40 post-warm-up steps the cosine is at half the peak
    assert math.isclose(train.lr_at(args, 10 + 20, 5), 0.05)
    step = flags.resolve(flags.parse_args(["--schedule", "step", "--milestones", "4,8",
                                           "--warmup-epochs", "0",
                                           "--epochs", "10", "--device", "cpu"]))
    assert [round(train.lr_at(step, e * 5, 5), 6) for e in (0, 4, 8)] == [0.1, 0.01, 0.001]


def test_ttq_scales_train_in_their_own_group_without_weight_decay():
    import train
    args = flags.resolve(flags.parse_args(["--model", "resnet20", "--quant", "ttq", "--device",
                                           "cpu", "--scale-lr", "0.01"]))
    model, _ = train.build(args, 10, 32, 3)
    weights, scales = train.make_optimizer(args, model).param_groups
    assert len(scales["params"]) == 2 * len(qlayers.quantized_layers(model))
    assert scales["weight_decay"] == 0 and scales["lr_scale"] == 0.01
    assert weights["weight_decay"] == 5e-4 and weights["lr_scale"] == 1.0


def test_channels_last_defaults_to_the_layout_measured_faster_on_a_cpu():
    import train
    # bench.py --layout both measured NHWC faster for the ResNets and slower for LeNet-5 on a CPU;
    # CUDA always NHWC
    layout = lambda *argv: flags.resolve(flags.parse_args(list(argv))).channels_last
    assert layout("--model", "resnet20", "--device", "cpu") is True
    assert layout("--model", "resnet18", "--quant", "bitnet", "--device", "cpu") is True
    assert layout("--model", "lenet5", "--dataset", "mnist", "--device", "cpu") is False
    assert layout("--model", "resnet20", "--device", "cpu", "--no-channels-last") is False
    assert layout("--model", "lenet5", "--dataset", "mnist", "--device", "cpu",
                  "--channels-last") is True
    assert devices.default_channels_last("cuda:0", "lenet5") is True


def test_stochastic_quantizers_draw_apart_from_the_data():
    # one seed gave both CPU generators the same numbers: SR's noise repeated the data's draws
    g, _ = train.epoch_generators(42, 3)
    data, noise = torch.rand(1000, generator=g), torch.rand(1000)
    assert abs(torch.corrcoef(torch.stack([data, noise]))[0, 1]) < 0.15
    g, _ = train.epoch_generators(42, 3)  # and each stream repeats for a resumed epoch
    assert torch.equal(torch.rand(1000, generator=g), data) and torch.equal(torch.rand(1000), noise)
