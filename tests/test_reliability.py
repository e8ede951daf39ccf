"""Failure modes end in a correct result or one clear message: divergence, locks, corrupt
checkpoints, unsafe pickles, unwritable output, and files written atomically."""
import errno
import subprocess
import sys
import time

import pytest
import torch

import common
import qlayers
import run_folder
from conftest import run_script
from test_train import RESNET20, kill_after_first_epoch, run_dir
from test_what_ran import TINY, folder, main


def one_line_error(r):
    line = r.stderr.strip()
    return (r.returncode == 2
            and "Traceback" not in r.stderr
            and line.startswith("error:")
            and len(line.splitlines()) == 1)


def test_divergence_stops_within_a_step_and_is_recorded(tmp_path, fast_flags):
    r = run_script("train.py", *RESNET20, "--lr", "1e12", "--warmup-epochs", "0", *fast_flags)
    assert r.returncode == 1 and "Traceback" not in r.stderr and "diverged" in r.stderr
    results = common.read_json(run_dir(tmp_path, "fp32") / "results.json")
    assert results["status"] == "diverged" and results["diverged_epoch"] == 1
    # the first loss is computed before any update, so it is finite
    assert results["diverged_step"] >= 2
    assert isinstance(results["last_finite_loss"],
                      float) and results["last_finite_loss"] == results["last_finite_loss"]


def test_a_last_update_that_breaks_the_weights_is_a_divergence_not_a_completed_run(
        tmp_path, monkeypatch):
    # the run's last step leaves a NaN weight (a NaN gradient behind a finite loss): no later
    # step's check sees it, and the run was saved as completed, its final.pt of NaN weights
    def poison(model, clip_factor):
        weight = next(model.parameters()).data
        weight[(0,) * weight.dim()] = float("nan")
    monkeypatch.setattr(qlayers, "after_step", poison)
    assert main(*TINY, "--epochs", "1", "--steps-per-epoch", "1", "--warmup-epochs", "0",
                "--out", tmp_path) == 1
    results = common.read_json(folder(tmp_path, "fp32") / "results.json")
    assert results["status"] == "diverged" and results["message"] == (
        "non-finite weights after the epoch's last update at epoch 1, step 1")
    assert results["history"] == [] and not any(
        (folder(tmp_path, "fp32") / name).exists() for name in ("final.pt", "best.pt", "last.pt"))


def hold_lock(path, code):
    """A process that takes run_dir/lock as train.py does, then runs `code`."""
    return subprocess.Popen([sys.executable, "-c", "import fcntl, os, sys, time\n"
                             f"fd = os.open({str(path)!r}, os.O_CREAT | os.O_RDWR)\n"
                             "fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, "
                             "str(os.getpid()).encode())\nprint('locked', flush=True)\n" + code],
                            stdout=subprocess.PIPE, text=True)


def test_a_live_lock_refuses_a_second_process_and_a_dead_owners_lock_is_taken_over(
        tmp_path, fast_flags):
    folder = run_dir(tmp_path, "fp32")
    folder.mkdir(parents=True)
    owner = hold_lock(folder / "lock", "time.sleep(600)")
    try:
        assert owner.stdout.readline() == "locked\n"
        r = run_script("train.py", *RESNET20, "--epochs", "1", "--warmup-epochs", "0", *fast_flags)
        assert one_line_error(r) and f"pid {owner.pid}" in r.stderr
    finally:
        owner.kill()
        owner.wait()
    # an owner killed but not yet reaped keeps its pid (a zombie), yet its lock is gone with it
    zombie = hold_lock(folder / "lock", "os.kill(os.getpid(), 9)")
    assert zombie.stdout.readline() == "locked\n"
    while open(f"/proc/{zombie.pid}/stat").read().split(")")[1].split()[0] != "Z":
        time.sleep(0.01)
    r = run_script("train.py", *RESNET20, "--epochs", "1", "--warmup-epochs", "0", *fast_flags)
    zombie.wait()
    assert r.returncode == 0 and "stale lock" in r.stderr and not (folder / "lock").exists()


def test_a_corrupt_last_checkpoint_falls_back_to_the_previous_one(tmp_path, fast_flags):
    # three short epochs: the kill after two leaves last.pt (epoch 2) and last.pt.prev (epoch 1)
    cmd = [*RESNET20, "--steps-per-epoch", "6", "--quant", "bitnet", *fast_flags]
    assert run_script("train.py", *cmd, "--out", tmp_path / "whole").returncode == 0
    folder = tmp_path / "raw/synthetic/resnet20/bitnet_s0"
    kill_after_first_epoch(cmd, folder, epochs_done=2)
    assert (folder / "last.pt.prev").exists()
    # truncated, as by a crash
    (folder / "last.pt").write_bytes((folder / "last.pt").read_bytes()[:1000])
    r = run_script("train.py", *cmd)
    assert r.returncode == 0 and "corrupt" in r.stderr and "resuming at epoch" in r.stdout
    a = common.load_checkpoint(tmp_path / "whole/synthetic/resnet20/bitnet_s0/last.pt")["model"]
    b = common.load_checkpoint(folder / "last.pt")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_checkpoint_with_arbitrary_pickled_objects_is_refused(tmp_path, fast_flags):
    import argparse
    evil = tmp_path / "evil.pt"
    torch.save({"model": {}, "config": argparse.Namespace(model="resnet20")}, evil)
    r = run_script("train.py", *RESNET20, "--quant", "bitnet", "--kd", evil, *fast_flags)
    assert one_line_error(r) and "evil.pt" in r.stderr
    r = run_script("train.py", *RESNET20, "--quant", "ttq", "--init-from", evil, *fast_flags)
    assert one_line_error(r) and "evil.pt" in r.stderr


def test_an_unwritable_output_directory_is_one_clear_error(tmp_path, fast_flags):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    r = run_script("train.py", *RESNET20, *fast_flags, "--out", blocker / "raw")
    assert one_line_error(r) and "cannot write" in r.stderr


def test_atomic_write_keeps_the_old_file_when_the_disk_fills(tmp_path):
    target = tmp_path / "results.json"
    common.write_json(target, {"status": "running", "epochs_completed": 3})

    def disk_full(f):
        f.write(b'{"status": "comp')
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        common.write_atomic(target, disk_full)
    assert common.read_json(target) == {"status": "running", "epochs_completed": 3}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temporary file left behind


def test_a_run_folder_with_other_settings_is_not_silently_reused(tmp_path, fast_flags):
    assert run_script("train.py", *RESNET20, "--epochs", "1", "--warmup-epochs", "0", *fast_flags,
                      "--tag", "x").returncode == 0
    (run_dir(tmp_path, "x") / "results.json").unlink()  # unfinished, so it would resume
    r = run_script("train.py", *RESNET20, "--epochs", "1", "--warmup-epochs", "0", "--lr", "0.2",
                   *fast_flags, "--tag", "x")
    assert one_line_error(r) and "lr: 0.05 -> 0.2" in r.stderr


def test_a_resumed_run_keeps_its_amp_setting_and_may_change_compile(tmp_path, capsys):
    # bf16 computes other values; compile changes how the graph runs (a compile error's advice,
    # --no-compile)
    saved = dict(model="resnet20", compile=True, amp=False, threads=2, run_dir=str(tmp_path))
    # free settings
    run_folder.check_same_run(saved, dict(saved, threads=1, compile=False), tmp_path)
    with pytest.raises(SystemExit) as e:
        run_folder.check_same_run(saved, dict(saved, amp=True), tmp_path)
    assert e.value.code == 2 and "amp: False -> True" in capsys.readouterr().err
