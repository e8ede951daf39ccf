"""What a user reads is what ran: a run folder holds one run's settings, finished or not; k-bit
methods need their widths; teachers and fine-tunes take final weights; a failed or interrupted run
says so in one line and results.json; evaluation changes nothing; impossible numbers are refused."""
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

import batches
import common
import datasets
import flags
import qlayers
import run_folder
import summary
import train
from conftest import ROOT, run_script, train_run

TINY = ["--model", "resnet20", "--dataset", "synthetic", "--device", "cpu", "--quiet", "--epochs",
        "2", "--steps-per-epoch", "2"]


def folder(out, tag, seed=0):
    return out / "synthetic" / "resnet20" / f"{tag}_s{seed}"


def main(*argv):
    """train.main in this process; its exit code, a user error's SystemExit caught."""
    try:
        return train.main([str(a) for a in argv])
    except SystemExit as e:
        return e.code


def error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


# ------------------------------------------------------------------- one folder, one run's settings

def test_a_rerun_of_a_finished_run_gives_its_reported_figure_and_the_commit_it_ran(
        tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(run_folder, "git_commit", lambda: "f" * 40)
    assert main(*TINY, "--out", tmp_path, "--report", "best") == 0
    run = folder(tmp_path, "fp32")
    # the reported figure apart from the final epoch's, as a run that peaked earlier
    results = common.read_json(run / "results.json")
    common.write_json(run / "results.json", dict(results, report_top1=12.25, final_top1=10.0))
    common.write_json(run / "config.json",
                      dict(common.read_json(run / "config.json"), git_commit="0" * 40))
    capsys.readouterr()
    assert main(*TINY, "--out", tmp_path, "--report", "best") == 0
    assert ("(completed; best top-1 12.25%, started at commit 0000000; this checkout is "
            "fffffff; nothing to do)") in capsys.readouterr().out


def test_a_finished_run_rerun_with_other_settings_is_refused_naming_each_change(tmp_path, capsys):
    assert main(*TINY, "--out", tmp_path) == 0
    capsys.readouterr()
    assert main(*TINY, "--out", tmp_path, "--lr", "0.05", "--weight-decay", "0") == 2
    line = error_line(capsys)
    assert "lr: 0.1 -> 0.05" in line and "weight_decay: 0.0005 -> 0.0" in line and "--tag" in line
    assert main(*TINY, "--out", tmp_path, "--epochs",
                "3") == 2 and "epochs: 2 -> 3" in error_line(capsys)
    # a setting of the optimizer, not of the model
    assert main(*TINY, "--out", tmp_path, "--momentum", "0.8") == 2
    # settings that change nothing computed stay free; the finished run is reported, not retrained
    assert main(*TINY, "--out", tmp_path, "--workers", "1", "--data-dir",
                tmp_path / "elsewhere") == 0
    assert "nothing to do" in capsys.readouterr().out
    # a sweep with --tag trains the new setting in its own folder
    assert main(*TINY, "--out", tmp_path, "--lr", "0.05", "--tag", "lr0.05") == 0
    lrs = [common.read_json(folder(tmp_path, t) / "config.json")["lr"] for t in ("fp32", "lr0.05")]
    assert lrs == [0.1, 0.05]


def interrupt_at_evaluation(monkeypatch, call, exception):
    """train.evaluate raises `exception` at its call-th call (1-based): mid-run, after call - 1
    epochs."""
    calls, evaluate = [0], train.evaluate

    def failing(*a, **k):
        calls[0] += 1
        if calls[0] == call:
            raise exception
        return evaluate(*a, **k)
    monkeypatch.setattr(train, "evaluate", failing)


def test_a_resumed_run_keeps_what_it_computes_and_its_original_config(
        tmp_path, capsys, monkeypatch):
    cmd = [*TINY, "--epochs", "3", "--out", tmp_path]
    interrupt_at_evaluation(monkeypatch, 2, KeyboardInterrupt())
    assert main(*cmd) == 130
    err = capsys.readouterr().err.strip()
    assert err == "interrupted in epoch 2; rerun the same command to resume"
    monkeypatch.undo()
    for changed, diff in ((["--epochs", "5"], "epochs: 3 -> 5"),
                          (["--steps-per-epoch", "3"], "steps_per_epoch: 2 -> 3")):
        cmd_changed = cmd + changed
        assert main(*cmd_changed) == 2 and diff in error_line(capsys)
    assert main(*cmd, "--workers", "1") == 0
    assert "resuming at epoch 2" in capsys.readouterr().out
    config = common.read_json(folder(tmp_path, "fp32") / "config.json")
    assert config["workers"] == 8 and config["resumed"] == [dict(at_epoch=2, workers=1)]
    assert common.read_json(folder(tmp_path, "fp32") / "results.json")["epochs_completed"] == 3


def test_a_run_that_raises_after_starting_is_recorded_as_failed(tmp_path, monkeypatch):
    interrupt_at_evaluation(monkeypatch, 2, RuntimeError("out of memory\nmore detail"))
    with pytest.raises(RuntimeError):
        main(*TINY, "--out", tmp_path)
    results = common.read_json(folder(tmp_path, "fp32") / "results.json")
    assert results["status"] == "failed" and results["failed_epoch"] == 2
    assert results["message"] == "RuntimeError: out of memory" and results["epochs_completed"] == 1
    monkeypatch.undo()
    assert main(*TINY, "--out", tmp_path) == 0  # a rerun resumes it
    assert common.read_json(folder(tmp_path, "fp32") / "results.json")["status"] == "completed"


def test_sigint_mid_epoch_is_one_line_and_the_rerun_ends_as_an_uninterrupted_run(tmp_path):
    cmd = [sys.executable, "train.py", *TINY, "--epochs", "3", "--steps-per-epoch", "12",
           "--threads", "1"]
    proc = subprocess.Popen([*cmd, "--out", str(tmp_path / "cut")], cwd=ROOT,
                            stdout=subprocess.DEVNULL,
                            # SIGINT as in a terminal, even under a
                            stderr=subprocess.PIPE, text=True,
                            # background job
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    results = folder(tmp_path / "cut", "fp32") / "results.json"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and not results.exists():
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 130 and "Traceback" not in err
    assert err.strip() in (f"interrupted in epoch {e}; rerun the same command to resume"
                           for e in (2, 3))
    rerun = subprocess.run([*cmd, "--out", str(tmp_path / "cut")], cwd=ROOT, capture_output=True,
                           text=True)
    assert rerun.returncode == 0 and "(resuming at epoch" in rerun.stdout
    whole = subprocess.run([*cmd, "--out", str(tmp_path / "whole")], cwd=ROOT, capture_output=True,
                           text=True)
    assert whole.returncode == 0
    a, b = (common.load_checkpoint(folder(tmp_path / d, "fp32") / "final.pt")["model"]
            for d in ("cut", "whole"))
    assert all(torch.equal(a[k], b[k]) for k in a)


# -------------------------------------------------------------------------- what a method trains at

def test_a_k_bit_method_without_its_widths_is_refused(capsys):
    for method in ("dorefa", "qnn"):
        with pytest.raises(SystemExit) as e:
            flags.resolve(flags.parse_args(["--quant", method, "--device", "cpu"]))
        assert e.value.code == 2 and f"{method} needs its bit widths" in error_line(capsys)
        with pytest.raises(SystemExit):
            flags.resolve(flags.parse_args(["--quant", method, "--wbits", "2", "--device", "cpu"]))
        capsys.readouterr()
    assert flags.resolve(flags.parse_args(["--quant", "dorefa", "--wbits", "32", "--abits",
                                           "32"])).wbits == 32


def test_only_weights_below_32_bits_count_as_quantized():
    args = flags.resolve(flags.parse_args(["--model", "resnet20", "--quant", "dorefa", "--wbits",
                                           "32", "--abits", "4", "--device", "cpu"]))
    model, stem = train.build(args, 10, 32, 3)
    params, quantized, size, fp32 = qlayers.model_size(model)
    config = dict(vars(args), stem=stem, num_classes=10, image_size=32, in_channels=3)
    assert quantized == 0 and size == fp32 == 4 * params
    assert summary.layer_table(model, config)["totals"]["quantized"] == 0
    args.wbits = 2
    model, _ = train.build(args, 10, 32, 3)
    convs = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    # every layer: no --keep
    assert qlayers.model_size(model)[1] == sum(m.weight.numel() for m in convs)


# ------------------------------------------------------------------------ starting from another run

def test_a_run_whose_first_layer_quantized_the_image_is_not_resumed_as_another_model(tmp_path,
                                                                                      capsys):
    dorefa = ["--quant", "dorefa", "--wbits", "2", "--abits", "2"]
    for keep in ([], ["--keep", "conv1"]):
        assert main(*TINY, "--out", tmp_path, *dorefa, *keep) == 0
    for tag in ("dorefa_w2a2", "dorefa_keep-conv1_w2a2"):  # as runs before quant_forward left them
        run = folder(tmp_path, tag)
        config = common.read_json(run / "config.json")
        assert config.pop("quant_forward") == 2
        common.write_json(run / "config.json", config)
        results = common.read_json(run / "results.json")
        common.write_json(run / "results.json", dict(results, status="running"))
    capsys.readouterr()
    assert main(*TINY, "--out", tmp_path, *dorefa) == 2
    assert "first layer quantized the image" in error_line(capsys)
    assert main(*TINY, "--out", tmp_path, *dorefa, "--keep", "conv1") == 0  # the same model


def test_a_resumed_student_refuses_a_teacher_trained_anew_at_the_same_path(tmp_path, capsys):
    assert main(*TINY, "--out", tmp_path) == 0
    assert main(*TINY, "--out", tmp_path, "--seed", "1") == 0  # other weights, the same epoch
    teacher = folder(tmp_path, "fp32") / "final.pt"
    assert main(*TINY, "--out", tmp_path, "--quant", "bitnet", "--kd", teacher) == 0
    student = folder(tmp_path, "bitnet_kd")
    digest = common.read_json(student / "config.json")["kd_digest"]
    results = common.read_json(student / "results.json")
    common.write_json(student / "results.json", dict(results, status="running"))  # as if killed
    shutil.copy(folder(tmp_path, "fp32", seed=1) / "final.pt", teacher)
    capsys.readouterr()
    assert main(*TINY, "--out", tmp_path, "--quant", "bitnet", "--kd", teacher) == 2
    assert f"kd_digest: {digest} -> " in error_line(capsys)


def test_teachers_and_fine_tunes_take_final_weights_never_the_test_selected_best(tmp_path, capsys):
    assert main(*TINY, "--out", tmp_path) == 0
    fp32 = folder(tmp_path, "fp32")
    final = common.load_checkpoint(fp32 / "final.pt")
    assert final["kind"] == "final" and final["epoch"] == 2
    assert all(torch.equal(final["model"][k], common.load_checkpoint(fp32 / "last.pt")["model"][k])
               for k in final["model"])
    for flag in ("--kd", "--init-from"):
        capsys.readouterr()
        assert main(*TINY, "--out", tmp_path, "--quant", "ttq", flag, fp32 / "best.pt") == 2
        assert "not a run's final weights" in error_line(capsys)
    assert main(*TINY, "--out", tmp_path, "--quant", "bitnet", "--kd", fp32 / "final.pt") == 0
    assert main(*TINY, "--out", tmp_path, "--quant", "ttq", "--init-from", fp32 / "final.pt") == 0
    kd, tuned = (common.read_json(folder(tmp_path, t) / "config.json")
                 for t in ("bitnet_kd", "ttq"))
    assert (kd["kd"] == str(fp32 / "final.pt")
            and kd["kd_epoch"] == 2
            and kd["init_from_epoch"] is None)
    assert tuned["init_from"] == str(fp32 / "final.pt") and tuned["init_from_epoch"] == 2
    # another model, or a quantized one, is one line naming both
    capsys.readouterr()
    assert main(*TINY, "--out", tmp_path, "--model", "resnet32", "--init-from",
                fp32 / "final.pt") == 2
    line = error_line(capsys)
    assert "resnet20" in line and "resnet32" in line
    assert main(*TINY, "--out", tmp_path, "--init-from", folder(tmp_path, "ttq") / "final.pt",
                "--tag", "x") == 2
    assert "is a ttq model" in error_line(capsys)
    assert not folder(tmp_path, "x").exists() and not (tmp_path / "synthetic" / "resnet32").exists()


# ----------------------------------------------------------------------------- evaluation and data

METHOD_FLAGS = {"fp32": [], "bitnet": [], "ttq": [], "twn": [], "bc": [],
                "bc-stochastic": ["--stochastic"],
                "sr": [], "xnor": ["--wbits", "1", "--abits", "1"],
                "dorefa": ["--wbits", "2", "--abits", "2"], "qnn": ["--wbits", "1", "--abits", "1"]}


@pytest.mark.parametrize("name", METHOD_FLAGS)
def test_evaluating_twice_gives_the_same_numbers_and_changes_no_parameter_or_buffer(name):
    argv = [*TINY, "--quant", name.split("-")[0], *METHOD_FLAGS[name]]
    args = flags.resolve(flags.parse_args(argv))
    data = batches.prepare_data(args)
    model, _ = train.build(args, 10, 16, 3)
    # two steps, so that running statistics and scales have moved
    state = dict(step=0, last_loss=None)
    train.train_epoch(train_run(args, model, data, 2), 0, state)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    first, second = train.evaluate(args, model, data), train.evaluate(args, model, data)
    assert first == second
    after = model.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)


def test_normalization_statistics_come_from_the_whole_training_set(monkeypatch):
    # a class-major listing: 10,000 black images of the first classes, then 40,000 of grey 200
    x = torch.cat([torch.zeros(10_000, 3, 2, 2),
                   torch.full((40_000, 3, 2, 2), 200.0)]).to(torch.uint8)
    stand_in = dict(train_x=x, train_y=torch.zeros(50_000, dtype=torch.long), test_x=x[:4],
                    test_y=torch.zeros(4, dtype=torch.long), num_classes=2, classes=["a", "b"])
    monkeypatch.setitem(datasets.DATASETS, "class-major", lambda data_dir, seed: dict(stand_in))
    data = datasets.load_dataset("class-major", None)
    assert data["mean"] == pytest.approx([160.0] * 3, abs=0.1)  # 4/5 of the images are 200
    assert data["std"] == pytest.approx([80.0] * 3, abs=0.1)


def test_the_run_records_its_normalization(tmp_path):
    assert main(*TINY, "--out", tmp_path) == 0
    config = common.read_json(folder(tmp_path, "fp32") / "config.json")
    data = datasets.load_dataset("synthetic", None, 0)
    # the tensor training used
    as_trained = lambda values: torch.tensor(values, dtype=torch.float32).tolist()
    assert (config["norm_mean"] == as_trained(data["mean"])
            and config["norm_std"] == as_trained(data["std"]))


def test_mnist_files_one_level_up_are_named_where_they_were_found(tmp_path, capsys):
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "train-images-idx3-ubyte.gz").write_bytes(b"")
    with pytest.raises(SystemExit):
        datasets.load_dataset("mnist", tmp_path / "data")
    line = error_line(capsys)
    assert str(tmp_path / "data" / "raw") in line and "D/MNIST/raw" in line
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["raw"]  # nothing created


