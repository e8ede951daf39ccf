"""The study's tables, from <processed>/aggregated.csv: main, gap, kd, layers, stem, power,
efficiency, ttq_paper, ste, stability_ste_ablation, bc_sr, dynamics_bc_sr, bits, and ours beside
published.csv's figures (published_*, from published.py); each in LaTeX (booktabs) and Markdown.

    python tables.py [--processed results/processed]   # <processed>/tables/<name>.tex and .md
"""
import argparse
import sys
from collections import Counter
from pathlib import Path

from aggregate import load_runs, results_roots
from common import fail
from published import PUBLISHED_TABLES, read_published
from study import (ACCURACY_NOTE, BIT_PAIRS, KD_STUDENTS, MAIN_METHODS, RECIPE, STANDARD_SEEDS,
                   TTQ_PAPER_MODELS, Study, Table, arm_order, bc_sr_cells, bit_pair, difference,
                   difference_interval, drop_names, group, interval, mean_pm, method, number,
                   order, p_value, phase_cells, phase_names, stability_cells, ste_ablation_cells,
                   ste_key, ste_label, ttq_top1, without_batchnorm)


# ----------------------------------------------------------------------------- the tables

def main_table(study):
    rows = [[m, d] + [mean_pm(study.top1(m, d, name)) for name in MAIN_METHODS]
            for m, d in study.pairs()]
    excluded = Counter(r["status"] for r in study.all_runs if r["status"] != "completed")
    notes = [ACCURACY_NOTE]
    if excluded:
        notes.append("Excluded runs (named in aggregate.py's warnings): "
                     + ", ".join(f"{n} {status}" for status, n in sorted(excluded.items())) + ".")
    return Table("main", "Top-1 accuracy (%) by method", ["Model", "Dataset"] + MAIN_METHODS, rows,
                 notes, 2, "BitNet runs")


def gap_table(study):
    rows = []
    for m, d in study.pairs():
        fp32, bitnet, recipe = (study.mean(m, d, k) for k in ("FP32", "BitNet", RECIPE))
        if fp32 is None or bitnet is None:
            continue
        remaining = fp32 - recipe if recipe is not None else None
        rows.append([m, d, number(fp32), number(bitnet), number(fp32 - bitnet), number(recipe),
                     number(remaining), number(study.gap_recovered(m, d, RECIPE), 1)])
    header = ["Model", "Dataset", "FP32", "BitNet", "Gap (pts)", RECIPE, "Remaining gap (pts)",
              "Recovered (%)"]
    notes = ["Gap = FP32 - BitNet mean top-1; recovered = (recipe - BitNet) / gap."]
    return Table("gap", "Gap to FP32 and the share the recipe recovers", header, rows, notes, 2,
                 "pairs of FP32 and BitNet runs")


def kd_table(study):
    rows = []
    for m, d in study.pairs():
        for student in KD_STUDENTS:
            plain, distilled = study.top1(m, d, student), study.top1(m, d, student + "+KD")
            if plain and distilled:
                rows.append([m, d, student, mean_pm(plain), mean_pm(distilled),
                             number(difference(distilled, plain), signed=True),
                             p_value(distilled, plain)])
    header = ["Model", "Dataset", "Student", "Without KD", "With KD", "KD effect (pts)", "Welch p"]
    return Table("kd", "Knowledge distillation: FP32 and ternary students", header, rows,
                 [ACCURACY_NOTE, "KD effect = with - without; two-sided Welch t-test."], 3,
                 "students trained both with and without KD")


def layers_table(study):
    rows = []
    for m, d in study.pairs():
        bitnet = study.top1(m, d, "BitNet")
        for layer in study.kept_layers():
            kept = study.top1(m, d, "BitNet+FP32 " + layer)
            if kept:
                rows.append([m, d, layer, mean_pm(kept),
                             number(difference(kept, bitnet), signed=True),
                             number(study.gap_recovered(m, d, "BitNet+FP32 " + layer), 1)])
    header = ["Model", "Dataset", "Kept in FP32", "Top-1", "Gain over BitNet (pts)",
              "Gap recovered (%)"]
    return Table("layers", "Layer sensitivity: one layer kept in full precision", header, rows,
                 [ACCURACY_NOTE], 3, "BitNet runs with a layer kept in FP32")


