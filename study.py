"""The runs of the studies as the tables and figures see them: completed runs named by their recipe
(method, kept layers, KD), grouped into cells of model, dataset, method and stem (Study), each
cell's numbers as text (mean ± std, differences, p-values, intervals), and the Table a table is.
"""
import json
import math
from collections import defaultdict, namedtuple

import numpy as np

from aggregate import one_per_seed, recipe, recipe_key, repeat_warning
from stability import schedule_drops
from stats import mean_std, t_interval, welch_interval, welch_t_test

STANDARD_SEEDS = {42, 123, 456}
DATASET_ORDER = ["cifar10", "cifar100", "tiny-imagenet"]
MAIN_METHODS = ["FP32", "BitNet", "BitNet+FP32 conv1", "TTQ"]
RECIPE = "BitNet+FP32 conv1"
KD_STUDENTS = ["FP32", "BitNet", RECIPE]
KEPT_LAYERS = ["conv1", "layer1", "layer4", "fc"]
# the post-activation ResNets of the project's first reading, then the authors' pre-activation ones
TTQ_PAPER_MODELS = ["resnet20", "resnet32", "resnet44", "resnet56", "preact_resnet20",
                    "preact_resnet32", "preact_resnet44", "preact_resnet56"]
BIT_PAIRS = ["32/32", "8/8", "4/4", "2/32", "1/32", "2/2", "2/1", "1/2", "1/1"]
QUANT_NAMES = {"fp32": "FP32", "bitnet": "BitNet", "ttq": "TTQ", "twn": "TWN", "bc": "BC",
               "sr": "SR", "xnor": "XNOR", "dorefa": "DoReFa", "qnn": "QNN"}
QUANT_FAMILY = {"bitnet": "ternary", "ttq": "ternary", "twn": "ternary", "bc": "binary",
                "sr": "binary", "xnor": "binary", "dorefa": "k-bit", "qnn": "k-bit"}
STE_ABLATION = ("resnet20", "cifar10")  # the network and dataset of phases/ste_ablation.sh
STE_ARMS_KEEP = ["conv1", "fc"]  # the layers its TWN and BC arms keep in full precision
# the results table's networks in the forms RedBit ran for each method (published.csv's model):
# each form is one network of the table, its reproduction figure's panel
TABLE_NETWORKS = {"lenet5_wide_avg": "lenet5_wide", "lenet5_wide_max": "lenet5_wide",
                  "lenet5_wide_xnor": "lenet5_wide",
                  "resnet20_redbit_preact": "resnet20_redbit",
                  "resnet20_redbit_xnor": "resnet20_redbit",
                  "resnet50_redbit_preact": "resnet50_redbit",
                  "resnet50_redbit_xnor": "resnet50_redbit",
                  "vgg16_redbit_dropout": "vgg16_redbit", "vgg16_redbit_xnor": "vgg16_redbit"}
# train.py's defaults, for a run whose config.json lacks the field
DEFAULTS = {"quant": "fp32", "stem": "cifar", "keep": []}
TABLE_TAG = "table_"  # the tag prefix of the results table's runs (quant_table.sh, imagenet.sh)
WEIGHT_BITS = {"twn": 2, "ttq": 2, "xnor": 1, "bc": 1, "sr": 1}  # each method's unset --wbits
ACCURACY_NOTE = ("Top-1 (%) is report_top1 (the accuracy train.py's report flag chose; where "
                 "absent, the one the run's report names), mean ± sample std over seeds, (n) "
                 "distinct seeds of one recipe.")

# what a table builder returns; labels: how many leading columns are text; needs: which runs the
# table is built from (for the skip note)
Table = namedtuple("Table", "name title header rows notes labels needs")


# ----------------------------------------------------------------------------- runs and methods

def quantizer(run):
    """'BC', 'BC (stochastic)', 'DoReFa', ...: the quantizer's name."""
    return QUANT_NAMES.get(run["quant"],
                           run["quant"]) + (" (stochastic)" if run.get("stochastic") else "")


def method(run):
    """The name of a run's recipe from its config, e.g. 'BitNet+FP32 conv1+KD'."""
    name = quantizer(run)
    if run.get("keep") and run["quant"] != "fp32":
        name += "+FP32 " + keep_label(run)
    return name + ("+KD" if run.get("kd") else "")


