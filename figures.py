"""The study's figures as SVG files drawn with the standard library (no plotting package).

    python figures.py [--processed results/processed]    # writes <processed>/figures/*.svg
"""
import argparse
import math
import sys
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from aggregate import load_runs
from common import fail, read_json
from stats import mean_std, t_interval
from study import KD_STUDENTS, MAIN_METHODS, Study
from tables import TABLE_NETWORKS, read_published, table_runs

WIDTH, HEIGHT = 900, 540
LEFT, RIGHT, TOP, BOTTOM = 80, 670, 60, 440  # the plot area; the legend sits right of it
# a glyph's width over the font size, generous for Helvetica and DejaVu: text is never measured,
# only sized and placed from this estimate of its width so that it stays inside the canvas
CHAR_EM = 0.6
COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c"]


# ----------------------------------------------------------------------------- SVG toolkit
# axes, "nice" ticks, bars, lines and legend, which every figure is drawn with

def nice_ticks(low, high, count=6, integer=False):
    """About `count` round tick values (steps of 1, 2 or 5 times a power of ten) covering
    [low, high]; integer=True keeps the step at 1 or more (epochs)."""
    if high <= low:
        low, high = low - 1, high + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(step, 1) if integer else step
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    return [round(i * step, 10) for i in range(first, last + 1)]


def tick_text(value, ticks):
    step = ticks[1] - ticks[0]
    return f"{value:.{max(0, -math.floor(math.log10(step)))}f}"


def element(tag, text=None, **attrs):
    """An SVG element; attribute names use _ for - (stroke_width) and floats are rounded."""
    rendered = " ".join(
        f"{k.replace('_', '-')}={quoteattr(f'{v:.2f}' if isinstance(v, float) else str(v))}"
        for k, v in attrs.items() if v is not None)
    return (f"<{tag} {rendered}>{escape(text)}</{tag}>" if text is not None
            else f"<{tag} {rendered}/>")


def fit(text, size, room):
    """The font size, at most `size`, at which the longest line of text is estimated to fit
    `room` pixels."""
    return min(size, room / (CHAR_EM * max(1, *(len(line) for line in str(text).split("\n")))))


def heading(text, centre, y=32, size=18, bold=True):
    """A centred title, shrunk to fit the canvas and moved in from an edge it would cross."""
    size = fit(text, size, WIDTH - 40)
    half = CHAR_EM * size * len(text) / 2
    return element("text", text, x=min(max(centre, half + 20), WIDTH - half - 20), y=y,
                   text_anchor="middle", font_size=size, font_weight="bold" if bold else None)


def diamond(x, y, color, radius=6):
    return element("polygon",
                   points=f"{x:.2f},{y - radius:.2f} {x + radius:.2f},{y:.2f} "
                          f"{x:.2f},{y + radius:.2f} {x - radius:.2f},{y:.2f}",
                   fill=color)


def legend_marker(kind, color, x, y):
    """The sample drawn before a legend label, 20 pixels wide from x: a line, a dot, a diamond or
    a box."""
    if kind == "line":
        return element("line", x1=x, y1=y, x2=x + 20, y2=y, stroke=color, stroke_width=3)
    if kind == "dot":
        return element("circle", cx=x + 10, cy=y, r=5, fill=color)
    if kind == "diamond":
        return diamond(x + 10, y, color)
    return element("rect", x=x + 2, y=y - 7, width=14, height=14, fill=color)


def document(parts, height=HEIGHT):
    """The SVG file around the drawn elements."""
    body = "\n".join(parts)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" font-family="Helvetica, Arial, sans-serif">\n'
            f'{body}\n</svg>\n')


