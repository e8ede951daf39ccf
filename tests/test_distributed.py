"""torchrun with two CPU processes (gloo) trains the same steps as one process."""
import socket

import common
import devices
from conftest import ROOT, run_script


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_processes_match_the_single_process_losses(tmp_path):
    # without batch norm the sharded batch gives the very same mean gradient, so losses agree to
    # rounding
    flags = ["--model", "resnet20", "--dataset", "synthetic", "--epochs", "2", "--steps-per-epoch",
             "3", "--no-bn",
             "--lr", "0.02", "--mixup", "0", "--device", "cpu", "--quiet", "--threads", "1"]
    single = run_script("train.py", *flags, "--out", tmp_path / "single")
    assert single.returncode == 0, single.stderr
    ddp = run_script("-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr",
                     "127.0.0.1",
                     "--master_port", free_port(), "train.py", *flags, "--out", tmp_path / "ddp")
    assert ddp.returncode == 0, ddp.stderr
    # only rank 0 reports and writes
    assert ddp.stdout.count("run: ") == 1 and "x 2 processes" in ddp.stdout
    a = common.read_json(tmp_path / "single/synthetic/resnet20/fp32_nobn_s0/results.json")
    b = common.read_json(tmp_path / "ddp/synthetic/resnet20/fp32_nobn_s0/results.json")
    assert b["status"] == "completed" and common.read_json(
        tmp_path / "ddp/synthetic/resnet20/fp32_nobn_s0/config.json")["world_size"] == 2
    for ha, hb in zip(a["history"], b["history"]):
        assert abs(ha["train_loss"] - hb["train_loss"]) < 1e-4 * abs(ha["train_loss"]), (ha, hb)


def test_the_loss_is_reduced_on_its_own_device(monkeypatch):
    # NCCL takes no CPU tensors: the old reduction of a CPU float64 copy stopped every GPU run at
    # its first step
    import torch
    import torch.distributed as dist
    seen = []
    monkeypatch.setattr(dist, "all_reduce", lambda t, op: seen.append(t.device))
    out = devices.mean_over_processes(torch.ones(3, device="meta"), 2)
    assert seen == [torch.device("meta")] and out.device.type == "meta" and out.shape == (3,)


def test_a_gpu_process_group_has_a_backend_for_cpu_tensors_too(monkeypatch):
    import argparse
    import torch
    import torch.distributed as dist
    calls = []
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(dist, "init_process_group", lambda backend: calls.append(backend))
    monkeypatch.setattr(dist, "get_rank", lambda: 1)
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: calls.append(device))
    args = argparse.Namespace(device="cuda", batch_size=128)
    assert devices.setup_distributed(args) == (1, 2)
    assert calls == ["cuda:1", "cpu:gloo,cuda:nccl"] and args.device == "cuda:1"


SHARED = """
import sys, torch, torch.distributed as dist
sys.path.insert(0, {root!r})
import devices
dist.init_process_group("gloo")
rank = dist.get_rank()
out = open(f"{folder}/rank{{rank}}.txt", "w")  # a file each: two processes' prints interleave
bn = torch.nn.BatchNorm1d(3)
bn.running_mean.fill_(rank + 1.0)
devices.share_buffers(bn, 2)
print("mean", bn.running_mean.tolist(), file=out, flush=True)
try:
    devices.check_same_epoch(rank * 4, 2)  # rank 1 sees a last.pt of another epoch
except SystemExit as e:
    print("exit", e.code, file=out, flush=True)
import divergence
try:  # rank 0's logits blew up, rank 1's did not: their mean, 7505, passed the old check
    divergence.check_step(torch.tensor([1.0, 15000.0 if rank == 0 else 10.0]), 0, 3,
                          dict(last_loss=1.0), 2)
except divergence.Diverged as d:
    print("diverged:", d.args[0]["reason"], file=out, flush=True)
devices.end_distributed(2)
print("ended", dist.is_initialized(), file=out, flush=True)
"""


def test_processes_evaluate_rank_zeros_statistics_resume_at_one_epoch_and_stop_together(
        tmp_path):
    script = tmp_path / "shared.py"
    script.write_text(SHARED.format(root=str(ROOT), folder=str(tmp_path)))
    r = run_script("-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr",
                   "127.0.0.1", "--master_port", free_port(), script)
    assert "different epochs (0 to 4)" in r.stderr, r.stderr
    # rank 0's statistics everywhere; both stop with exit 2, and on one's logits; the group left
    for rank in (0, 1):
        lines = (tmp_path / f"rank{rank}.txt").read_text().splitlines()
        assert lines == ["mean [1.0, 1.0, 1.0]", "exit 2",
                         "diverged: logits of magnitude 1.5e+04, beyond 10000",
                         "ended False"], (rank, lines)