def keep_label(run):
    """'conv1,fc': the layers a run keeps in full precision, in one order whatever --keep's."""
    return ",".join(sorted(run.get("keep") or []))


def bit_pair(run):
    """'weight bits/activation bits'; an unset width is the method's own (WEIGHT_BITS), else full
    precision (32)."""
    wbits = run.get("wbits") or WEIGHT_BITS.get(run["quant"], 32)
    return f"{wbits}/{run.get('abits') or 32}"


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


def tag_list(runs):
    return ", ".join(sorted({str(r.get("tag")) for r in runs}))


def shown(value):
    """A setting as a note shows it: JSON for lists and booleans, 'unset' for an absent field."""
    if value is None:
        return "unset"
    return json.dumps(value) if isinstance(value, (bool, list, dict)) else str(value)


def differences(used, other):
    """'epochs 160 -> 200, optimizer sgd -> adam': how recipe `other` differs from `used`."""
    return ", ".join(f"{k} {shown(used.get(k))} -> {shown(other.get(k))}"
                     for k in sorted(used.keys() | other.keys()) if used.get(k) != other.get(k))


def recipe_note(label, recipes):
    """One line: the recipe a cell uses (recipes[0], its runs) and how each one left out differs."""
    used = recipes[0]
    why = "the most seeds" if len(used) > len(recipes[1]) else "tied on seeds, first by tag"
    left = "; ".join(f"tags {tag_list(runs)} (n = {len(runs)}; settings used -> left out: "
                     f"{differences(recipe(used[0]), recipe(runs[0]))})" for runs in recipes[1:])
    return (f"{label} ran {len(recipes)} recipes: used tags {tag_list(used)} "
            f"(n = {len(used)}, {why}); left out {left}.")


def default_label(key):
    return " ".join(str(k) for k in key) if isinstance(key, tuple) else str(key)


def one_recipe(cells, label=default_label):
    """({key: the runs of one recipe, one per seed}, {key: [note]}, {key: [warning]}) of
    {key: runs}. The recipe kept has the most distinct seeds, ties going to the first tags in sorted
    order; a key with several recipes gets a note (recipe_note), seeds trained from different
    commits another (commits_note), a seed run twice a warning."""
    chosen, notes, warnings = {}, {}, {}
    for key, runs in cells.items():
        ordered = sorted(runs, key=lambda r: (str(r.get("tag")), str(r.get("path"))))
        seeded = [one_per_seed(same) for same in group(ordered, recipe_key).values()]
        seeded.sort(key=lambda pair: (-len(pair[0]), tag_list(pair[0])))
        chosen[key] = seeded[0][0]
        warnings[key] = [repeat_warning(*pair) for pair in seeded[0][1]]
        notes[key] = commits_note(label(key), chosen[key])
        if len(seeded) > 1:
            notes[key].insert(0, recipe_note(label(key), [kept for kept, _ in seeded]))
    return chosen, notes, warnings


def commits_note(label, runs):
    """[one line] when a cell's seeds were trained from different commits of the code (a run that
    recorded none counts as one more), else []."""
    seeds = defaultdict(list)
    for run in runs:
        seeds[(run.get("git_commit") or "")[:7] or "unrecorded"].append(run.get("seed"))
    if len(seeds) < 2:
        return []
    each = "; ".join(f"{commit} (seed {', '.join(map(str, sorted(s)))})"
                     for commit, s in sorted(seeds.items()))
    return [f"{label}: its seeds ran from {len(seeds)} commits of the code: {each}"]


def cell_label(key):
    model, dataset, name, stem = key
    return f"{model} {dataset} {name}" + ("" if stem == "cifar" else f" ({stem} stem)")


