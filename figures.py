"""The study's figures as SVG files drawn with the standard library (no plotting package).

    python figures.py [--processed results/processed]    # writes <processed>/figures/*.svg
"""
import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from aggregate import load_runs, results_roots
from common import fail, read_json
from stability import dynamics_value, is_number, schedule_drops
from stats import mean_std, t_interval
from study import (KD_STUDENTS, MAIN_METHODS, QUANT_NAMES, TABLE_NETWORKS, Study, arm_order,
                   bc_sr_cells, keep_label, order, ste_ablation_cells)
from svg import (COLORS, MANY_COLORS, WIDTH, Plot, Scale, diamond, document, element, fit,
                 grouped_bars, heading, legend_row, line_panels, nice_ticks, tick_text)
from published import read_published, table_runs


# ----------------------------------------------------------------------------- the figures

def pair_label(model, dataset):
    return f"{model}\n{dataset}"


def accuracy_figure(study):
    """accuracy.svg: top-1 by method for each model and dataset, error bars = std."""
    pairs = study.pairs()
    if not pairs:
        return None
    cells = [[study.top1(m, d, name) for name in MAIN_METHODS] for m, d in pairs]
    means = [[mean_std(v)[0] if v else None for v in row] for row in cells]
    stds = [[mean_std(v)[1] if v else None for v in row] for row in cells]
    return grouped_bars("Top-1 accuracy by method", "top-1 accuracy (%, mean ± std over seeds)",
                        [pair_label(*p) for p in pairs], MAIN_METHODS, means, stds)


def gap_recovery_figure(study):
    """gap_recovery.svg: share of the FP32-BitNet gap recovered by each layer kept in FP32."""
    layers, pairs = study.kept_layers(), study.pairs()
    values = [[study.gap_recovered(m, d, "BitNet+FP32 " + k) for k in layers] for m, d in pairs]
    if not any(v is not None for row in values for v in row):
        return None
    return grouped_bars("Share of the FP32-BitNet gap recovered by the layer kept in FP32",
                        "gap recovered (%)", [pair_label(*p) for p in pairs],
                        [f"{k} in FP32" for k in layers], values,
                        reference=(100.0, "FP32 accuracy"))


def kd_effect_figure(study):
    """kd_effect.svg: KD effect on FP32 and ternary students, error bars = standard error."""
    pairs = study.pairs()
    values, errors = [], []
    for m, d in pairs:
        row_values, row_errors = [], []
        for student in KD_STUDENTS:
            plain, distilled = study.top1(m, d, student), study.top1(m, d, student + "+KD")
            row_values.append(float(np.mean(distilled) - np.mean(plain))
                              if plain and distilled else None)
            # standard error of a difference of two means: sqrt(s_a^2/n_a + s_b^2/n_b)
            row_errors.append(math.sqrt(sum(mean_std(v)[1] ** 2 / len(v)
                                            for v in (plain, distilled)))
                              if len(plain) > 1 and len(distilled) > 1 else None)
        values.append(row_values)
        errors.append(row_errors)
    if not any(v is not None for row in values for v in row):
        return None
    return grouped_bars("Knowledge distillation: effect on FP32 and ternary students",
                        "KD effect (points, ± standard error)", [pair_label(*p) for p in pairs],
                        [f"{s} student" for s in KD_STUDENTS], values, errors)


def curves(study, model, dataset):
    """{method: (epochs, mean, min, max)} of test top-1 over the seeds, from the runs' histories."""
    found = {}
    for name in MAIN_METHODS:
        by_epoch = {}
        for run in study.cell((model, dataset, name, "cifar")):
            results = read_json(Path(run["path"]) / "results.json") or {}
            if not results.get("history"):
                print(f"note: no history in {run['path']}/results.json; left out of the curves",
                      file=sys.stderr)
            for entry in results.get("history") or []:
                if entry.get("epoch") is not None and entry.get("test_top1") is not None:
                    by_epoch.setdefault(entry["epoch"], []).append(entry["test_top1"])
        if by_epoch:
            epochs = sorted(by_epoch)
            found[name] = (epochs, *([f(by_epoch[e]) for e in epochs] for f in (np.mean, min, max)))
    return found