class Plot:
    """One SVG figure: title, y axis with ticks and grid, an x axis (numeric or categories),
    legend."""

    def __init__(self, title, xlabel, ylabel, yrange, xrange=None):
        self.yticks = nice_ticks(*yrange)
        self.xticks = nice_ticks(*xrange, integer=True) if xrange else None
        self.parts = [element("rect", x=0, y=0, width=WIDTH, height=HEIGHT, fill="white"),
                      heading(title, (LEFT + RIGHT) / 2),
                      element("text", xlabel, x=(LEFT + RIGHT) / 2, y=HEIGHT - 20,
                              text_anchor="middle", font_size=14),
                      element("text", ylabel, x=22, y=(TOP + BOTTOM) / 2, text_anchor="middle",
                              font_size=14, transform=f"rotate(-90 22 {(TOP + BOTTOM) / 2})")]
        for tick in self.yticks:
            self.parts.append(element("line", x1=LEFT, y1=self.y(tick), x2=RIGHT, y2=self.y(tick),
                                      stroke="#e0e0e0"))
            self.text(tick_text(tick, self.yticks), LEFT - 8, self.y(tick) + 4, anchor="end")
        for tick in self.xticks or []:
            self.line([(self.x(tick), BOTTOM), (self.x(tick), BOTTOM + 5)])
            self.text(tick_text(tick, self.xticks), self.x(tick), BOTTOM + 20)
        self.legend_entries = []

    def x(self, value):
        """Pixel of a numeric x value (numeric axis) or of a fraction of the width (categories)."""
        low, high = (self.xticks[0], self.xticks[-1]) if self.xticks else (0.0, 1.0)
        return LEFT + (value - low) / (high - low) * (RIGHT - LEFT)

    def y(self, value):
        low, high = self.yticks[0], self.yticks[-1]
        return BOTTOM - (value - low) / (high - low) * (BOTTOM - TOP)

    def text(self, text, x, y, size=12, anchor="middle"):
        """Text at pixel (x, y); each newline starts a line below."""
        lines = str(text).split("\n")
        spans = "".join(element("tspan", line, x=x, dy=0 if i == 0 else "1.2em")
                        for i, line in enumerate(lines))
        self.parts.append(f'<text x="{x:.2f}" y="{y:.2f}" font-size="{size}" '
                          f'text-anchor="{anchor}">{spans}</text>')

    def line(self, points, color="black", width=1, dash=None):
        self.parts.append(element("polyline",
                                  points=" ".join(f"{x:.2f},{y:.2f}" for x, y in points),
                                  fill="none", stroke=color, stroke_width=width,
                                  stroke_dasharray=dash))

    def band(self, xs, lows, highs, color):
        """A shaded area between two curves (data coordinates)."""
        outline = [(self.x(x), self.y(v)) for x, v in zip(xs, highs)] + \
                  [(self.x(x), self.y(v)) for x, v in zip(xs[::-1], lows[::-1])]
        self.parts.append(element("polygon",
                                  points=" ".join(f"{x:.2f},{y:.2f}" for x, y in outline),
                                  fill=color, fill_opacity=0.2, stroke="none"))

    def bar(self, left, width, value, color):
        """A bar from 0 (or the axis bottom) to value; left and width in pixels."""
        base = self.y(min(max(0.0, self.yticks[0]), self.yticks[-1]))
        top = self.y(value)
        self.parts.append(element("rect", x=left, y=min(base, top), width=width,
                                  height=abs(base - top), fill=color))

    def error_bar(self, x, low, high, cap=4):
        """A vertical error bar at pixel x between two data values."""
        self.line([(x, self.y(low)), (x, self.y(high))], width=1.2)
        for v in (low, high):
            self.line([(x - cap, self.y(v)), (x + cap, self.y(v))], width=1.2)

    def dot(self, x, value, color, radius=4):
        self.parts.append(element("circle", cx=x, cy=self.y(value), r=radius, fill=color,
                                  fill_opacity=0.8))

    def hline(self, value, label=None, dash="6 4"):
        """A reference line across the plot, labelled at its right end."""
        self.line([(LEFT, self.y(value)), (RIGHT, self.y(value))], color="#555555", dash=dash)
        if label:
            self.text(label, RIGHT - 4, self.y(value) - 5, size=11, anchor="end")

    def categories(self, labels):
        """Category labels under the x axis; returns the pixel centre and width of each slot."""
        width = (RIGHT - LEFT) / len(labels)
        centres = [LEFT + (i + 0.5) * width for i in range(len(labels))]
        # one size: neighbours must not overlap
        size = min(fit(label, 12, width - 6) for label in labels)
        for centre, label in zip(centres, labels):
            self.text(label, centre, BOTTOM + 20, size=round(size, 1))
        return centres, width

    def add_legend(self, label, color, kind="box"):
        self.legend_entries.append((label, color, kind))

    def svg(self):
        """The finished document: plot frame, legend and every element."""
        frame = [element("line", x1=LEFT, y1=TOP, x2=LEFT, y2=BOTTOM, stroke="black"),
                 element("line", x1=LEFT, y1=BOTTOM, x2=RIGHT, y2=BOTTOM, stroke="black")]
        legend = []
        for i, (label, color, kind) in enumerate(self.legend_entries):
            y = TOP + 10 + 22 * i
            legend += [legend_marker(kind, color, RIGHT + 20, y),
                       element("text", label, x=RIGHT + 48, y=y + 4,
                               font_size=fit(label, 12, WIDTH - RIGHT - 58))]
        return document(self.parts + frame + legend)