class Study:
    """Completed runs, and the plain ones grouped into cells (model, dataset, method, stem), each
    of one recipe and one run per seed."""

    def __init__(self, runs):
        self.all_runs = runs
        self.runs = [dict(DEFAULTS, **{k: v for k, v in r.items() if v is not None})
                     for r in runs if r["status"] == "completed"]
        # methods are named from the config fields quant, keep, kd and stem, never from tags
        plain = group([r for r in self.runs if is_plain(r)],
                      lambda r: (r["model"], r["dataset"], method(r), r["stem"]))
        # each cell keeps one recipe (aggregate.recipe: the whole configuration but the seed and
        # common.FREE_SETTINGS) and one run per seed, so its n is its number of distinct seeds
        self.cells, self.cell_notes, self.cell_warnings = one_recipe(plain, cell_label)
        self.notes, self.warnings = [], []  # of the cells read since take_notes

    def cell(self, key):
        """The runs of a cell (one per seed); its notes and warnings go to the table reading it."""
        self.notes += self.cell_notes.get(key, [])
        self.warnings += self.cell_warnings.get(key, [])
        return self.cells.get(key, [])

    def choose(self, cells, label=default_label):
        """one_recipe of a table's own {key: runs}; its notes go to that table as a cell's do."""
        chosen, notes, warnings = one_recipe(cells, label)
        for key in chosen:
            self.notes += notes.get(key, [])
            self.warnings += warnings.get(key, [])
        return chosen

    def take_notes(self):
        """(notes, warnings) of the cells read since the last call, each once, and forget them."""
        taken = list(dict.fromkeys(self.notes)), list(dict.fromkeys(self.warnings))
        self.notes, self.warnings = [], []
        return taken

    def top1(self, model, dataset, method_name, stem="cifar"):
        return [r["top1"] for r in self.cell((model, dataset, method_name, stem))]

    def mean(self, model, dataset, method_name):
        values = self.top1(model, dataset, method_name)
        return float(np.mean(values)) if values else None

    def pairs(self):
        """(model, dataset) of the 1.58-bit study: those with BitNet runs (CIFAR stem)."""
        return sorted({(m, d) for m, d, name, stem in self.cells
                       if name.startswith("BitNet") and stem == "cifar"}, key=order)

    def kept_layers(self):
        """Layers kept in FP32 by BitNet runs: the standard four first, then any others."""
        found = {keep_label(r) for r in self.runs if r["quant"] == "bitnet" and r.get("keep")}
        return [k for k in KEPT_LAYERS if k in found] + sorted(found - set(KEPT_LAYERS))

    def extra_seed_cells(self):
        """Cells (CIFAR stem) with more than three distinct seeds: the n = 10 study."""
        many = [key for key, runs in self.cells.items() if key[3] == "cifar" and len(runs) > 3]
        return sorted(many, key=order)

    def gap_recovered(self, model, dataset, method_name):
        """Share (%) of the FP32-BitNet gap that method_name closes; None without a positive gap."""
        fp32, bitnet, other = (self.mean(model, dataset, k)
                               for k in ("FP32", "BitNet", method_name))
        if None in (fp32, bitnet, other) or fp32 <= bitnet:
            return None
        return 100 * (other - bitnet) / (fp32 - bitnet)


def ttq_top1(study, model):
    """TTQ's cell of a TTQ-paper row: on the authors' pre-activation ResNets their recipe alone
    (every layer but conv1 ternarized); on the others conv1 and fc kept, or else nothing kept,
    which the table's notes then say."""
    if model.startswith("preact_"):
        return study.top1(model, "cifar10", "TTQ+FP32 conv1")
    kept_fp32 = study.top1(model, "cifar10", "TTQ+FP32 conv1,fc")
    if kept_fp32:
        return kept_fp32
    every_layer = study.top1(model, "cifar10", "TTQ")
    if every_layer:
        study.notes.append(f"{model} cifar10 TTQ: every layer ternary (no run keeps conv1 and fc "
                           "in full precision)")
    return every_layer


# ------------------------------------------------- the STE ablation's arms, BC against SR

def ste_key(run):
    # method, not quantizer: arms that keep other layers in full precision are other rows
    return (run["model"], run["dataset"], QUANT_FAMILY.get(run["quant"], "other"), method(run),
            run.get("ste") or "default", run.get("clip_factor"), without_batchnorm(run))


def ste_label(key):
    m, d, _, name, ste, clip, no_bn = key
    return f"{m} {d} {name} STE {ste}, clip {number(clip)}, " + ("no BN" if no_bn else "BN")


