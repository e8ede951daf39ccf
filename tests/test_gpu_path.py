"""The GPU path's failures as a CPU can show them: a compile error's advice (--no-compile) resumes
the same folder, a recompile-limit error is one line naming the function and the guard, a run a
launcher gave a GPU refuses to fall back to the CPU, and gpu_check.sh without a GPU is one line."""
import os
import subprocess
import sys

import pytest
import torch
import torch._dynamo

import batches
import common
import devices
import flags
import train
from conftest import ROOT, train_run

TINY = ["--model", "resnet20", "--dataset", "synthetic", "--device", "cpu", "--quiet", "--epochs",
        "2", "--steps-per-epoch", "2"]


def main(*argv):
    """train.main in this process; its exit code, a user error's SystemExit caught."""
    try:
        return train.main([str(a) for a in argv])
    except SystemExit as e:
        return e.code


def uncompilable(module):
    """devices.compile_model's stand-in: its forward fails as a graph break does (fullgraph)."""
    def forward(x):
        raise torch._dynamo.exc.Unsupported("a graph break in forward")
    return forward


def test_the_advice_after_a_compile_error_resumes_the_same_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(devices, "compile_model", uncompilable)
    assert main(*TINY, "--compile", "--out", tmp_path) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Unsupported" in err[0] and "--no-compile" in err[0]
    run_dir = tmp_path / "synthetic" / "resnet20" / "fp32_s0"
    assert common.read_json(run_dir / "results.json")["status"] == "failed"
    # was: "other settings (compile: True -> False)"
    assert main(*TINY, "--no-compile", "--out", tmp_path) == 0
    config = common.read_json(run_dir / "config.json")
    # no epoch had run compiled: the run starts afresh, eager, and says so
    assert config["compile"] is False
    assert common.read_json(run_dir / "results.json")["status"] == "completed"


def test_a_compile_that_stops_mid_run_resumes_eagerly_and_is_recorded(
        tmp_path, capsys, monkeypatch):
    calls = [0]

    def fails_in_epoch_two(module):
        def forward(x):
            calls[0] += 1
            if calls[0] > 2:  # two steps an epoch: the first epoch completes
                raise torch._dynamo.exc.Unsupported("a recompilation went wrong")
            return module(x)
        return forward
    monkeypatch.setattr(devices, "compile_model", fails_in_epoch_two)
    assert main(*TINY, "--compile", "--out", tmp_path) == 2
    capsys.readouterr()
    assert main(*TINY, "--no-compile", "--out", tmp_path) == 0
    config = common.read_json(tmp_path / "synthetic" / "resnet20" / "fp32_s0" / "config.json")
    assert config["compile"] is True and config["resumed"][0]["compile"] is False
    assert config["resumed"][0]["at_epoch"] == 2


def test_the_recompile_limit_is_one_line_naming_the_function_and_the_guard(monkeypatch):
    monkeypatch.setattr(devices, "COMPILE_BACKEND", "aot_eager")

    class Scaled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.k = 0

        def forward(self, x):
            return x * self.k
    module = Scaled()
    compiled = devices.compile_model(module)
    torch._dynamo.reset()
    with pytest.raises(Exception) as caught, torch._dynamo.config.patch(recompile_limit=2):
        for k in range(5):  # an int attribute is a guard: each new value recompiles
            module.k = k
            compiled(torch.ones(3))
    line = devices.describe_compile_error(caught.value)
    assert line.startswith("recompiled past its limit: forward (") and "self.k ==" in line
    assert devices.describe_compile_error(ValueError("not a compile error")) is None
    torch._dynamo.reset()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine where torch sees no GPU")
