"""The GPU path where CUDA is present (part of `bash gpu_check.sh`): per method, compiled steps
against eager ones, one graph with none compiled anew after warm-up, a steady-state step that never
waits for the device, compiled memory not above eager's; two processes under torchrun with NCCL."""
import socket

import pytest
import torch

import batches
import common
import datasets
import devices
import dynamics
import flags
import models
import qlayers
import train
from conftest import run_script

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

METHODS = [("fp32", {}), ("bitnet", {}), ("ttq", {}), ("twn", {}), ("bc", {}),
           ("bc", dict(stochastic=True)), ("sr", {}), ("xnor", dict(wbits=1, abits=1)),
           ("dorefa", dict(wbits=2, abits=2)), ("qnn", dict(wbits=2, abits=2)),
           ("twn", dict(ste="reste")), ("xnor", dict(wbits=1, abits=1, ste="ede"))]
IDS = ["-".join([m] + [f"{k}{v}" for k, v in o.items()]) for m, o in METHODS]


def setup(method, opts, model_name="lenet5", batch=64):
    """train.py's pieces on CUDA: model (channels_last), fused SGD, data on the device, the epoch's
    draws."""
    torch.manual_seed(0)
    bits = [w for k in ("wbits", "abits") if k in opts for w in (f"--{k}", str(opts[k]))]
    args = flags.resolve(flags.parse_args(["--model", model_name, "--quant", method, "--device",
                                           "cuda",
                                           "--batch-size", str(batch), "--mixup", "0.2", *bits]))
    size, channels = (28, 1) if model_name == "lenet5" else (32, 3)
    data = datasets.load_synthetic(seed=0, size=size, channels=channels, n_train=batch * 8,
                                   n_test=batch)
    data["mean"], data["std"] = torch.full((channels,), 128.0), torch.full((channels,), 40.0)
    args.dataset = "synthetic"
    # as batches.prepare_data
    data = {k: v.cuda() if torch.is_tensor(v) else v for k, v in data.items()}
    model = models.build_model(model_name, 10, size, channels)
    qlayers.quantize_model(model, method, **opts)
    model.cuda().to(memory_format=torch.channels_last)
    return args, data, model, train.make_optimizer(args, model)


def steps(args, data, model, forward, optimizer, n, progress=0.5, strict=False, record=None):
    """n training steps as train_epoch takes them (bf16 autocast; record: the dynamics' update);
    returns the losses as device tensors. strict: the steps (after the epoch's draws, sent at its
    start) run with any host sync raising an error."""
    qlayers.set_progress(model, progress)
    g = torch.Generator().manual_seed(1)
    draws = batches.epoch_draws(args, data, g, n)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error" if strict else "default")
    losses = []
    for x, y, partner in batches.train_batches(args, data, draws, n):
        x = batches.to_input(args, x, data)
        x, y_mixed = 0.6 * x + 0.4 * x[partner], y[partner]
        with torch.autocast("cuda", torch.bfloat16):
            loss = train.loss_fn(args, forward(x).float(), y, y_mixed, 0.6, None)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        qlayers.after_step(model)
        if record:
            record.after_step()
        losses.append(loss.detach())
    torch.cuda.set_sync_debug_mode("default")
    return losses


@pytest.mark.parametrize("method,opts", METHODS, ids=IDS)
def test_compiled_steps_follow_eager_ones_in_one_graph_without_waiting(method, opts):
    from torch._dynamo.utils import counters
    torch._dynamo.reset()
    counters.clear()
    args, data, model, optimizer = setup(method, opts)
    twin_args, _, twin, twin_optimizer = setup(method, opts)
    compiled = devices.compile_model(twin)
    eager_losses = torch.stack(steps(args, data, model, model, optimizer, 3)).tolist()
    compiled_losses = torch.stack(steps(twin_args, data, twin, compiled, twin_optimizer,
                                        3)).tolist()
    # the stochastic ones draw other numbers compiled
    if method not in ("sr",) and not opts.get("stochastic"):
        assert compiled_losses == pytest.approx(eager_losses, rel=0.05, abs=0.05)
    # after warm-up, a new progress: no graph compiled anew, no graph break
    warm = counters["stats"]["unique_graphs"]
    steps(twin_args, data, twin, compiled, twin_optimizer, 1, progress=0.9)
    assert counters["stats"]["unique_graphs"] == warm and not counters["graph_break"]
    try:  # train.py's one sync a step, the loss it checks before the update, is left out here
        steps(twin_args, data, twin, compiled, twin_optimizer, 2, strict=True)
    finally:
        torch.cuda.set_sync_debug_mode("default")


