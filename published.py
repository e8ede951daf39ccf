"""Ours beside the papers' published figures (published.csv): the results table by bit width, the
TTQ paper's CIFAR-10 errors, the STE ablation's and the 1.58-bit study's headline figures.
"""
import csv
from pathlib import Path

import numpy as np

from study import (KD_STUDENTS, RECIPE, STE_ARMS_KEEP, TABLE_TAG, Table, bit_pair, difference,
                   group, interval, method, number, quantizer, ste_ablation_runs, ttq_top1,
                   without_batchnorm)

PUBLISHED = Path(__file__).resolve().parent / "published.csv"


def read_published(path=PUBLISHED):
    """The rows of published.csv (study, model, dataset, method, bits, metric, value, source), value
    a float."""
    with open(path, newline="") as f:
        return [dict(row, value=float(row["value"])) for row in csv.DictReader(f)]


def compared(values, published):
    """[ours, n, 95% CI, published, ours - published]; no run leaves ours, n, CI and difference
    empty."""
    if not values:
        return ["", "", "", number(published), ""]
    mean = float(np.mean(values))
    return [number(mean), str(len(values)), interval(values)[0], number(published),
            number(mean - published, signed=True)]


COMPARED = ["Ours", "n", "95% CI", "Published", "Ours - published (pts)"]
COMPARED_NOTE = ("Ours = mean over seeds of our completed runs; 95% CI = Student-t interval of "
                 "that mean (two or more seeds); an empty cell: no run yet. Published figures and "
                 "their sources: published.csv.")


def table_runs(study, model, dataset, method_name, bits):
    """Top-1 of the results table's runs (tags table_*) of one row, one recipe."""
    key = (model, dataset, method_name, bits)
    runs = [r for r in study.runs if str(r.get("tag", "")).startswith(TABLE_TAG)
            and (r["model"], r["dataset"], quantizer(r), bit_pair(r)) == key]
    return [r["top1"] for r in study.choose({key: runs}).get(key, [])] if runs else []


def published_bits_table(study, published):
    rows = [[p["model"], p["dataset"], p["method"], p["bits"]]
            + compared(table_runs(study, p["model"], p["dataset"], p["method"], p["bits"]),
                       p["value"])
            for p in published if p["study"] == "quant_table" and p["metric"] == "top1"]
    return Table("published_bits",
                 "The quantization results table: ours against published (top-1 %)",
                 ["Model", "Dataset", "Method", "W/A bits"] + COMPARED, rows,
                 [COMPARED_NOTE, "Ours: the runs of quant_table.sh and imagenet.sh (tags table_*), "
                  "each row's own recipe; the accuracy is the best test top-1 over training, as "
                  "the table reports it."], 4, "")


def published_ttq_table(study, published):
    rows = []
    for p in (p for p in published if p["study"] == "ttq_paper"):
        top1 = study.top1(p["model"], p["dataset"], p["method"])
        if p["method"] == "TTQ":
            top1 = ttq_top1(study, p["model"])
        rows.append([p["model"], p["method"]] + compared([100 - v for v in top1], p["value"]))
    return Table("published_ttq_paper", "TTQ paper, CIFAR-10 error (%): ours against published",
                 ["Model", "Method"] + COMPARED, rows,
                 [COMPARED_NOTE, "Error = 100 - top-1 (report_top1: the mean of the last 10 epochs "
                  "in ttq_paper.sh)."],
                 2, "")


def ste_cells(study, quant_name):
    """{ste: top-1 values} of the STE ablation's STE arms of one quantizer (BN, no clipping) with
    phases/ste_ablation.sh's layer policy (STE_ARMS_KEEP): what its published figures are beside."""
    arm = method(dict(quant=quant_name, keep=STE_ARMS_KEEP))
    runs = [r for r in ste_ablation_runs(study) if method(r) == arm and r.get("ste")
            and r.get("clip_factor") is None and not without_batchnorm(r)]
    chosen = study.choose(group(runs, lambda r: r["ste"]),
                          lambda ste: f"resnet20 cifar10 {arm} STE {ste}")
    return {ste: [r["top1"] for r in runs] for ste, runs in chosen.items()}


def xnor_runs(study):
    """Top-1 of the XNOR runs of ResNet-20 / CIFAR-10, full-precision activations, one recipe."""
    key = ("resnet20", "cifar10", "XNOR", "1/32")
    runs = [r for r in study.runs if (r["model"], r["dataset"], r["quant"]) == key[:2] + ("xnor",)
            and not str(r.get("tag", "")).startswith(TABLE_TAG) and (r.get("abits") or 32) == 32]
    return [r["top1"] for r in study.choose({key: runs}).get(key, [])] if runs else []


def published_ste_table(study, published):
    fp32 = study.top1("resnet20", "cifar10", "FP32")
    ternary, binary = ste_cells(study, "twn"), ste_cells(study, "bc")

    def worst_gap(cells):
        return ([float(np.mean(fp32)) - min(float(np.mean(v)) for v in cells.values())]
                if fp32 and cells else [])
    ours = {"FP32": fp32, "ternary, best STE (polynomial)": ternary.get("polynomial", []),
            "binary, best STE (tanh)": binary.get("tanh", []),
            "ternary, worst STE": worst_gap(ternary),
            "binary, worst STE": worst_gap(binary),
            "TTQ": ttq_top1(study, "resnet20"),
            "XNOR": xnor_runs(study)}
    rows = [[p["method"], p["metric"]] + compared(ours.get(p["method"], []), p["value"])
            for p in published if p["study"] == "ste_ablation"]
    return Table("published_ste",
                 "STE ablation, ResNet-20 / CIFAR-10: ours against the headline figures",
                 ["Configuration", "Figure"] + COMPARED, rows,
                 [COMPARED_NOTE, "top1 in %; gap_max = FP32 - the worst STE's mean (pts); "
                  "drop_max = the largest loss from removing batch norm (pts; not computed here: "
                  "read the ste table). The STE rows are of TWN and BC arms with conv1 and fc in "
                  "full precision, as ste_ablation.sh runs them."], 2, "")


