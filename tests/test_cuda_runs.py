"""train.py end to end on a GPU where CUDA is present (part of `bash gpu_check.sh`): a killed run
resumes to an uninterrupted run's history, the KD path, the fallback from a compile error to
--no-compile on the same folder, and every layer's output in bf16 under --amp."""
import pytest
import torch

import common
import devices
import flags
import train
from conftest import run_script
from test_gpu_path import AMP_FLAGS, main, uncompilable
from test_train import kill_after_first_epoch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

# epochs long enough on a GPU for the kill to land before the last one ends
GPU_RUN = ["--model", "resnet20", "--dataset", "synthetic", "--device", "cuda", "--quiet",
           "--epochs", "4", "--steps-per-epoch", "16", "--lr", "0.05", "--warmup-epochs", "1"]


def history(folder):
    """The run's history without its timings."""
    return [{k: v for k, v in e.items() if k not in ("seconds", "images_per_second")}
            for e in common.read_json(folder / "results.json")["history"]]


def agree(a, b):
    """Two histories of one recipe on one GPU: cudnn.benchmark picks each process's kernels anew and
    some reduce in another order, so a resumed run may differ in float rounding, not further."""
    assert [e["epoch"] for e in a] == [e["epoch"] for e in b]
    for x, y in zip(a, b):
        assert x["lr"] == y["lr"]
        assert x["train_loss"] == pytest.approx(y["train_loss"], rel=1e-2, abs=1e-3)
        assert x["test_loss"] == pytest.approx(y["test_loss"], rel=1e-2, abs=1e-3)
        assert abs(x["test_top1"] - y["test_top1"]) <= 1.0  # 512 test images: 5 of them


# BitNet compiled (a GPU run's default); TTQ and SR eager, which spares the check two compiles
@pytest.mark.parametrize("method,extra", [("bitnet", []), ("ttq", ["--no-compile"]),
                                          ("sr", ["--no-compile"])], ids=["bitnet", "ttq", "sr"])
def test_a_killed_gpu_run_resumes_to_the_uninterrupted_runs_history(tmp_path, method, extra):
    cmd = [*GPU_RUN, "--quant", method, *extra]
    r = run_script("train.py", *cmd, "--out", tmp_path / "whole")
    assert r.returncode == 0, r.stderr[-2000:]
    tag = f"{method}_s0"
    folder = tmp_path / "killed/synthetic/resnet20" / tag
    kill_after_first_epoch([*map(str, cmd), "--out", str(tmp_path / "killed")], folder)
    assert common.read_json(folder / "results.json")["status"] == "running"
    r = run_script("train.py", *cmd, "--out", tmp_path / "killed")
    assert r.returncode == 0 and "resuming at epoch" in r.stdout, r.stdout + r.stderr[-2000:]
    whole = common.read_json(tmp_path / "whole/synthetic/resnet20" / tag / "results.json")
    assert whole["compiled"] is ("--no-compile" not in extra)
    # compiled: the model and the dynamics' update, one graph each
    assert not whole["compiled"] or (whole["compiled_graphs"] == 2 and whole["graph_breaks"] == 0)
    agree(history(tmp_path / "whole/synthetic/resnet20" / tag), history(folder))


def test_a_student_trains_on_the_gpu_with_a_compiled_teacher(tmp_path):
    out = ["--out", tmp_path]
    assert run_script("train.py", *GPU_RUN, "--quant", "fp32", "--epochs", "1",
                      "--warmup-epochs", "0", *out).returncode == 0
    teacher = tmp_path / "synthetic/resnet20/fp32_s0/final.pt"
    r = run_script("train.py", *GPU_RUN, "--quant", "bitnet", "--kd", teacher, *out)
    assert r.returncode == 0, r.stderr[-2000:]
    results = common.read_json(tmp_path / "synthetic/resnet20/bitnet_kd_s0/results.json")
    assert results["status"] == "completed" and results["compiled"] is True
    # the student, the teacher and the dynamics' update, one graph each
    assert results["compiled_graphs"] == 3 and results["graph_breaks"] == 0


def test_after_a_compile_error_on_the_gpu_the_eager_rerun_completes_the_folder(tmp_path,
                                                                               monkeypatch):
    argv = [*map(str, GPU_RUN), "--quant", "bitnet", "--compile", "--out", str(tmp_path)]
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", torch.backends.cudnn.benchmark)
    with monkeypatch.context() as m:
        m.setattr(devices, "compile_model", uncompilable)
        assert main(*argv) == 2
    folder = tmp_path / "synthetic/resnet20/bitnet_s0"
    assert common.read_json(folder / "results.json")["status"] == "failed"
    assert main(*argv, "--no-compile") == 0
    assert common.read_json(folder / "config.json")["compile"] is False
    assert common.read_json(folder / "results.json")["status"] == "completed"


@pytest.mark.parametrize("name", AMP_FLAGS)
def test_every_layer_computes_in_bf16_under_cuda_autocast(name):
    args = flags.resolve(flags.parse_args([*GPU_RUN, "--quant", name, *AMP_FLAGS[name]]))
    assert args.amp  # the default on CUDA
    model, _ = train.build(args, 10, 16, 3)
    model.cuda()
    if args.channels_last:  # the default on CUDA
        model.to(memory_format=torch.channels_last)
    dtypes = {}
    for layer_name, m in model.named_modules():  # a quantizer's own arithmetic is in fp32
        if (isinstance(m, (torch.nn.Conv2d, torch.nn.Linear, torch.nn.BatchNorm2d))
                and "quantizer" not in layer_name):
            m.register_forward_hook(lambda m, i, out,
                                    n=layer_name: dtypes.__setitem__(n, out.dtype))
    with train.autocast(args):
        model(torch.randn(4, 3, 16, 16, device="cuda")).float().sum().backward()
    assert set(dtypes.values()) == {torch.bfloat16}, {
        n: d for n, d in dtypes.items() if d != torch.bfloat16}