def test_a_run_assigned_a_gpu_that_torch_cannot_see_refuses_the_cpu(monkeypatch, capsys):
    argv = ["--model", "resnet20", "--dataset", "synthetic", "--quiet"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    with pytest.raises(SystemExit) as caught:
        flags.resolve(flags.parse_args(argv))
    err = capsys.readouterr().err.strip().splitlines()
    assert caught.value.code == 2 and len(err) == 1 and "CUDA_VISIBLE_DEVICES=3" in err[0]
    # asked for: allowed
    assert flags.resolve(flags.parse_args([*argv, "--device", "cpu"])).device == "cpu"
    for hidden in ("", "-1"):  # GPUs hidden on purpose: the CPU is what was asked for
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", hidden)
        assert flags.resolve(flags.parse_args(argv)).device == "cpu"


def test_a_step_reads_the_previous_steps_loss_once_this_one_is_queued(monkeypatch):
    # the host sync before backward() left the GPU idle every step; the divergence check reads a
    # step late
    args = flags.resolve(flags.parse_args([*TINY, "--fake-data"]))
    data = batches.prepare_data(args)
    model, _ = train.build(args, 10, 16, 3)
    optimizer = train.make_optimizer(args, model)
    events, step, mean = [], optimizer.step, devices.mean_over_processes
    monkeypatch.setattr(optimizer, "step", lambda *a,
                        **k: (events.append("update"), step(*a, **k))[1])
    monkeypatch.setattr(devices, "mean_over_processes", lambda t,
                        w: (events.append("read"), mean(t, w))[1])
    state = dict(step=0, last_loss=None)
    train.train_epoch(train_run(args, model, data, 2, optimizer=optimizer), 0, state)
    assert events == ["update", "update", "read", "read"]
    assert isinstance(state["last_loss"], float) and state["step"] == 2


AMP_FLAGS = {"fp32": [], "bitnet": [], "ttq": [], "twn": [], "bc": [], "sr": [],
             "xnor": ["--wbits", "1", "--abits", "1"], "dorefa": ["--wbits", "2", "--abits", "2"],
             "qnn": ["--wbits", "2", "--abits", "2"]}


@pytest.mark.parametrize("name", AMP_FLAGS)
def test_every_layer_computes_in_bf16_under_autocast(name):
    # an fp32 per-sample scale on a bf16 conv output made batch norm, ReLU and the backward run in
    # fp32
    args = flags.resolve(flags.parse_args([*TINY, "--quant", name, *AMP_FLAGS[name], "--amp"]))
    model, _ = train.build(args, 10, 16, 3)
    dtypes = {}
    for layer_name, m in model.named_modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            m.register_forward_hook(lambda m, i, out,
                                    n=layer_name: dtypes.__setitem__(n, out.dtype))
    with torch.autocast("cpu", torch.bfloat16):
        model(torch.randn(4, 3, 16, 16)).float().sum().backward()
    assert set(dtypes.values()) == {torch.bfloat16}, {
        n: d for n, d in dtypes.items() if d != torch.bfloat16}


def gpu_check(tmp_path, **env):
    return subprocess.run(["bash", str(ROOT / "gpu_check.sh")], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "GPU_CHECK_OUT": str(tmp_path / "gpu"),
                                            "PYTHON": sys.executable, **env})


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine where torch sees no GPU")
def test_the_gpu_check_on_a_machine_without_one_is_one_line_and_writes_nothing(tmp_path):
    r = gpu_check(tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        f"error: torch {torch.__version__} sees no CUDA device: this check needs an NVIDIA GPU"]
    assert not (tmp_path / "gpu").exists()
    r = gpu_check(tmp_path, GPU_CHECK_SECONDS="8m")  # ran no section and passed, before
    assert r.returncode == 2 and "whole seconds" in r.stderr


def test_the_gpu_check_cuts_a_section_at_its_limit_and_fails(tmp_path):
    fake = tmp_path / "python"  # a GPU machine's python whose tests outlast the limit
    fake.write_text('#!/bin/sh\ncase "$*" in\n  *get_device_name*) echo Fake-GPU ;;\n'
                    '  *xdist*) exit 1 ;;\n  "-m pytest"*) exec sleep 60 ;;\nesac\n')
    fake.chmod(0o755)
    r = gpu_check(tmp_path, PYTHON=str(fake), GPU_CHECK_SECONDS="12")
    assert r.returncode == 1 and r.stderr.strip().endswith("failed: tests bench-eager-32px "
                                                         "bench-eager-64px study-eager "
                                                         "bench-compiled-32px study-compiled")
    timing = (tmp_path / "gpu" / "timing.txt").read_text().splitlines()
    assert timing[0].startswith("tests: ") and "CUT at the 12 s limit" in timing[0]
    assert len(timing) == 6 and all("CUT" in line for line in timing)
    r = gpu_check(tmp_path, PYTHON=str(fake))  # an earlier record is never mixed into a new one
    assert r.returncode == 2 and "earlier record" in r.stderr
