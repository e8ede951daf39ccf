"""Shared helpers below every other file: user-facing errors (one line, exit code 2), atomic file
writes, JSON, checkpoints and seeding.
"""
import json
import os
import sys
from pathlib import Path

import numpy as np

# torch is imported only inside the functions that need it: the analysis scripts run on numpy alone

# config.json fields that change nothing a run computes (beyond floating-point rounding): names,
# places, speed knobs and bookkeeping. They may differ between a run and its resumption, and between
# the runs of one recipe; every other field (the seed aside) is part of what a run computes.
FREE_SETTINGS = frozenset({"tag", "out", "run_dir", "data_dir", "device", "workers", "threads",
                           "quiet", "summary", "channels_last", "git_commit", "torch_version",
                           "fp32_conv1",  # train.py folds it into keep
                           # how the graph runs, not what: a compile error's advice, --no-compile,
                           # resumes the same folder (stochastic quantizers then draw from another
                           # random stream)
                           "compile",
                           "dynamics",  # what is recorded, not what is trained
                           "resumed"})  # train.py's record of the resumptions


# ----------------------------------------------------------------------------- errors

def fail(message):
    """Stop with one clear line and exit code 2: for errors a user can cause."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


# ----------------------------------------------------------------------------- file I/O

def write_atomic(path, write_fn):
    """Write via a temporary file in the same folder and rename, so a crash never
    leaves a truncated file under the real name."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write_fn(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json(path, obj):
    write_atomic(path, lambda f: f.write((json.dumps(obj, indent=2, default=str) + "\n").encode()))


def read_json(path):
    """The parsed file, or None when it is missing or not valid JSON."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def save_checkpoint(path, obj):
    import torch
    write_atomic(path, lambda f: torch.save(obj, f))


def load_checkpoint(path):
    """torch.load restricted to tensors and plain containers (no arbitrary pickles)."""
    import torch
    return torch.load(path, map_location="cpu", weights_only=True)


# ----------------------------------------------------------------------------- seeding

def seed_everything(seed):
    import random
    import torch
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