def stem_table(study):
    rows = []
    for m, d, name, stem in sorted(study.cells, key=order):
        # both arms of the ablation: on large images (ImageNet) that stem is the default, no arm
        if stem == "imagenet" and (m, d, name, "cifar") in study.cells:
            cifar, imagenet = study.top1(m, d, name), study.top1(m, d, name, "imagenet")
            rows.append([m, d, name, mean_pm(cifar), mean_pm(imagenet),
                         number(difference(imagenet, cifar), signed=True),
                         p_value(imagenet, cifar)])
    header = ["Model", "Dataset", "Method", "CIFAR stem", "ImageNet stem", "Difference (pts)",
              "Welch p"]
    return Table("stem", "Stem ablation: 3x3 CIFAR stem against 7x7 + max-pool ImageNet stem",
                 header, rows, [ACCURACY_NOTE, "Difference = ImageNet stem - CIFAR stem."], 3,
                 "ImageNet-stem runs")


def power_table(study):
    rows = []
    for m, d, name, stem in study.extra_seed_cells():
        runs = study.cell((m, d, name, stem))
        values = [r["top1"] for r in runs]
        standard = [r["top1"] for r in runs if r.get("seed") in STANDARD_SEEDS]
        # the near-parity claim the extra seeds are for: how far below FP32, and how surely
        fp32 = study.top1(m, d, "FP32", stem) if name != "FP32" else []
        gap = [mean_pm(fp32), number(difference(fp32, values), signed=True),
               difference_interval(fp32, values)]
        rows.append([m, d, name, str(len(values)), mean_pm(values, with_n=False), *interval(values),
                     *interval(standard), *gap])
    seeds = "/".join(str(s) for s in sorted(STANDARD_SEEDS))
    header = ["Model", "Dataset", "Method", "n", "Top-1", "95% CI", "Half-width",
              f"95% CI, seeds {seeds}", "Half-width (3 seeds)", "FP32", "FP32 - this (pts)",
              "95% CI of FP32 - this"]
    notes = ["95% CI = mean ± t(0.975, n-1) s / sqrt(n), the Student-t interval of the mean; "
             "of FP32 - this: Welch's interval of the difference of the means (unequal "
             "variances, Welch-Satterthwaite df)."]
    return Table("power", "Statistical power: configurations with more than three seeds", header,
                 rows, notes, 3, "configurations with more than three seeds")


def efficiency_table(study):
    rows = []
    names = MAIN_METHODS + ["BitNet+FP32 " + k for k in study.kept_layers() if k != "conv1"]
    for m, d in study.pairs():
        for name in names:
            sized = [r for r in study.cell((m, d, name, "cifar"))
                     if r.get("params") and r.get("fp32_size_bytes") and r.get("model_size_bytes")]
            if sized:  # sizes are properties of the model, the same for every seed
                r = sized[0]
                rows.append([m, d, name, f"{r['params'] / 1e6:.2f}",
                             f"{r['fp32_size_bytes'] / 1e6:.2f}",
                             f"{r['model_size_bytes'] / 1e6:.2f}",
                             f"{r['fp32_size_bytes'] / r['model_size_bytes']:.1f}×"])
    header = ["Model", "Dataset", "Method", "Parameters (M)", "FP32 (MB)", "Deployed (MB)",
              "Compression"]
    notes = ["Sizes as train.py measured the model (results.json): FP32 = 4 bytes per parameter, "
             "deployed = quantized weights at their bit width, the rest in FP32; MB = 10^6 bytes."]
    return Table("efficiency", "Model size and compression", header, rows, notes, 3,
                 "runs with params and model sizes")


def ttq_paper_table(study):
    rows = []
    for m in TTQ_PAPER_MODELS:
        fp32 = study.top1(m, "cifar10", "FP32")
        ttq = ttq_top1(study, m)
        if fp32 or ttq:
            errors = [[100 - v for v in values] for values in (fp32, ttq)]
            rows.append([m, mean_pm(errors[0]), mean_pm(errors[1]),
                         number(difference(errors[1], errors[0]), signed=True)])
    header = ["Model", "FP32 error (%)", "TTQ error (%)", "TTQ - FP32 (pts)"]
    return Table("ttq_paper", "TTQ paper: CIFAR-10 error rates of ResNet-20 to 56", header, rows,
                 ["Error = 100 - top-1; mean ± std over seeds (n)."], 1,
                 f"{'/'.join(TTQ_PAPER_MODELS)} runs on cifar10")


