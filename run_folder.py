"""A run folder's bookkeeping: one process per folder (an flock), the last checkpoint kept with its predecessor,
the check that a resumed run has the settings it started with, and the commit a run was trained from.

It holds no training code (train.py) and no file format beyond checkpoints and JSON (common.py).
"""
import fcntl
import os
import subprocess
import sys
from pathlib import Path

import common


# ----------------------------------------------------------------------------- the lock

def acquire_lock(run_dir):
    """One process per run folder: an flock on run_dir/lock, which the kernel drops when its owner dies."""
    path = run_dir / "lock"
    for _ in range(3):
        stale = path.exists()
        fd = os.open(path, os.O_CREAT | os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.read(fd, 32).decode().strip() or "unknown"
            os.close(fd)
            common.fail(f"{run_dir} is being trained by another process (pid {pid}); wait for it or stop it")
        try:
            replaced = os.stat(path).st_ino != os.fstat(fd).st_ino
        except FileNotFoundError:
            replaced = True
        if replaced:  # the owner removed the file as we opened it: lock the new one
            os.close(fd)
            continue
        if stale:
            print(f"note: taking over the stale lock of {run_dir} (its process is gone)", file=sys.stderr)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        return path, fd
    common.fail(f"could not take the lock {path}")


def release_lock(lock):
    path, fd = lock
    path.unlink(missing_ok=True)  # removed while still held, so no process can lock the old file after us
    os.close(fd)


def load_resume_state(run_dir):
    """last.pt if it loads, else the previous good one (last.pt.prev), else None."""
    for name in ("last.pt", "last.pt.prev"):
        path = run_dir / name
        if path.exists():
            try:
                return common.load_checkpoint(path)
            except Exception as e:
                print(f"warning: {path} is corrupt ({type(e).__name__}); trying the previous checkpoint",
                      file=sys.stderr)
    return None


def save_last(run_dir, ckpt):
    last = run_dir / "last.pt"
    if last.exists():  # keep the previous good checkpoint until the new one is safely on disk
        os.replace(last, run_dir / "last.pt.prev")
    common.save_checkpoint(last, ckpt)


# ----------------------------------------------------------------------------- the settings of a run

def git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                              text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


# flags that may change between a run and its resumption without changing what is computed (beyond rounding);
# not --amp (bf16 arithmetic) or --compile (compiled code draws other random numbers than eager: stochastic BC, SR)
RESUMABLE_CHANGES = {"epochs", "device", "workers", "threads", "quiet", "out", "data_dir", "steps_per_epoch",
                     "channels_last", "world_size", "torch_version", "git_commit", "kd", "run_dir", "summary"}


def check_same_run(saved, config):
    # a key the saved run lacks was added to the config since (data_format): nothing to compare it with
    changed = sorted(k for k in config if k not in RESUMABLE_CHANGES and k in saved and saved[k] != config[k])
    if changed:
        diff = ", ".join(f"{k}: {saved.get(k)} -> {config[k]}" for k in changed)
        common.fail(f"{config['run_dir']} holds a run with other settings ({diff}); pass --tag to start a new one")
