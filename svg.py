"""The SVG drawing primitives of figures.py, in the standard library alone: the canvas, "nice"
ticks, text sized to fit, a one-panel plot with bars and lines, and line charts in panels."""
import math
from xml.sax.saxutils import escape, quoteattr

WIDTH, HEIGHT = 900, 540
LEFT, RIGHT, TOP, BOTTOM = 80, 670, 60, 440  # the plot area; the legend sits right of it
# a glyph's width over the font size, generous for Helvetica and DejaVu: text is never measured,
# only sized and placed from this estimate of its width so that it stays inside the canvas
CHAR_EM = 0.6
COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c"]
# eleven or more lines in one panel (the STE arms): Tableau's ten and black
MANY_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#7f7f7f", "#bcbd22", "#17becf", "#000000"]


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


# ----------------------------------------------------------------------------- panels of lines
# a figure of small line charts, two a row, sharing one legend at the right of the rows

PANEL_WIDTH, PANEL_HEIGHT = 345, 240  # one cell of the grid, its titles and ticks included
PANELS_TOP = 74  # below the figure's title and subtitle
LEGEND_X = 2 * PANEL_WIDTH + 16


class Panel:
    """One line chart in grid cell i (row i // 2, column i % 2): title, y label, ticks and grid; the
    y axis linear or log10 (ticks at the powers of ten)."""

    def __init__(self, i, title, ylabel, xrange, yrange, log=False):
        self.left = (i % 2) * PANEL_WIDTH + 72
        self.right = (i % 2 + 1) * PANEL_WIDTH - 12
        self.top = PANELS_TOP + (i // 2) * PANEL_HEIGHT + 26
        self.bottom = PANELS_TOP + (i // 2 + 1) * PANEL_HEIGHT - 46
        self.log = log
        self.xrange = xrange if xrange[1] > xrange[0] else (xrange[0], xrange[0] + 1)
        if log:
            low = math.floor(math.log10(yrange[0]))
            self.yticks = list(range(low, max(math.ceil(math.log10(yrange[1])), low + 1) + 1))
        else:
            self.yticks = nice_ticks(*yrange, count=4)
        middle = (self.top + self.bottom) / 2
        self.parts = [element("text", title, x=(self.left + self.right) / 2, y=self.top - 10,
                              text_anchor="middle", font_weight="bold",
                              font_size=fit(title, 13, self.right - self.left + 40)),
                      element("text", ylabel, x=self.left - 52, y=middle, text_anchor="middle",
                              font_size=fit(ylabel, 12, self.bottom - self.top),
                              transform=f"rotate(-90 {self.left - 52} {middle})"),
                      element("text", "epoch", x=(self.left + self.right) / 2,
                              y=self.bottom + 36, text_anchor="middle", font_size=12)]
        for tick in self.yticks:
            label = f"1e{tick}" if log else tick_text(tick, self.yticks)
            self.parts += [element("line", x1=self.left, y1=self.y(tick, True), x2=self.right,
                                   y2=self.y(tick, True), stroke="#e0e0e0"),
                           element("text", label, x=self.left - 6, y=self.y(tick, True) + 4,
                                   text_anchor="end", font_size=11)]
        for tick in nice_ticks(*self.xrange, count=5, integer=True):
            if self.xrange[0] <= tick <= self.xrange[1]:
                self.parts += [element("line", x1=self.x(tick), y1=self.bottom, x2=self.x(tick),
                                       y2=self.bottom + 4, stroke="black"),
                               element("text", str(tick), x=self.x(tick), y=self.bottom + 17,
                                       text_anchor="middle", font_size=11)]

    def x(self, value):
        low, high = self.xrange
        return self.left + (value - low) / (high - low) * (self.right - self.left)

    def y(self, value, tick=False):
        """Pixel of a data value, or of a tick (on a log axis, a power of ten)."""
        value = value if tick or not self.log else math.log10(value)
        low, high = self.yticks[0], self.yticks[-1]
        return self.bottom - (value - low) / (high - low) * (self.bottom - self.top)

    def series(self, xs, ys, color):
        """A line through the points; on a log axis a value of 0 breaks it (it has no place)."""
        runs, run = [], []
        for x, y in zip(xs, ys):
            if self.log and y <= 0:
                runs, run = runs + [run], []
            else:
                run.append((self.x(x), self.y(y)))
        for points in [*runs, run]:
            if len(points) == 1:
                self.parts.append(element("circle", cx=points[0][0], cy=points[0][1], r=2.5,
                                          fill=color))
            elif points:
                self.parts.append(element("polyline", fill="none", stroke=color, stroke_width=1.5,
                                          points=" ".join(f"{x:.2f},{y:.2f}" for x, y in points)))

    def vline(self, x):
        """A dashed vertical line at data x (an lr drop), where x is on the axis."""
        if self.xrange[0] <= x <= self.xrange[1]:
            self.parts.append(element("line", x1=self.x(x), y1=self.top, x2=self.x(x),
                                      y2=self.bottom, stroke="#888888", stroke_dasharray="4 3"))

    def frame(self):
        return [element("line", x1=self.left, y1=self.top, x2=self.left, y2=self.bottom,
                        stroke="black"),
                element("line", x1=self.left, y1=self.bottom, x2=self.right, y2=self.bottom,
                        stroke="black")]


def line_panels(title, subtitle, panels, colors, log=False, drops=()):
    """A grid of line charts: panels are (title, y label, [(label, xs, ys)]), colours {label:
    colour}, dashed lines at the epochs of `drops`; panels without a point are left out, and the
    figure is None when every one is."""
    panels = [(name, ylabel, [line for line in lines if line[1]]) for name, ylabel, lines in panels]
    panels = [panel for panel in panels if panel[2]]
    if not panels:
        return None
    xs = [x for _, _, lines in panels for _, line_xs, _ in lines for x in line_xs]
    parts, shown = [], {}
    for i, (name, ylabel, lines) in enumerate(panels):
        ys = [y for _, _, line_ys in lines for y in line_ys if y > 0 or not log]
        panel = Panel(i, name, ylabel, (min(xs), max(xs)), (min(ys or [1]), max(ys or [1])), log)
        for drop in drops:
            panel.vline(drop)
        for label, line_xs, line_ys in lines:
            panel.series(line_xs, line_ys, colors[label])
            shown[label] = colors[label]
        parts += panel.parts + panel.frame()
    height = PANELS_TOP + PANEL_HEIGHT * ((len(panels) + 1) // 2) + 8
    legend = [part for i, (label, color) in enumerate(shown.items())
              for part in (legend_marker("line", color, LEGEND_X, PANELS_TOP + 30 + 22 * i),
                           element("text", label, x=LEGEND_X + 28, y=PANELS_TOP + 34 + 22 * i,
                                   font_size=fit(label, 12, WIDTH - LEGEND_X - 36)))]
    return document([element("rect", x=0, y=0, width=WIDTH, height=height, fill="white"),
                     heading(title, WIDTH / 2),
                     heading(subtitle, WIDTH / 2, y=54, size=13, bold=False), *parts, *legend],
                    height)
