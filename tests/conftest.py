"""Shared test helpers: the repository root on sys.path, a runner for project scripts, the flags of
a quick synthetic run, and the pieces of a run train.train_epoch needs."""
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_script(*args, cwd=ROOT, env=None, timeout=600):
    """Run a project script in a fresh interpreter as a user would; returns the CompletedProcess."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def fast_flags(tmp_path):
    """Flags for a quick synthetic run on the CPU into a temporary results root."""
    return ["--dataset", "synthetic", "--device", "cpu", "--quiet", "--out", str(tmp_path / "raw")]


def train_run(args, model, data, steps, forward=None, optimizer=None):
    """What train.train_epoch needs of a run in one process: flags, model (and the forward it
    calls), data, optimizer, steps per epoch."""
    import train
    return SimpleNamespace(args=args, model=model, forward=forward or model, teacher_forward=None,
                           optimizer=optimizer or train.make_optimizer(args, model), data=data,
                           steps_per_epoch=steps, rank=0, world=1, dynamics=None)
