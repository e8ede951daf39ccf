"""The runs of the studies as the tables and figures see them: completed runs named by their recipe (method,
kept layers, KD), grouped into cells of model, dataset, method and stem (Study), and each cell's numbers formatted
as text (mean ± std, differences, p-values, intervals).

Methods are named from the config fields quant, keep, kd and stem, never from tags. Nothing here reads run folders
(aggregate.py) or writes a table or figure (tables.py, figures.py).
"""
import math
from collections import defaultdict

import numpy as np

from stats import mean_std, t_interval, welch_t_test

STANDARD_SEEDS = {42, 123, 456}
DATASET_ORDER = ["cifar10", "cifar100", "tiny-imagenet"]
MAIN_METHODS = ["FP32", "BitNet", "BitNet+FP32 conv1", "TTQ"]
RECIPE = "BitNet+FP32 conv1"
KD_STUDENTS = ["FP32", "BitNet", RECIPE]
KEPT_LAYERS = ["conv1", "layer1", "layer4", "fc"]
TTQ_PAPER_MODELS = ["resnet20", "resnet32", "resnet44", "resnet56"]
BIT_PAIRS = ["32/32", "8/8", "4/4", "2/32", "1/32", "2/2", "2/1", "1/2", "1/1"]
QUANT_NAMES = {"fp32": "FP32", "bitnet": "BitNet", "ttq": "TTQ", "twn": "TWN", "bc": "BC", "sr": "SR",
               "xnor": "XNOR", "dorefa": "DoReFa", "qnn": "QNN"}
QUANT_FAMILY = {"bitnet": "ternary", "ttq": "ternary", "twn": "ternary", "bc": "binary", "sr": "binary",
                "xnor": "binary", "dorefa": "k-bit", "qnn": "k-bit"}
# train.py's defaults, for a run whose config.json lacks the field
DEFAULTS = {"quant": "fp32", "stem": "cifar", "keep": []}


# ----------------------------------------------------------------------------- runs and methods

def quantizer(run):
    """'BC', 'BC (stochastic)', 'DoReFa', ...: the quantizer's name."""
    return QUANT_NAMES.get(run["quant"], run["quant"]) + (" (stochastic)" if run.get("stochastic") else "")


def method(run):
    """The name of a run's recipe from its config, e.g. 'BitNet+FP32 conv1+KD'."""
    name = quantizer(run)
    if run.get("keep") and run["quant"] != "fp32":
        name += "+FP32 " + ",".join(run["keep"])
    return name + ("+KD" if run.get("kd") else "")


def without_batchnorm(run):
    """BatchNorm removed: train.py writes bn = false (an older spelling is no_bn = true)."""
    return bool(run.get("no_bn")) or run.get("bn") is False


def is_plain(run):
    """No bit-width, STE, clipping or BatchNorm setting: a recipe of the main study."""
    return (all(run.get(k) is None for k in ("wbits", "abits", "ste", "clip_factor"))
            and not without_batchnorm(run))


def order(pair):
    """Sort key for (model, dataset, ...): model name, datasets in the study's order, the rest."""
    model, dataset = pair[:2]
    rank = DATASET_ORDER.index(dataset) if dataset in DATASET_ORDER else len(DATASET_ORDER)
    return (model, rank, dataset) + tuple(str(x) for x in pair[2:])


def group(runs, key):
    cells = defaultdict(list)
    for run in runs:
        cells[key(run)].append(run)
    return cells


class Study:
    """Completed runs, and the plain ones grouped into cells (model, dataset, method, stem)."""

    def __init__(self, runs):
        self.all_runs = runs
        self.runs = [dict(DEFAULTS, **{k: v for k, v in r.items() if v is not None})
                     for r in runs if r["status"] == "completed"]
        self.cells = group([r for r in self.runs if is_plain(r)],
                           lambda r: (r["model"], r["dataset"], method(r), r["stem"]))

    def top1(self, model, dataset, method_name, stem="cifar"):
        return [r["top1"] for r in self.cells.get((model, dataset, method_name, stem), [])]

    def mean(self, model, dataset, method_name):
        values = self.top1(model, dataset, method_name)
        return float(np.mean(values)) if values else None

    def pairs(self):
        """(model, dataset) of the 1.58-bit study: those with BitNet runs (CIFAR stem)."""
        return sorted({(m, d) for m, d, name, stem in self.cells if name.startswith("BitNet") and stem == "cifar"},
                      key=order)

    def kept_layers(self):
        """Layers kept in FP32 by BitNet runs: the standard four first, then any others."""
        found = {",".join(r["keep"]) for r in self.runs if r["quant"] == "bitnet" and r.get("keep")}
        return [k for k in KEPT_LAYERS if k in found] + sorted(found - set(KEPT_LAYERS))

    def extra_seed_cells(self):
        """Cells (CIFAR stem) with seeds beyond the standard three: the n = 10 study."""
        return sorted((key for key, runs in self.cells.items()
                       if key[3] == "cifar" and {r.get("seed") for r in runs} - STANDARD_SEEDS), key=order)

    def gap_recovered(self, model, dataset, method_name):
        """Share (%) of the FP32-BitNet gap that method_name closes; None without a positive gap."""
        fp32, bitnet, other = (self.mean(model, dataset, k) for k in ("FP32", "BitNet", method_name))
        if None in (fp32, bitnet, other) or fp32 <= bitnet:
            return None
        return 100 * (other - bitnet) / (fp32 - bitnet)


# ----------------------------------------------------------------------------- cell formatting

def mean_pm(values, with_n=True):
    """'mean ± std (n)'; one run has no spread to show."""
    if not values:
        return "–"
    mean, std = mean_std(values)
    spread = f" ± {std:.2f}" if len(values) > 1 else ""
    return f"{mean:.2f}{spread}" + (f" ({len(values)})" if with_n else "")


def number(x, digits=2, signed=False):
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def difference(a, b):
    """mean(a) - mean(b), None when either is empty."""
    return float(np.mean(a) - np.mean(b)) if a and b else None


def p_value(a, b):
    if len(a) < 2 or len(b) < 2:
        return "–"  # Welch's test needs a variance on both sides
    p = welch_t_test(a, b)[2]
    return "–" if not math.isfinite(p) else "< 0.001" if p < 0.001 else f"{p:.3f}"


def interval(values):
    low, high = t_interval(values)
    return (f"[{low:.2f}, {high:.2f}]", f"± {(high - low) / 2:.2f}") if len(values) > 1 else ("–", "–")