def stem_gains(study):
    """CIFAR stem - ImageNet stem (pts) of FP32 per model on CIFAR-10/100: the stem ablation."""
    gains = [difference(study.top1(m, d, "FP32"), study.top1(m, d, "FP32", "imagenet"))
             for m, d, name, stem in study.cells
             if (name, stem) == ("FP32", "imagenet") and d in ("cifar10", "cifar100")]
    return [g for g in gains if g is not None]


def gap_rows(study, published, pairs):
    """FP32 - the recipe (pts) per model, one value per recipe seed against the FP32 mean."""
    rows = []
    for p in (p for p in published if p["study"] == "bitnet_study" and p["metric"] == "gap"):
        for m, d in pairs:
            if (d == p["dataset"] and study.mean(m, d, "FP32") is not None
                    and study.top1(m, d, RECIPE)):
                gap = [study.mean(m, d, "FP32") - v for v in study.top1(m, d, RECIPE)]
                rows.append([f"FP32 - {RECIPE} ({m})", d] + compared(gap, p["value"]))
        if not any(row[1] == p["dataset"] for row in rows):
            rows.append([f"FP32 - {RECIPE}", p["dataset"]] + compared([], p["value"]))
    return rows


def conv1_share_rows(study, published, pairs):
    """conv1's weights as % of the parameters, per model: the weights BitNet quantizes and the
    recipe keeps (results.json's quantized_params of the two)."""
    shares = {}
    for m, d in pairs:
        bitnet, kept = study.cell((m, d, "BitNet", "cifar")), study.cell((m, d, RECIPE, "cifar"))
        if bitnet and kept and bitnet[0].get("params") and kept[0].get("quantized_params"):
            conv1 = bitnet[0]["quantized_params"] - kept[0]["quantized_params"]
            shares.setdefault(m, 100 * conv1 / bitnet[0]["params"])
    rows = []
    for p in (p for p in published if p["metric"] == "conv1_share"):
        rows += ([[f"conv1 share of parameters ({m})", "all"] + compared([v], p["value"])
                  for m, v in shares.items()]
                 or [["conv1 share of parameters", "all"] + compared([], p["value"])])
    return rows


def range_rows(study, published, pairs):
    """The study's ranges (metric_low, metric_high) beside ours over model/dataset pairs."""
    recovered = [v for v in (study.gap_recovered(m, d, RECIPE) for m, d in pairs) if v is not None]
    kd = {student: [difference(study.top1(m, d, student + "+KD"), study.top1(m, d, student))
                    for m, d in pairs]
          for student in KD_STUDENTS}
    kd = {k: [v for v in values if v is not None] for k, values in kd.items()}
    ranges = {("BitNet+FP32 conv1", "recovered"): recovered,
              ("BitNet+KD", "kd_effect"): kd["BitNet"] + kd[RECIPE],
              ("FP32+KD", "kd_effect"): kd["FP32"], ("FP32", "stem_gain"): stem_gains(study)}
    lows = {(p["method"], p["metric"][:-4]): p["value"]
            for p in published if p["metric"].endswith("_low")}
    highs = {(p["method"], p["metric"][:-5]): p["value"]
             for p in published if p["metric"].endswith("_high")}
    rows = []
    for key, low in lows.items():
        ours = ranges.get(key, [])
        span = f"{min(ours):.1f} to {max(ours):.1f}" if ours else ""
        rows.append([f"{key[0]}: {key[1]}", "all"]
                    + [span, str(len(ours)) if ours else "", "",
                       f"{low:.1f} to {highs[key]:.1f}", ""])
    return rows


def published_bitnet_table(study, published):
    pairs = study.pairs()
    rows = (gap_rows(study, published, pairs) + conv1_share_rows(study, published, pairs)
            + range_rows(study, published, pairs))
    return Table("published_bitnet",
                 "The 1.58-bit study's headline figures: ours against published",
                 ["Figure", "Dataset"] + COMPARED, rows,
                 [COMPARED_NOTE, "gap in pts (per model, one value per recipe seed against the "
                  "FP32 mean); conv1 share = conv1's weights as % of all parameters (the study's "
                  "0.08% is a 7x7 ImageNet-stem conv1's share of ResNet-18, 9,408 weights; the "
                  "CIFAR stem's 3x3 conv1 has 1,728); recovered = share (%) of the FP32-BitNet gap "
                  "the FP32 first conv closes, over model/dataset pairs; kd_effect = with KD - "
                  "without (pts), over pairs (BitNet and BitNet+FP32 conv1 students for the "
                  "ternary range); stem_gain = CIFAR stem - ImageNet stem (pts), FP32, over the "
                  "models on CIFAR-10/100."],
                 2, "")


PUBLISHED_TABLES = [published_bits_table, published_ttq_table, published_ste_table,
                    published_bitnet_table]