def curves_figure(study, model, dataset):
    """curves_<model>_<dataset>.svg: test top-1 per epoch, mean over seeds and min-max band."""
    found = curves(study, model, dataset)
    if not found:
        return None
    epochs = [e for c in found.values() for e in c[0]]
    plot = Plot(f"Test accuracy per epoch: {model} on {dataset}", "epoch",
                "test top-1 accuracy (%)",
                (min(min(c[2]) for c in found.values()), max(max(c[3]) for c in found.values())),
                (min(epochs), max(epochs)))
    for i, name in enumerate(MAIN_METHODS):
        if name in found:
            xs, mean, low, high = found[name]
            plot.band(xs, low, high, COLORS[i])
            plot.line([(plot.x(x), plot.y(v)) for x, v in zip(xs, mean)], COLORS[i], width=2)
            if len(xs) == 1:  # a line of one point draws nothing
                plot.dot(plot.x(xs[0]), mean[0], COLORS[i])
            plot.add_legend(name, COLORS[i], "line")
    plot.add_legend("band: min-max over seeds", "#cccccc")
    return plot.svg()


def seeds_figure(study):
    """seeds.svg: every seed of the configurations run with more than three seeds, as its
    distance from its configuration's mean, so configurations of very different accuracy share one
    scale; the 95% t-interval of the mean is drawn the same way."""
    cells = study.extra_seed_cells()
    if not cells:
        return None
    values = [[r["top1"] for r in study.cell(key)] for key in cells]
    means = [float(np.mean(v)) for v in values]
    offsets = [[v - mean for v in seeds] for seeds, mean in zip(values, means)]
    intervals = [[bound - mean for bound in t_interval(seeds)] if len(seeds) > 1 else [0.0, 0.0]
                 for seeds, mean in zip(values, means)]
    plot = Plot("Seed-to-seed spread of the configurations with more than three seeds",
                "configuration", "top-1 minus the configuration mean (points)",
                (min(map(min, offsets + intervals)), max(map(max, offsets + intervals))))
    labels = [f"{m} {d}\n{name}\nmean {mean:.2f}%, n = {len(v)}"
              for (m, d, name, _), mean, v in zip(cells, means, values)]
    centres, slot = plot.categories(labels)
    half = min(slot, 240) / 2
    plot.hline(0.0, dash=None)
    for centre, seeds, interval in zip(centres, offsets, intervals):
        # golden-ratio offsets spread the dots so equal values stay visible
        for i, v in enumerate(seeds):
            plot.dot(centre - half * (0.2 + 0.6 * ((i * 0.618034) % 1)), v, COLORS[0])
        plot.line([(centre - half, plot.y(0.0)), (centre + half * 0.6, plot.y(0.0))],
                  COLORS[3], 2.5)
        plot.error_bar(centre + half * 0.4, *interval)
    plot.add_legend("one seed", COLORS[0], "dot")
    plot.add_legend("mean", COLORS[3], "line")
    plot.add_legend("95% t-interval (bar)", "black", "line")
    return plot.svg()


REPRODUCTION_BAND = 0.5  # points: the target of a reproduced row
ROW = 22  # pixels per table row in the reproduction figure
BAND_SHADE = "#cce5d2"  # COLORS[2] at opacity 0.3 on white: the legend's box matches the drawn band


def table_rows_of(published, network, dataset):
    """The results table's rows of one network (TABLE_NETWORKS: each method's form of it is one
    network) and dataset."""
    return [p for p in published
            if (p["study"], p["metric"], p["dataset"]) == ("quant_table", "top1", dataset)
            and TABLE_NETWORKS.get(p["model"], p["model"]) == network]


def reproduction_rows(study, table, dataset):
    """(label "method W/A", published, ours = mean over seeds) of each of the table's rows (one
    network's, table_rows_of) with runs."""
    rows = []
    for p in table:
        ours = table_runs(study, p["model"], dataset, p["method"], p["bits"])
        if ours:
            rows.append((f"{p['method']} {p['bits']}", p["value"], float(np.mean(ours))))
    return rows




def agreement_band(published):
    # no top-1 above 100
    return published - REPRODUCTION_BAND, min(published + REPRODUCTION_BAND, 100.0)