# ----------------------------------------------------------------------------- impossible input

@pytest.mark.parametrize("argv,words", [
    (["--lr", "0"], "--lr must be positive"),
    (["--lr", "-0.1"], "--lr must be positive"),
    (["--weight-decay", "-0.0001"], "--weight-decay must be at least 0"),
    (["--batch-size", "0"], "--batch-size must be at least 1"),
    (["--epochs", "3", "--warmup-epochs", "3"], "--warmup-epochs 3 leaves no epoch"),
    (["--momentum", "1.5"], "--momentum must be in [0, 1)"),
    (["--kd-alpha", "2"], "--kd-alpha must be in [0, 1]"),
    (["--label-smoothing", "1"], "--label-smoothing must be in [0, 1)"),
    (["--schedule", "step", "--milestones", "0,10"], "--milestones are epochs"),
    # flags of the other schedule were ignored
    (["--milestones", "80,120", "--gamma", "0.2"],
     "--milestones and --gamma apply to --schedule step; this run's is cosine"),
    (["--schedule", "step", "--min-lr", "0"], "--min-lr applies to --schedule cosine; this run's"),
    # and a method's flags on another method, a KD flag without --kd
    (["--ttq-threshold", "0.1"], "--ttq-threshold applies to --quant ttq; this run's is fp32"),
    (["--no-sub-ln"], "--no-sub-ln applies to --quant bitnet; this run's is fp32"),
    (["--kd-alpha", "0.5"], "--kd-alpha applies to knowledge distillation: give --kd TEACHER"),
    (["--optimizer", "adam", "--momentum", "0.5"], "--momentum applies to --optimizer sgd"),
    (["--optimizer", "adam", "--nesterov"], "--nesterov applies to --optimizer sgd"),
    (["--quant", "xnor", "--wbits", "1", "--abits", "1", "--no-bn"], "XNOR-Net's own batch norm"),
    # flags of quantized layers on a full-precision run, an STE with no quantizer to act in
    (["--keep", "fc"], "every layer of --quant fp32 is full precision already"),
    (["--fp32-conv1"], "every layer of --quant fp32 is full precision already"),
    (["--clip-factor", "2"], "every layer of --quant fp32 is full precision already"),
    (["--quant", "twn", "--wbits", "32", "--ste", "tanh"],
     "twn --wbits 32 keeps its weights in full precision"),
    (["--fake-data", "--fake-size", "513", "--batch-size", "2"],
     "--fake-size must be from 8 to 512"),
    # recorded in config.json and ignored: a 16 px run said it had 32 px images
    (["--fake-size", "32"], "without --fake-data it would be ignored"),
    # the default milestones of a 300-epoch run: a 3-epoch step schedule kept its first lr
    (["--schedule", "step"], "not within --epochs 2: the lr would never drop; give --milestones"),
])
def test_an_impossible_number_is_one_line_and_exit_2(tmp_path, capsys, argv, words):
    assert main(*TINY, "--out", tmp_path, *argv) == 2
    assert words in error_line(capsys)
    assert not tmp_path.joinpath("synthetic").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is visible")