def ste_ablation_runs(study):
    """The STE ablation's TWN and BC arms on ResNet-20 / CIFAR-10: runs with an STE, a clip factor
    or no BN, of any layer policy."""
    return [r for r in study.runs
            if (r["model"], r["dataset"]) == STE_ABLATION and r["quant"] in ("twn", "bc")
            and not r.get("stochastic") and not r.get("kd")
            and r.get("wbits") is None and r.get("abits") is None
            and (r.get("ste") or r.get("clip_factor") is not None or without_batchnorm(r))]


def ste_ablation_cells(study):
    """{ste_key: runs} of ste_ablation_runs, one recipe each: the stability table's rows and
    dynamics_ste.svg's. Each layer policy (--keep) is its own arm."""
    return study.choose(group(ste_ablation_runs(study), ste_key), ste_label)


def arm_order(key):
    """Ternary arms before binary; in each, the STEs by name, then clip factors, then no BN."""
    _, _, family, name, ste, clip, no_bn = key
    return family != "ternary", name, no_bn, clip is not None, clip or 0, ste


def bc_sr_cells(study):
    """{(model, dataset, batch size, quant): runs} of BC and SR (Li et al. 2017), one recipe
    each."""
    runs = [r for r in study.runs
            if quantizer(r) in ("BC", "SR") and is_plain(r) and not r.get("kd")]
    return study.choose(group(runs, lambda r: (r["model"], r["dataset"], r.get("batch_size"),
                                               r["quant"])))


def drop_names(runs):
    """A name for each lr drop of the runs' step schedules: 'epoch m' (the last epoch before it)
    where they share their milestones, else 'drop i'."""
    drops = {tuple(schedule_drops(r)) for r in runs}
    if len(drops) == 1:
        return [f"epoch {m}" for m in drops.pop()]
    return [f"drop {i + 1}" for i in range(max((len(d) for d in drops), default=0))]


def phase_names(runs):
    """A name for each lr phase of the runs: 'epochs a-b' where they share their schedule and
    length, else 'phase i'."""
    spans = {(tuple(schedule_drops(r)), r.get("epochs")) for r in runs}
    if len(spans) == 1 and isinstance(next(iter(spans))[1], int):
        drops, epochs = spans.pop()
        bounds = [0, *drops, epochs]
        return [f"epochs {a + 1}-{b}" for a, b in zip(bounds, bounds[1:])]
    return [f"phase {i + 1}" for i in range(max((len(d) for d, _ in spans), default=0) + 1)]


def listed(run, column, i):
    """Item i of a run's list column (flip rates per phase or drop), None where absent."""
    values = run.get(column)
    return values[i] if isinstance(values, list) and i < len(values) else None


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


def mean_present(values):
    """The mean of the values present (None: a run without the measure); None when none is."""
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def percent(share):
    """A share as a percentage to three significant digits."""
    return "–" if share is None else f"{100 * share:.3g}"


def stability_cells(runs, drops):
    """The stability table's cells of one arm: top-1, the three stability measures, and the flip
    rates (%) before each of its `drops` lr drops and in the last epoch, each a mean over seeds."""
    return [mean_pm([r["top1"] for r in runs]),
            *(number(mean_present([r.get(c) for r in runs]), digits) for c, digits in
              (("top1_change_std", 2), ("loss_spikes", 2), ("epochs_to_95", 1))),
            *(percent(mean_present([listed(r, "flip_rate_before_drops", i) for r in runs]))
              for i in range(drops)),
            percent(mean_present([r.get("final_flip_rate") for r in runs]))]


def phase_cells(runs, phases):
    """The mean flip rate (%) over seeds in each lr phase: one quantizer's cells of a BC-SR row."""
    return [percent(mean_present([listed(r, "flip_rate_phases", i) for r in runs]))
            for i in range(len(phases))]


def interval(values):
    if len(values) < 2:
        return "–", "–"  # no interval from fewer than two seeds
    low, high = t_interval(values)
    return f"[{low:.2f}, {high:.2f}]", f"± {(high - low) / 2:.2f}"


def difference_interval(a, b):
    """'[low, high]': the Welch 95% interval of mean(a) - mean(b); '–' without two seeds each."""
    low, high = welch_interval(a, b)
    return "–" if math.isnan(low) else f"[{low:.2f}, {high:.2f}]"