def reproduction_row(x, y, label, published, ours, method_changed):
    """One table row: its label, the band around published, published (diamond) and ours (dot),
    the difference."""
    color = COLORS[0] if abs(ours - published) <= REPRODUCTION_BAND else COLORS[3]
    low, high = map(x, agreement_band(published))
    parts = [element("line", x1=20, y1=y - ROW / 2, x2=WIDTH - 10, y2=y - ROW / 2, stroke="#bbbbbb")
             ] if method_changed else []  # a rule between methods groups each method's bit widths
    return parts + [
        element("rect", x=low, y=y - 0.4 * ROW, width=high - low, height=0.8 * ROW,
                fill=COLORS[2], fill_opacity=0.3),
        element("line", x1=x(published), y1=y, x2=x(ours), y2=y, stroke="#999999",
                stroke_width=1.5),
        diamond(x(published), y, "black"), element("circle", cx=x(ours), cy=y, r=5, fill=color),
        element("text", label, x=x.left - 10, y=y + 4, text_anchor="end",
                font_size=fit(label, 12, x.left - 30)),
        element("text", f"{ours - published:+.2f} = {ours:.2f} - {published:.2f}",
                x=x.right + 14, y=y + 4, font_size=11.5, fill=color)]


def reproduction_axes(x, top, bottom):
    """The column headings, the top-1 axis at the bottom and its vertical grid."""
    parts = [element("text", "method, W/A bits", x=x.left - 10, y=top - 8, text_anchor="end",
                     font_size=12, font_weight="bold"),
             element("text", "ours - published (points)", x=x.right + 14, y=top - 8,
                     font_size=12, font_weight="bold"),
             element("text", "top-1 accuracy (%)", x=(x.left + x.right) / 2, y=bottom + 44,
                     text_anchor="middle", font_size=14),
             element("line", x1=x.left, y1=bottom, x2=x.right, y2=bottom, stroke="black")]
    for tick in x.ticks:
        parts += [element("line", x1=x(tick), y1=top, x2=x(tick), y2=bottom, stroke="#e0e0e0"),
                  element("text", tick_text(tick, x.ticks), x=x(tick), y=bottom + 18,
                          text_anchor="middle", font_size=12)]
    return parts


def reproduction_figure(study, published, network, dataset):
    """reproduction_<network>_<dataset>.svg: the results table as a dot plot, a labelled row per
    table row with runs, ours beside published and its band of REPRODUCTION_BAND points."""
    table = table_rows_of(published, network, dataset)
    rows = reproduction_rows(study, table, dataset)
    if not rows:
        return None
    inside = sum(abs(ours - pub) <= REPRODUCTION_BAND for _, pub, ours in rows)
    not_run = f"; {len(table) - len(rows)} of the table's {len(table)} not run yet" * (
        len(table) > len(rows))
    values = [v for _, pub, ours in rows for v in (*agreement_band(pub), ours)]
    x, top = Scale(nice_ticks(min(values), max(values)), 150, 640), 110
    bottom = top + ROW * len(rows)
    parts = [element("rect", x=0, y=0, width=WIDTH, height=bottom + 64, fill="white"),
             heading(f"Reproduction of the results table: {network} on {dataset}", WIDTH / 2),
             heading(f"{inside} of {len(rows)} rows within {REPRODUCTION_BAND} pt of the "
                     f"published top-1 (ours: mean over seeds){not_run}", WIDTH / 2, y=54,
                     size=14, bold=False),
             *legend_row([("published", "black", "diamond"),
                          (f"published ± {REPRODUCTION_BAND} pt", BAND_SHADE, "box"),
                          ("ours, within", COLORS[0], "dot"),
                          ("ours, outside", COLORS[3], "dot")], 80),
             *reproduction_axes(x, top, bottom)]
    methods = [label.split()[0] for label, _, _ in rows]
    for i, (label, pub, ours) in enumerate(rows):
        method_changed = 0 < i and methods[i] != methods[i - 1]
        parts += reproduction_row(x, top + ROW * (i + 0.5), label, pub, ours, method_changed)
    return document(parts, bottom + 64)


# ----------------------------------------------------------------- quantizer dynamics

def seed_mean_series(runs, key):
    """(epochs, values) of one key of the dynamics record over the runs' histories: each epoch's
    mean over the seeds that recorded it."""
    by_epoch = {}
    for run in runs:
        for entry in (read_json(Path(run["path"]) / "results.json") or {}).get("history") or []:
            value = dynamics_value(entry, key) if isinstance(entry, dict) else None
            if value is not None and is_number(entry.get("epoch")):
                by_epoch.setdefault(entry["epoch"], []).append(value)
    epochs = sorted(by_epoch)
    return epochs, [float(np.mean(by_epoch[e])) for e in epochs]