def test_a_cuda_device_without_a_gpu_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(*TINY, "--out", tmp_path, "--device", "cuda") == 2
    assert "no CUDA GPU is visible" in error_line(capsys)


def test_help_shows_every_default_and_says_what_a_no_switch_turns_off():
    text = run_script("train.py", "--help").stdout
    entries = [e for e in ("\n" + text.split("options:")[1]).split("\n  -") if e.strip()]
    for entry in entries:
        flag = entry.split()[0]
        if flag in ("h,", "-no-bn", "-no-sub-ln"):
            continue
        assert "default" in " ".join(entry.split()), flag
    for flag in ("-no-bn", "-no-sub-ln"):
        entry = " ".join(next(e for e in entries if e.startswith(flag)).split())
        assert "(default: True)" not in entry and "by default" in entry


def test_a_teacher_of_cifar10_as_image_files_is_refused_to_a_run_on_the_pickled_release(
        tmp_path, capsys):
    from test_data import write_cifar, write_cifar10_images
    write_cifar(tmp_path / "pickles", "cifar10")
    write_cifar10_images(tmp_path / "images")
    flags = [*TINY[:2], "--dataset", "cifar10", *TINY[4:], "--batch-size", "8", "--out", tmp_path]
    assert main(*flags, "--data-dir", tmp_path / "images") == 0
    teacher = tmp_path / "cifar10" / "resnet20" / "fp32_bs8_s0" / "final.pt"
    assert common.load_checkpoint(teacher)["config"]["data_format"] == "images"
    bitnet = ["--quant", "bitnet", "--kd", teacher]
    assert main(*flags, *bitnet, "--data-dir", tmp_path / "pickles") == 2
    assert error_line(capsys).endswith("trained on other inputs: data_format images (here "
                                       "pickles)")
    assert main(*flags, *bitnet, "--data-dir", tmp_path / "images") == 0  # its own data