def peak_bytes(method, opts, compile_it):
    torch._dynamo.reset()
    args, data, model, optimizer = setup(method, opts, "resnet20", batch=128)
    forward = devices.compile_model(model) if compile_it else model
    steps(args, data, model, forward, optimizer, 2)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    steps(args, data, model, forward, optimizer, 2)
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated()


@pytest.mark.parametrize("method,opts", [("bitnet", {}), ("dorefa", dict(wbits=2, abits=2)),
                                         ("xnor", dict(wbits=1, abits=1))],
                         ids=["bitnet", "dorefa", "xnor"])
def test_compiled_peak_memory_is_not_above_eagers(method, opts):
    # the one-byte codes ConvFromCodes keeps for its backward must survive AOTAutograd's choice of
    # saved tensors
    eager, compiled = peak_bytes(method, opts, False), peak_bytes(method, opts, True)
    assert compiled <= 1.02 * eager, (compiled / 2**20, eager / 2**20)


# ternary, k-bit, and an STE arm with ReSTE's indicators: each compile costs the GPU check time
@pytest.mark.parametrize("method,opts", [("bitnet", {}), ("qnn", dict(wbits=2, abits=2)),
                                         ("twn", dict(ste="reste"))])
def test_the_dynamics_record_never_waits_for_the_device(method, opts):
    # eager and compiled (as --compile has it), the same counts; a step with it syncs nothing
    wide = []
    for compiled in (False, True):
        args, data, model, optimizer = setup(method, opts)
        record = dynamics.Dynamics(model, ste="ste" in opts, compile=compiled)
        steps(args, data, model, model, optimizer, 1, record=record)  # compiles
        try:
            steps(args, data, model, model, optimizer, 2, strict=True, record=record)
        finally:
            torch.cuda.set_sync_debug_mode("default")
        wide.append(record.read()[0])
    eager, compiled = map(flat, wide)
    assert compiled.keys() == eager.keys()
    assert compiled == pytest.approx(eager, rel=1e-4)  # the gradients' sums in another order


def flat(record):
    """A dynamics record's numbers, its nested ones (levels, scales) named key/level."""
    return {f"{key}/{inner}" if isinstance(value, dict) else key: number
            for key, value in record.items()
            for inner, number in (value.items() if isinstance(value, dict) else [(None, value)])}


def test_evaluation_reads_the_device_once():
    args, data, model, _ = setup("bitnet", {})
    train.evaluate(args, model, data, batch_size=16)  # warm-up
    torch.cuda.set_sync_debug_mode("warn")
    with pytest.warns(UserWarning) as record:
        train.evaluate(args, model, data, batch_size=16)
    torch.cuda.set_sync_debug_mode("default")
    assert len([w for w in record if "synchroniz" in str(w.message)]) == 1


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="torchrun with NCCL needs two GPUs")
def test_two_nccl_processes_train_and_evaluate(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = run_script("-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr",
                   "127.0.0.1",
                   "--master_port", port, "train.py", "--model", "resnet20", "--quant", "bitnet",
                   "--dataset",
                   "synthetic", "--epochs", "2", "--steps-per-epoch", "3", "--out", tmp_path,
                   "--quiet")
    assert r.returncode == 0, r.stderr[-2000:]
    results = common.read_json(tmp_path / "synthetic/resnet20/bitnet_s0/results.json")
    assert (results["status"] == "completed"
            and results["compiled"] is True
            and results["graph_breaks"] == 0)