def ste_table(study):
    ablated = {(r["model"], r["dataset"]) for r in study.runs
               if r.get("ste") is not None or r.get("clip_factor") is not None
               or without_batchnorm(r)}
    runs = [r for r in study.runs if (r["model"], r["dataset"]) in ablated and r["quant"] != "fp32"
            and r.get("wbits") is None and r.get("abits") is None and not r.get("kd")]
    cells = study.choose(group(runs, ste_key), ste_label)
    rows = []
    for key in sorted(cells, key=order):
        m, d, family, name, ste, clip, no_bn = key
        rows.append([m, d, family, name, ste, number(clip), "no" if no_bn else "yes",
                     mean_pm([r["top1"] for r in cells[key]])])
    header = ["Model", "Dataset", "Weights", "Quantizer", "STE", "Clip", "BatchNorm", "Top-1"]
    return Table("ste", "STE ablation", header, rows, [ACCURACY_NOTE], 5,
                 "runs with an STE, clip_factor or no_bn setting")


STABILITY_NOTE = ("Means over seeds: top-1 change std = std (ddof=0) of the epoch-to-epoch change "
                  "in test top-1 over the last 20% of epochs; loss spikes = epochs with a train "
                  "loss over 1.5x the previous one; epochs to 95% = the first epoch at 95% of the "
                  "final top-1; flip = share of weights changing code per step (%), mean over the "
                  "epoch before each lr drop, and the last. –: no run or no dynamics record.")


def stability_table(study):
    cells = ste_ablation_cells(study)
    drops = drop_names([r for runs in cells.values() for r in runs])
    rows = []
    for key in sorted(cells, key=arm_order):
        _, _, family, name, ste, clip, no_bn = key
        rows.append([f"{family} ({name})", ste, number(clip), "no" if no_bn else "yes",
                     *stability_cells(cells[key], len(drops))])
    header = ["Weights", "STE", "Clip", "BatchNorm", "Top-1", "Top-1 change std (pts)",
              "Loss spikes", "Epochs to 95%", *(f"Flip, {d} (%)" for d in drops),
              "Flip, last epoch (%)"]
    return Table("stability_ste_ablation",
                 "STE ablation, ResNet-20 / CIFAR-10: training stability and weight flips",
                 header, rows, [ACCURACY_NOTE, STABILITY_NOTE], 2,
                 "STE ablation runs (twn or bc on resnet20 cifar10 with an STE, clip or no BN)")


def bc_sr_table(study):
    cells = bc_sr_cells(study)
    rows = []
    for m, d, batch in sorted({key[:3] for key in cells}, key=order):
        bc, sr = ([r["top1"] for r in cells.get((m, d, batch, q), [])] for q in ("bc", "sr"))
        rows.append([m, d, str(batch), mean_pm(bc), mean_pm(sr),
                     number(difference(bc, sr), signed=True), p_value(bc, sr)])
    header = ["Model", "Dataset", "Batch size", "BC", "SR", "BC - SR (pts)", "Welch p"]
    return Table("bc_sr", "BinaryConnect against stochastic rounding (Li et al. 2017)", header,
                 rows, [ACCURACY_NOTE], 3, "bc or sr runs")


def bc_sr_dynamics_table(study):
    cells = bc_sr_cells(study)
    phases = phase_names([r for runs in cells.values() for r in runs])
    rows = []
    for m, d, batch in sorted({key[:3] for key in cells}, key=order):
        bc, sr = (phase_cells(cells.get((m, d, batch, q), []), phases) for q in ("bc", "sr"))
        rows.append([m, d, str(batch), *bc, *sr])
    header = ["Model", "Dataset", "Batch size"] + [f"{q}, {p} (%)"
                                                   for q in ("BC", "SR") for p in phases]
    notes = ["Flip rate = the share of weights whose code changed per step (%), mean over the "
             "epochs of each lr phase (between lr drops) and over seeds. –: no run, or runs from "
             "before the dynamics record."]
    return Table("dynamics_bc_sr",
                 "BinaryConnect against stochastic rounding: weight flips per lr phase",
                 header, rows, notes, 3, "bc or sr runs")


