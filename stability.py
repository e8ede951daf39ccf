"""Measures of a training run computed from its results.json history: how steady its accuracy and
loss were, and how often its quantized weights changed code (flip rates per learning-rate phase)."""
import math

import numpy as np

SPIKE_FACTOR = 1.5  # a loss spike: an epoch's train loss above 1.5x the previous epoch's
REACHED = 0.95  # epochs_to_95: the first epoch at 95% of the final top-1


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def values_of(history, key):
    """[(epoch, value)] of a history key, the epochs without a finite value left out."""
    return [(entry.get("epoch"), entry[key]) for entry in history if is_number(entry.get(key))]


def dynamics_value(entry, key):
    """One number of an epoch's dynamics record; None where the record or the key is absent (a run
    from before the record, or an FP32 run), never 0."""
    value = (entry.get("dynamics") or {}).get(key)
    return value if is_number(value) else None


def top1_change_std(history):
    """Std (ddof=0: the spread of these changes themselves) of the epoch-to-epoch change in test
    top-1 over the last 20% of epochs: the changes into each of the last ceil(n / 5) epochs from
    the epoch before; None for fewer than 2 changes."""
    top1 = [value for _, value in values_of(history, "test_top1")]
    changes = np.diff(top1)[-((len(top1) + 4) // 5):] if top1 else []
    return float(np.std(changes)) if len(changes) >= 2 else None


def loss_spikes(history):
    """The number of epochs whose train loss exceeds 1.5x the previous epoch's; None without a
    history."""
    losses = [entry.get("train_loss") for entry in history]
    if not losses:
        return None
    return sum(is_number(before) and is_number(now) and now > SPIKE_FACTOR * before
               for before, now in zip(losses, losses[1:]))


def epochs_to_95(history):
    """The first epoch whose test top-1 reaches 95% of the final (last epoch's) top-1."""
    top1 = values_of(history, "test_top1")
    if not top1:
        return None
    final = top1[-1][1]
    return next(epoch for epoch, value in top1 if value >= REACHED * final)


def lr_phase(epoch, milestones):
    """The lr phase of an epoch (counted from 1): the lr drops after epoch m of each milestone."""
    return sum(epoch > m for m in milestones)


def phase_flip_rates(history, milestones):
    """The mean flip rate over the epochs of each lr phase (len(milestones) + 1 of them; None for a
    phase without one); None when no epoch has a flip rate."""
    by_phase = [[] for _ in range(len(milestones) + 1)]
    for entry in history:
        rate = dynamics_value(entry, "flip_rate")
        if rate is not None and is_number(entry.get("epoch")):
            by_phase[lr_phase(entry["epoch"], milestones)].append(rate)
    if not any(by_phase):
        return None
    return [float(np.mean(rates)) if rates else None for rates in by_phase]


def flip_rates_before_drops(history, milestones):
    """The flip rate of the epoch just before each lr drop (epoch m of each milestone; None where
    that epoch has none); None when no epoch has a flip rate."""
    rates = {entry.get("epoch"): dynamics_value(entry, "flip_rate") for entry in history}
    if all(rate is None for rate in rates.values()):
        return None
    return [rates.get(m) for m in milestones]


def schedule_drops(config):
    """The epochs after which the lr drops: the milestones of a step schedule, none otherwise (a
    cosine schedule is one phase)."""
    milestones = config.get("milestones") if config.get("schedule") == "step" else None
    return [m for m in milestones if is_number(m)] if isinstance(milestones, list) else []


def history_measures(history, config):
    """aggregate.py's per-run columns of a run's history: whether the last test loss is finite,
    the last epoch's dynamics, the three stability measures, and the flip rates per lr phase and
    before each drop."""
    history = [entry for entry in history if isinstance(entry, dict)]
    last = history[-1] if history else {}
    drops = schedule_drops(config)
    return {"final_test_loss_finite": is_number(last["test_loss"]) if "test_loss" in last else None,
            "final_flip_rate": dynamics_value(last, "flip_rate"),
            "final_oscillation_rate": dynamics_value(last, "oscillation_rate"),
            "final_zero_share": dynamics_value(last, "zero_share"),
            "top1_change_std": top1_change_std(history),
            "loss_spikes": loss_spikes(history),
            "epochs_to_95": epochs_to_95(history),
            "flip_rate_phases": phase_flip_rates(history, drops),
            "flip_rate_before_drops": flip_rates_before_drops(history, drops)}