def test_a_completed_run_rerun_removes_the_lock_a_kill_left_but_not_one_held(tmp_path):
    import fcntl
    assert main(*TINY, "--out", tmp_path) == 0
    lock = folder(tmp_path, "fp32") / "lock"
    lock.write_text("12345")  # killed after writing 'completed', before releasing its lock
    assert main(*TINY, "--out", tmp_path) == 0 and not lock.exists()
    with open(lock, "w") as held:  # a process holding it removes it itself
        fcntl.flock(held, fcntl.LOCK_EX)
        assert main(*TINY, "--out", tmp_path) == 0 and lock.exists()


def test_a_streamed_run_resumes_only_with_the_loader_workers_that_drew_its_crops(tmp_path,
                                                                                  capsys):
    from test_data import write_image
    for split, n in (("train", 4), ("val", 1)):
        for label, wnid in enumerate(["n01", "n02"]):
            for i in range(n):
                write_image(tmp_path / "imagenet" / split / wnid / f"{i}.JPEG", label)
    flags = ["--model", "resnet18", "--dataset", "imagenet", "--data-dir", tmp_path / "imagenet",
             *TINY[4:], "--batch-size", "4", "--out", tmp_path / "raw"]
    assert main(*flags, "--workers", "0") == 0
    run = tmp_path / "raw" / "imagenet" / "resnet18" / "fp32_bs4_s0"
    results = common.read_json(run / "results.json")
    common.write_json(run / "results.json", dict(results, status="running"))  # as if killed
    capsys.readouterr()
    assert main(*flags, "--workers", "1") == 2
    assert error_line(capsys).endswith("drew its crops and flips in --workers 0; resume it with "
                                       "that count (another would draw other crops)")
    assert main(*flags, "--workers", "0") == 0


