"""The divergence check: each step's loss and largest |logit|, and after the epoch's last update the
weights, stop a run that has blown up before anything is saved (train.py records it as
diverged)."""
import math

import torch

import devices


class Diverged(Exception):
    pass


# softmax is one-hot in fp32 past |logit| ~ 100: a logit of 1e4 means the network has blown up
MAX_LOGIT = 1e4


def reason(loss, peak_logit):
    """Why a loss and largest |logit| say the run has diverged, or None: a finite loss can hide
    logits near 1e20 (BinaryConnect without batch norm and its +-1 weights did)."""
    if not math.isfinite(loss):
        return "non-finite loss"
    if not peak_logit <= MAX_LOGIT:  # NaN fails the comparison too
        return f"logits of magnitude {peak_logit:.3g}, beyond {MAX_LOGIT:g}"
    return None


def stopped(why, epoch, step, state):
    """The Diverged that stops the run, with the epoch, step and last finite training loss."""
    return Diverged(dict(diverged_epoch=epoch + 1, diverged_step=step,
                         last_finite_loss=state["last_loss"], reason=why))


def check_step(check, epoch, step, state, world):
    """A step's loss (returned; the mean over the processes) and largest |logit| (the largest over
    them: one process's blown-up logits suffice), read in the step's one host sync."""
    loss = devices.mean_over_processes(check[:1], world)
    peak = devices.max_over_processes(check[1:], world)
    value, peak = torch.cat([loss, peak]).tolist()
    why = reason(value, peak)
    if why:
        raise stopped(why, epoch, step, state)
    state["last_loss"] = value
    return value


def check_weights(model, epoch, step, state):
    """The epoch's last update, which no step's check sees: non-finite weights (or batch-norm
    statistics) stop the run, in one host sync. Not the test loss: batch norm's running statistics
    lag behind the weights (after --init-from, or in a run of a few steps), and the test logits can
    overflow while training is sound."""
    tensors = [t for t in model.state_dict().values() if t.is_floating_point()]
    if not torch.stack([torch.isfinite(t).all() for t in tensors]).all():
        raise stopped("non-finite weights after the epoch's last update", epoch, step, state)