def bits_table(study):
    studied = {(r["model"], r["dataset"], r["stem"]) for r in study.runs
               if r.get("wbits") is not None or r.get("abits") is not None}
    runs = [r for r in study.runs
            if (r["model"], r["dataset"], r["stem"]) in studied and not r.get("kd")
            and r.get("ste") is None and r.get("clip_factor") is None
            and not without_batchnorm(r)
            and (r["quant"] in ("fp32", "twn", "ttq") or r.get("wbits") is not None
                 or r.get("abits") is not None)]
    # a method with layers kept in FP32 is a row of its own (method(): 'DoReFa+FP32 conv1,fc')
    cells = study.choose(group(runs, lambda r: (r["model"], r["dataset"], method(r),
                                                bit_pair(r))))
    found = {key[3] for key in cells}
    columns = [b for b in BIT_PAIRS if b in found] + sorted(found - set(BIT_PAIRS))
    rows = [[m, d, q] + [mean_pm([r["top1"] for r in cells.get((m, d, q, b), [])]) for b in columns]
            for m, d, q in sorted({key[:3] for key in cells}, key=order)]
    return Table("bits", "Quantizer by bit width (weights/activations)",
                 ["Model", "Dataset", "Quantizer"] + columns, rows,
                 [ACCURACY_NOTE, "Columns are weight/activation bits; 32 = full precision."], 3,
                 "runs with wbits or abits set")


TABLES = [main_table, gap_table, kd_table, layers_table, stem_table, power_table, efficiency_table,
          ttq_paper_table, ste_table, stability_table, bc_sr_table, bc_sr_dynamics_table,
          bits_table]


# ----------------------------------------------------------------------------- rendering

LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                 "_": r"\_",
                 "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                 "±": r"$\pm$", "–": "--", "×": r"$\times$", "<": r"$<$", ">": r"$>$"}


def latex_escape(text):
    return "".join(LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def markdown(table):
    align = [":---" if i < table.labels else "---:" for i in range(len(table.header))]
    lines = [f"### {table.title}", "", "| " + " | ".join(table.header) + " |",
             "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in table.rows]
    return "\n".join(lines + [""] + table.notes) + "\n"


def latex(table):
    spec = "l" * table.labels + "r" * (len(table.header) - table.labels)
    lines = [r"\begin{table}[t]", r"\centering", rf"\caption{{{latex_escape(table.title)}}}",
             rf"\label{{tab:{table.name}}}", rf"\begin{{tabular}}{{{spec}}}", r"\toprule",
             " & ".join(latex_escape(h) for h in table.header) + r" \\", r"\midrule"]
    lines += [" & ".join(latex_escape(c) for c in row) + r" \\" for row in table.rows]
    lines += [r"\bottomrule", r"\end{tabular}"]
    lines += [r"\par\smallskip{\footnotesize " + latex_escape(" ".join(table.notes)) + "}",
              r"\end{table}"]
    return "\n".join(lines) + "\n"


def write_table(out, table):
    """Write <name>.md and <name>.tex and return the Markdown; a table without rows leaves a
    note."""
    if not table.rows:
        for stale in (out / f"{table.name}.md", out / f"{table.name}.tex"):
            stale.unlink(missing_ok=True)  # an old table must not outlive its runs
        print(f"note: skipped table '{table.name}': no {table.needs}", file=sys.stderr)
        return None
    (out / f"{table.name}.md").write_text(markdown(table))
    (out / f"{table.name}.tex").write_text(latex(table))
    return markdown(table)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processed", default="results/processed",
                        help="folder holding aggregated.csv; tables go to its tables/ "
                             "(default results/processed)")
    args = parser.parse_args()
    runs = load_runs(args.processed)
    study = Study(runs)
    published = read_published()
    tables, warnings = [], []
    for build in TABLES + PUBLISHED_TABLES:
        table = build(study, published) if build in PUBLISHED_TABLES else build(study)
        notes, repeats = study.take_notes()  # of the cells this table read
        tables.append(table._replace(notes=table.notes + notes))
        warnings += notes + repeats
    for line in dict.fromkeys(warnings):
        print(f"warning: {line}", file=sys.stderr)
    out = Path(args.processed) / "tables"
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = [write_table(out, table) for table in tables]
    except OSError as e:
        fail(f"cannot write to {out}: {e.strerror}")
    for text in filter(None, written):
        print(text)
    print(f"tables of the {len(runs)} runs in {results_roots(runs)} written to {out}")


if __name__ == "__main__":
    main()