def test_a_run_completed_before_final_pt_gets_it_from_last_pt_on_rerun(tmp_path, capsys):
    assert main(*TINY, "--out", tmp_path) == 0
    fp32 = folder(tmp_path, "fp32")
    expected = common.load_checkpoint(fp32 / "final.pt")
    (fp32 / "final.pt").unlink()  # as a run of before final.pt left it
    assert main(*TINY, "--out",
                tmp_path) == 0 and "from last.pt (epoch 2)" in capsys.readouterr().out
    final = common.load_checkpoint(fp32 / "final.pt")
    assert (final["kind"], final["epoch"], final["top1"]) == ("final", 2, expected["top1"])
    assert all(torch.equal(final["model"][k], expected["model"][k]) for k in expected["model"])


def test_a_teacher_of_other_inputs_is_refused(tmp_path, capsys):
    assert main(*TINY, "--out", tmp_path) == 0
    teacher = folder(tmp_path, "fp32") / "final.pt"
    other = ["--dataset", "cifar10", "--fake-data", "--fake-size", "24"]
    assert main(*TINY, *other, "--out", tmp_path, "--quant", "bitnet", "--kd", teacher) == 2
    assert error_line(capsys).endswith("trained on other inputs: dataset synthetic (here "
                                       "cifar10); fake_data False (here True); image_size 16 "
                                       "(here 24)")
    # the same images scaled otherwise: the teacher would be fed inputs it never saw
    pixel = ["--normalize", "pixel", "--quant", "bitnet"]
    assert main(*TINY, *pixel, "--out", tmp_path, "--kd", teacher) == 2
    assert error_line(capsys).endswith("trained on other inputs: normalize channel (here pixel)")