def shared_drops(runs):
    """The lr drops of the runs' step schedule when they share one, else none."""
    drops = {tuple(schedule_drops(r)) for r in runs}
    return drops.pop() if len(drops) == 1 else ()


def dynamics_ste_figure(study):
    """dynamics_ste.svg: flip and oscillation rate per epoch of the STE ablation's STE arms (BN, no
    clipping), one line per STE, the mean over its seeds; a row per weights' kind (ternary first)
    and layer policy."""
    cells = {key: runs for key, runs in ste_ablation_cells(study).items()
             if key[4] != "default" and key[5] is None and not key[6]}
    stes = sorted({key[4] for key in cells})
    colors = {ste: MANY_COLORS[i % len(MANY_COLORS)] for i, ste in enumerate(stes)}
    panels = []
    for family in ("ternary", "binary"):
        arms = sorted((key for key in cells if key[2] == family), key=arm_order)
        for name in dict.fromkeys(arm[3] for arm in arms) or [""]:  # a row per layer policy
            named = [arm for arm in arms if arm[3] == name]
            for key, measure in (("flip_rate", "flip rate"),
                                 ("oscillation_rate", "oscillation rate")):
                panels.append((f"{family} ({name}): {measure}", "share of weights per step",
                               [(arm[4], *seed_mean_series(cells[arm], key)) for arm in named]))
    runs = [r for arm_runs in cells.values() for r in arm_runs]
    return line_panels("STE ablation, ResNet-20 / CIFAR-10: weights changing code",
                       "one line per STE, mean over seeds, log scale; dashed: lr drops",
                       panels, colors, log=True, drops=shared_drops(runs))


def dynamics_bc_sr_figure(study):
    """dynamics_bc_sr.svg: flip rate per epoch of BC and SR at each batch size, the mean over
    seeds, a panel per model and dataset."""
    cells = bc_sr_cells(study)
    arms = sorted({(quant, batch) for _, _, batch, quant in cells},
                  key=lambda arm: (arm[0], arm[1] or 0))
    labels = {arm: f"{QUANT_NAMES[arm[0]]}, batch {arm[1]}" for arm in arms}
    colors = {labels[arm]: MANY_COLORS[i % len(MANY_COLORS)] for i, arm in enumerate(arms)}
    panels = [(f"{m} on {d}", "flip rate, share per step",
               [(labels[q, b], *seed_mean_series(cells[m, d, b, q], "flip_rate"))
                for q, b in arms if (m, d, b, q) in cells])
              for m, d in sorted({key[:2] for key in cells}, key=order)]
    runs = [r for arm_runs in cells.values() for r in arm_runs]
    return line_panels("BinaryConnect against stochastic rounding: weights changing code",
                       "flip rate per epoch, mean over seeds, log scale; dashed: lr drops",
                       panels, colors, log=True, drops=shared_drops(runs))


def ttq_run(study):
    """The run dynamics_ttq_layers.svg draws, of the TTQ runs with a dynamics.jsonl: the TTQ paper's
    pre-activation ResNet-20 / CIFAR-10 seed 42 (its authors' recipe, conv1 kept, before any
    other), else the first seed 42 by path, else the first by path (seed 123's folder sorts before
    seed 42's)."""
    found = sorted((r for r in study.runs if r["quant"] == "ttq"
                    and (Path(r["path"]) / "dynamics.jsonl").is_file()),
                   key=lambda r: (r.get("seed") != 42, r["path"]))
    paper = sorted((r for r in found if (r["model"], r["dataset"], r.get("seed"))
                    == ("preact_resnet20", "cifar10", 42)), key=lambda r: keep_label(r) != "conv1")
    return (paper + found + [None])[0]


def layer_records(path):
    """{layer: [(epoch, record)]} of a dynamics.jsonl in the model's layer order; a line that is not
    a JSON record is left out (a run killed mid-write)."""
    layers = {}
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("layers"), dict):
            for name, record in entry["layers"].items():
                if is_number(entry.get("epoch")) and isinstance(record, dict):
                    layers.setdefault(name, []).append((entry["epoch"], record))
    return layers