def grouped_bars(title, ylabel, groups, series, values, errors=None, reference=None):
    """Bars of values[g][s] (None: no bar) for each group g, one colour per series s, optional
    symmetric error bars errors[g][s] and a labelled reference line (value, label). Groups and
    series without any bar are left out."""
    filled = [g for g, row in enumerate(values) if any(v is not None for v in row)]
    groups, values = [groups[g] for g in filled], [values[g] for g in filled]
    errors = errors and [errors[g] for g in filled]
    drawn = [(v, (errors[g][s] if errors else None) or 0.0)
             for g, row in enumerate(values) for s, v in enumerate(row) if v is not None]
    low = min([0.0] + [v - e for v, e in drawn] + ([reference[0]] if reference else []))
    high = max([0.0] + [v + e for v, e in drawn] + ([reference[0]] if reference else []))
    plot = Plot(title, "model and dataset", ylabel, (low, high))
    centres, slot = plot.categories(groups)
    shown = [s for s in range(len(series)) if any(row[s] is not None for row in values)]
    bar_width = 0.8 * slot / len(shown)
    for g, centre in enumerate(centres):
        for position, s in enumerate(shown):
            value = values[g][s]
            if value is None:
                continue
            left = centre - 0.4 * slot + position * bar_width
            plot.bar(left + 1, bar_width - 2, value, COLORS[s % len(COLORS)])
            if errors and errors[g][s]:
                plot.error_bar(left + bar_width / 2, value - errors[g][s], value + errors[g][s])
    if low < 0 < high:
        plot.hline(0.0, dash=None)
    if reference:
        plot.hline(*reference)
    for s in shown:  # a series keeps its colour when another one has no bars
        plot.add_legend(series[s], COLORS[s % len(COLORS)])
    return plot.svg()


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


def reproduction_rows(study, published, network, dataset):
    """(label "method W/A", published, ours = mean over seeds) of each row of the results table
    with runs, for one network (TABLE_NETWORKS: the wide LeNet-5's forms are one network)."""
    rows = []
    for p in published:
        key = (p["study"], p["metric"], TABLE_NETWORKS.get(p["model"], p["model"]), p["dataset"])
        if key == ("quant_table", "top1", network, dataset):
            ours = table_runs(study, p["model"], dataset, p["method"], p["bits"])
            if ours:
                rows.append((f"{p['method']} {p['bits']}", p["value"], float(np.mean(ours))))
    return rows


def legend_row(entries, y):
    """A legend laid out in one line, centred on the canvas: (label, colour, kind) each."""
    widths = [34 + CHAR_EM * 12 * len(label) + 18 for label, _, _ in entries]
    x, parts = (WIDTH - sum(widths)) / 2, []
    for (label, color, kind), width in zip(entries, widths):
        parts += [legend_marker(kind, color, x, y),
                  element("text", label, x=x + 28, y=y + 4, font_size=12)]
        x += width
    return parts


class Scale:
    """Pixel of a data value on a horizontal axis from left to right (pixels) over the ticks'
    range."""

    def __init__(self, ticks, left, right):
        self.ticks, self.left, self.right = ticks, left, right

    def __call__(self, value):
        fraction = (value - self.ticks[0]) / (self.ticks[-1] - self.ticks[0])
        return self.left + fraction * (self.right - self.left)


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
    rows = reproduction_rows(study, published, network, dataset)
    if not rows:
        return None
    inside = sum(abs(ours - pub) <= REPRODUCTION_BAND for _, pub, ours in rows)
    values = [v for _, pub, ours in rows for v in (*agreement_band(pub), ours)]
    x, top = Scale(nice_ticks(min(values), max(values)), 150, 640), 110
    bottom = top + ROW * len(rows)
    parts = [element("rect", x=0, y=0, width=WIDTH, height=bottom + 64, fill="white"),
             heading(f"Reproduction of the results table: {network} on {dataset}", WIDTH / 2),
             heading(f"{inside} of {len(rows)} rows within {REPRODUCTION_BAND} pt of the "
                     "published top-1 (ours: mean over seeds)", WIDTH / 2, y=54, size=14,
                     bold=False),
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
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processed", default="results/processed",
                        help="folder holding aggregated.csv; figures go to its figures/ "
                             "(default results/processed)")
    args = parser.parse_args()
    # the runs of aggregated.csv; study.py's Study chooses the runs, recipes and accuracy drawn
    study = Study(load_runs(args.processed))
    out = Path(args.processed) / "figures"
    drawn = figures(study)
    notes, repeats = study.take_notes()  # of the cells the figures read
    for line in dict.fromkeys(notes + repeats):
        print(f"warning: {line}", file=sys.stderr)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for old in [*out.glob("curves_*.svg"), *out.glob("reproduction_*.svg")]:
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
    print(f"{len(written)} figures written to {out}: {', '.join(written)}")


if __name__ == "__main__":
    main()