def test_an_old_short_runs_saved_warm_up_is_compared_as_it_trained(tmp_path):
    assert main(*TINY, "--epochs", "1", "--out", tmp_path) == 0
    path = folder(tmp_path, "fp32") / "config.json"
    # train.py once saved the default 5 for a 1-epoch run and capped it at 0 when training
    common.write_json(path, dict(common.read_json(path), warmup_epochs=5))
    assert main(*TINY, "--epochs", "1", "--out", tmp_path) == 0


def test_resuming_a_run_from_before_the_whole_set_normalization_is_refused(
        tmp_path, capsys, monkeypatch):
    cmd = [*TINY, "--out", tmp_path]
    interrupt_at_evaluation(monkeypatch, 2, KeyboardInterrupt())
    assert main(*cmd) == 130
    monkeypatch.undo()
    path = folder(tmp_path, "fp32") / "config.json"
    config = common.read_json(path)
    common.write_json(path, {k: v for k, v in config.items() if not k.startswith("norm_")})
    prepare = batches.prepare_data  # a training set larger than the old sample of 10,000
    monkeypatch.setattr(batches, "prepare_data",
                        lambda args: dict(prepare(args), train_y=torch.zeros(20_000)))
    capsys.readouterr()
    assert main(*cmd) == 2 and "first 10,000 training images" in error_line(capsys)


@pytest.mark.parametrize("device", ["cuda:x", "tpu"])
def test_a_device_of_another_name_is_one_line(tmp_path, capsys, device):
    assert main(*TINY, "--out", tmp_path, "--device", device) == 2
    assert "--device takes" in error_line(capsys)


def test_export_normalizes_as_the_run_trained():
    import export
    x = torch.cat([torch.zeros(10_000, 1, 2, 2),
                   torch.full((10_000, 1, 2, 2), 100.0)]).to(torch.uint8)
    data = dict(train_x=x)
    mean, std = export.training_normalization(dict(norm_mean=[7.5], norm_std=[2.5]), data, "cpu")
    assert (mean.tolist(), std.tolist()) == ([7.5], [2.5])
    # a run from before config.json recorded them took the first 10,000 images: all black here
    mean, std = export.training_normalization({}, data, "cpu")
    assert (mean.tolist(), std.tolist()) == ([0.0], [1.0])


def test_a_flag_is_spelled_out_never_abbreviated(tmp_path, capsys):
    # argparse's default takes --batch for --batch-size, which the phase scripts' checks of
    # EXTRA_FLAGS (teachers' folders, the results root) would not see
    assert main(*TINY, "--out", tmp_path, "--batch", "4") == 2
    assert "unrecognized arguments: --batch 4" in capsys.readouterr().err
    assert not tmp_path.joinpath("synthetic").exists()