def layer_series(records, part, key):
    """(epochs, values) of record[part][key] (scales or levels) over a layer's epochs."""
    points = [(epoch, (record.get(part) or {}).get(key)) for epoch, record in records]
    points = [(epoch, value) for epoch, value in points if is_number(value)]
    return [epoch for epoch, _ in points], [value for _, value in points]


TTQ_LINES = {"W_p, positive scale": ("scales", "positive"),
             "W_n, negative scale": ("scales", "negative"), "share at -1": ("levels", "-1"),
             "share at 0": ("levels", "0"), "share at +1": ("levels", "1")}


def dynamics_ttq_layers_figure(study):
    """dynamics_ttq_layers.svg: one TTQ run's (ttq_run) first, middle and last quantized layer per
    epoch: its scales W_p and W_n, and the shares of its weights at -1, 0 and +1."""
    run = ttq_run(study)
    if run is None:
        return None
    layers = list(layer_records(Path(run["path"]) / "dynamics.jsonl").items())
    chosen = dict.fromkeys(layers[i][0] for i in (0, len(layers) // 2, -1)) if layers else {}
    colors = {label: COLORS[i] for i, label in enumerate(TTQ_LINES)}
    panels = []
    for name, records in (layer for layer in layers if layer[0] in chosen):
        for what, ylabel, labels in (("scales", "scale", list(TTQ_LINES)[:2]),
                                     ("codes", "share of weights", list(TTQ_LINES)[2:])):
            panels.append((f"{name}: {what}", ylabel,
                           [(label, *layer_series(records, *TTQ_LINES[label]))
                            for label in labels]))
    return line_panels(
        f"TTQ per layer: {run['model']} on {run['dataset']}, {run['tag']}, seed {run['seed']}",
        "the first, a middle and the last quantized layer, per epoch (dynamics.jsonl); dashed: lr "
        "drops", panels, colors, drops=shared_drops([run]))


def figures(study):
    """{file name: SVG text or None when its runs are absent}."""
    found = {"accuracy.svg": accuracy_figure(study), "gap_recovery.svg": gap_recovery_figure(study),
             "kd_effect.svg": kd_effect_figure(study), "seeds.svg": seeds_figure(study)}
    for m, d in study.pairs():
        found[f"curves_{m}_{d}.svg"] = curves_figure(study, m, d)
    published = read_published()
    for m, d in sorted({(TABLE_NETWORKS.get(p["model"], p["model"]), p["dataset"])
                        for p in published if p["study"] == "quant_table"}):
        svg = reproduction_figure(study, published, m, d)
        if svg:
            found[f"reproduction_{m}_{d}.svg"] = svg
    for name, draw in (("dynamics_ste.svg", dynamics_ste_figure),
                       ("dynamics_bc_sr.svg", dynamics_bc_sr_figure),
                       ("dynamics_ttq_layers.svg", dynamics_ttq_layers_figure)):
        svg = draw(study)
        if svg:  # drawn where runs recorded their dynamics, as the reproduction figures
            found[name] = svg
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processed", default="results/processed",
                        help="folder holding aggregated.csv; figures go to its figures/ "
                             "(default results/processed)")
    args = parser.parse_args()
    # the runs of aggregated.csv; study.py's Study chooses the runs, recipes and accuracy drawn
    runs = load_runs(args.processed)
    study = Study(runs)
    out = Path(args.processed) / "figures"
    drawn = figures(study)
    notes, repeats = study.take_notes()  # of the cells the figures read
    for line in dict.fromkeys(notes + repeats):
        print(f"warning: {line}", file=sys.stderr)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for old in [*out.glob("curves_*.svg"), *out.glob("reproduction_*.svg"),
                    *out.glob("dynamics_*.svg")]:
            if old.name not in drawn:  # an old figure must not outlive its runs
                old.unlink()
        for name, svg in drawn.items():
            if svg is None:
                (out / name).unlink(missing_ok=True)
                print(f"note: skipped figure {name}: no runs for it", file=sys.stderr)
            else:
                (out / name).write_text(svg)
    except OSError as e:
        fail(f"cannot write to {out}: {e.strerror}")
    written = [name for name, svg in drawn.items() if svg is not None]
    print(f"{len(written)} figures of the {len(runs)} runs in {results_roots(runs)} written to "
          f"{out}: {', '.join(written)}")


if __name__ == "__main__":
    main()
