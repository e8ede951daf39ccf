"""A run folder's bookkeeping: its lock, the last checkpoint kept with its predecessor, the check
that a folder holds one run's settings and its resumptions, the final.pt a run starts from (--kd,
--init-from), the commit a run was trained from, and results.json's figures of the epochs."""
import fcntl
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

import common


# ----------------------------------------------------------------------------- the lock

def acquire_lock(run_dir):
    """One process per run folder: an flock on run_dir/lock, which the kernel drops when its owner
    dies."""
    path = run_dir / "lock"
    for _ in range(3):
        stale = path.exists()
        fd = os.open(path, os.O_CREAT | os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.read(fd, 32).decode().strip() or "unknown"
            os.close(fd)
            common.fail(f"{run_dir} is being trained by another process (pid {pid}); wait for it "
                        "or stop it")
        try:
            replaced = os.stat(path).st_ino != os.fstat(fd).st_ino
        except FileNotFoundError:
            replaced = True
        if replaced:  # the owner removed the file as we opened it: lock the new one
            os.close(fd)
            continue
        if stale:
            print(f"note: taking over the stale lock of {run_dir} (its process is gone)",
                  file=sys.stderr)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        return path, fd
    common.fail(f"could not take the lock {path}")


def release_lock(lock):
    path, fd = lock
    # removed while still held, so no process can lock the old file after us
    path.unlink(missing_ok=True)
    os.close(fd)


def clear_stale_lock(run_dir):
    """Remove the lock of a completed run that no process holds: one killed after it completed and
    before it released the lock left it."""
    try:
        fd = os.open(run_dir / "lock", os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        (run_dir / "lock").unlink(missing_ok=True)
    except BlockingIOError:
        pass  # held: the process holding it removes it
    finally:
        os.close(fd)


def load_resume_state(run_dir):
    """last.pt if it loads, else the previous good one (last.pt.prev), else None."""
    for name in ("last.pt", "last.pt.prev"):
        path = run_dir / name
        if path.exists():
            try:
                return common.load_checkpoint(path)
            except Exception as e:
                print(f"warning: {path} is corrupt ({type(e).__name__}); trying the previous "
                      "checkpoint",
                      file=sys.stderr)
    return None


def save_last(run_dir, ckpt):
    last = run_dir / "last.pt"
    if last.exists():  # keep the previous good checkpoint until the new one is safely on disk
        os.replace(last, run_dir / "last.pt.prev")
    common.save_checkpoint(last, ckpt)


# ---------------------------------------------------------------------------- the settings of a run

def git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                              capture_output=True, text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def commit_note(saved):
    """', started at commit X; this checkout is Y' when a run folder's code is not this checkout's
    (its numbers come from that code, which a rerun reports or resumes), else ''."""
    then, now = (saved or {}).get("git_commit"), git_commit()
    if not (then and now) or then == now:
        return ""
    return f", started at commit {then[:7]}; this checkout is {now[:7]}"


def check_same_run(saved, config, run_dir):
    """A folder holds one run: one clear line and exit 2 when its config.json differs from these
    settings in any field but the free ones (common.FREE_SETTINGS), finished or not. A field either
    side lacks is not compared: the saved run predates it, or it is derived from the data after this
    check (stem, image size)."""
    if isinstance(saved.get("warmup_epochs"), int) and isinstance(saved.get("epochs"), int):
        # train.py once saved the default 5 for shorter runs and capped it at epochs - 1 when
        # training
        saved = dict(saved, warmup_epochs=min(saved["warmup_epochs"], max(saved["epochs"] - 1, 0)))
    changed = sorted(k for k in config if k not in common.FREE_SETTINGS and k in saved
                     and saved[k] != config[k])
    if changed:
        diff = ", ".join(f"{k}: {saved[k]} -> {config[k]}" for k in changed)
        common.fail(f"{run_dir} holds a run with other settings ({diff}); pass --tag NAME to train "
                    "these settings in a folder of their own")


def record_resumption(saved, config, epoch):
    """The saved config.json with this resumption added to its 'resumed' list: the epoch it resumes
    at and the free settings (threads, device, commit, ...) that differ from the run's start; the
    original values stay."""
    changed = {k: config[k] for k in config
               if k in common.FREE_SETTINGS and k != "resumed" and saved.get(k) != config[k]}
    return dict(saved, resumed=saved.get("resumed", []) + [dict(at_epoch=epoch, **changed)])


# -------------------------------------------------------------------- checkpoints a run starts from

def load_final(path, flag, args, inputs):
    """The final.pt of a completed full-precision run of this architecture and of this run's
    `inputs` (num_classes, image_size, data_format), data and normalization (a teacher sees this
    run's inputs), for --kd and --init-from: never best.pt, whose epoch was chosen by test accuracy
    and would carry it into this run."""
    try:
        ckpt = common.load_checkpoint(path)
        source, weights = ckpt["config"], ckpt["model"]
    except Exception as e:
        common.fail(f"cannot load {flag} {path}: "
                    f"{(str(e).splitlines() or [type(e).__name__])[0][:200]}")
    if ckpt.get("kind") != "final":
        common.fail(f"{flag} {path} is not a run's final weights: give its final.pt, written when "
                    "the run completes (best.pt is chosen by test accuracy, which would leak into "
                    "this run)")
    if source.get("quant") != "fp32":
        common.fail(f"{flag} {path} is a {source.get('quant')} model; {flag} takes a "
                    "full-precision run")
    num_classes = inputs["num_classes"]
    if source.get("model") != args.model or source.get("num_classes") != num_classes:
        common.fail(f"{flag} {path} holds a {source.get('model')} of {source.get('num_classes')} "
                    f"classes; this run trains a {args.model} of {num_classes}")
    # data_format: CIFAR-10 as the pickled release or as image files (a JPEG copy differs)
    ours = dict(dataset=args.dataset, fake_data=args.fake_data, image_size=inputs["image_size"],
                data_format=inputs["data_format"], normalize=args.normalize)
    # runs saved before --normalize had a choice normalized per channel; before data_format, unsaid
    theirs = dict(dict(ours, fake_data=False, normalize="channel"), **source)
    differ = [k for k in ours if theirs[k] != ours[k]]
    if differ:
        common.fail(f"{flag} {path} was trained on other inputs: "
                    + "; ".join(f"{k} {theirs[k]} (here {ours[k]})" for k in differ))
    return ckpt


def weights_digest(state):
    """16 hex digits of a sha256 over a state dict's names and tensor bytes: which weights a run
    started or learned from, recorded so that a resumption notices a final.pt trained anew."""
    h = hashlib.sha256()
    for name in sorted(state):
        h.update(name.encode())
        h.update(state[name].detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    return h.hexdigest()[:16]


def final_from_last(run_dir, config):
    """Write final.pt of a run that completed before runs wrote it, from its last.pt (the last
    epoch's weights), so that it can serve as a teacher or a starting point."""
    results = common.read_json(run_dir / "results.json") or {}
    if (run_dir / "final.pt").exists() or not (run_dir / "last.pt").exists() or not config:
        return
    last = common.load_checkpoint(run_dir / "last.pt")
    if last["epoch"] != results.get("epochs_completed") or not last["history"]:
        return
    final = last["history"][-1]
    common.save_checkpoint(run_dir / "final.pt",
                           dict(kind="final", model=last["model"], config=config,
                                                      epoch=last["epoch"], top1=final["test_top1"],
                                                      top5=final["test_top5"]))
    print(f"note: wrote {run_dir / 'final.pt'} from last.pt (epoch {last['epoch']}): the run "
          "completed before runs wrote final.pt")


def results_from_history(args, history, best, wall):
    """results.json's figures of the epochs: best, final and reported top-1, history, speed."""
    last = history[-1]
    speeds = [h["images_per_second"] for h in history]
    report = {"final": last["test_top1"], "best": best["top1"],
              "ttq-avg": float(np.mean([h["test_top1"] for h in history[-10:]]))}[args.report]
    return dict(epochs_completed=last["epoch"], best_top1=best["top1"], best_top5=best["top5"],
                best_epoch=best["epoch"], final_top1=last["test_top1"],
                final_top5=last["test_top5"], report_top1=report, history=history,
                wall_seconds=wall, train_images_per_second=float(np.median(speeds)))
