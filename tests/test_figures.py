"""figures.py on the fabricated results tree of tests/test_analysis.py: each figure parses as SVG
and carries its title, axes and legend; no text lies outside its canvas; single-epoch curves show a
mark; axis ticks are round."""
import json
import math
import re
import xml.etree.ElementTree as ET

import pytest

from test_analysis import run_script, study, svg_texts, write_run  # noqa: F401 (study is a fixture)


def test_figures_parse_and_carry_title_axes_and_legend(study):
    folder = study["processed"] / "figures"
    expected = {  # file: texts it must show (title, axis labels, legend entries)
        "accuracy.svg": ["Top-1 accuracy by method", "model and dataset",
                         "top-1 accuracy (%, mean ± std over seeds)",
                         "FP32", "BitNet", "BitNet+FP32 conv1", "TTQ"],
        "gap_recovery.svg": ["Share of the FP32-BitNet gap recovered by the layer kept in FP32",
                             "gap recovered (%)",
                             "conv1 in FP32", "layer1 in FP32", "layer4 in FP32", "fc in FP32",
                             "FP32 accuracy"],
        "kd_effect.svg": ["Knowledge distillation: effect on FP32 and ternary students",
                          "KD effect (points, ± standard error)",
                          "FP32 student", "BitNet student"],
        "curves_resnet18_cifar10.svg": ["Test accuracy per epoch: resnet18 on cifar10", "epoch",
                                        "test top-1 accuracy (%)", "TTQ",
                                        "band: min-max over seeds"],
        "curves_resnet18_cifar100.svg": ["Test accuracy per epoch: resnet18 on cifar100",
                                         "BitNet+FP32 conv1"],
        "seeds.svg": ["Seed-to-seed spread of the configurations with more than three seeds",
                      "configuration",
                      "top-1 minus the configuration mean (points)", "one seed", "mean",
                      "95% t-interval (bar)",
                      "resnet18 cifar100BitNet+FP32 conv1mean 72.25%, n = 10"],
        # LeNet-5 rows run: FP32 99.40 - 99.59 = -0.19 and TWN 32/32 99.60 - 99.63 = -0.03, both
        # within 0.5; each row is labelled with its method and bits
        "reproduction_lenet5_wide_mnist.svg": ["Reproduction of the results table: lenet5_wide on "
                                               "mnist",
                                          "2 of 2 rows within 0.5 pt of the published top-1 (ours: "
                                          "mean over seeds); 22 of the table's 24 not run yet",
                                          "top-1 accuracy (%)", "ours - published (points)",
                                          "published",
                                          "published ± 0.5 pt", "ours, within", "ours, outside",
                                          "FP32 32/32",
                                          "TWN 32/32", "-0.19 = 99.40 - 99.59", "-0.03 = 99.60 - "
                                          "99.63"],
    }
    assert {p.name for p in folder.iterdir()} == set(expected)
    for name, texts in expected.items():
        found = svg_texts(folder / name)
        for text in texts:
            assert text in found, (name, text)
    # no recipe+KD runs: that student has no bar and no legend entry
    assert "BitNet+FP32 conv1 student" not in svg_texts(folder / "kd_effect.svg")
    # y ticks in nice steps: accuracies up to 94.5 + 0.5 -> 0, 20, ..., 100; recovery -20% .. 100%
    assert [t for t in svg_texts(folder / "accuracy.svg")
            if t.isdigit()] == ["0", "20", "40", "60", "80", "100"]
    assert {"-20", "0", "100"} <= set(svg_texts(folder / "gap_recovery.svg"))
    assert [t for t in svg_texts(folder / "curves_resnet18_cifar10.svg")
            if t in ("1", "2", "3")] == ["1", "2", "3"]


SVG = "{http://www.w3.org/2000/svg}"
# of the font size: wider than the average glyph of Helvetica or DejaVu Sans, bold included
CHAR_WIDTH = 0.6


def text_lines(text):
    """(x, y, font size, anchor, string) of each line of an SVG <text>: its own text and each
    <tspan>."""
    # 16: SVG's default size
    size, anchor = float(text.get("font-size", 16)), text.get("text-anchor", "start")
    x, y = float(text.get("x", 0)), float(text.get("y", 0))
    lines = [(x, y, size, anchor, text.text)] if (text.text or "").strip() else []
    for span in text.iter(SVG + "tspan"):
        dy = span.get("dy", "0")
        x, y = float(span.get("x",
                              x)), y + (float(dy[:-2]) * size if dy.endswith("em") else float(dy))
        lines.append((x, y, size, anchor, span.text or ""))
    return lines


def rotated(points, transform):
    """The points under a text's transform; only rotate(angle [cx cy]) is drawn by figures.py."""
    if not transform:
        return points
    match = re.fullmatch(r"rotate\(([-\d.]+)(?:[ ,]+([-\d.]+)[ ,]+([-\d.]+))?\)", transform.strip())
    assert match, f"a transform this test cannot place: {transform}"
    angle, cx, cy = math.radians(float(match[1])), float(match[2] or 0), float(match[3] or 0)
    return [(cx + (px - cx) * math.cos(angle) - (py - cy) * math.sin(angle),
             cy + (px - cx) * math.sin(angle) + (py - cy) * math.cos(angle)) for px, py in points]


def text_boxes(path):
    """(string, [x0, y0, x1, y1]) of each line of text in an SVG: CHAR_WIDTH x font size per
    character, from a full font size above the baseline to 0.3 of it below (descenders)."""
    boxes = []
    for text in ET.parse(path).getroot().iter(SVG + "text"):
        for x, y, size, anchor, string in text_lines(text):
            width = CHAR_WIDTH * size * len(string)
            left = x - width * {"start": 0.0, "middle": 0.5, "end": 1.0}[anchor]
            corners = rotated([(left, y - size), (left + width, y - size), (left, y + 0.3 * size),
                               (left + width, y + 0.3 * size)], text.get("transform"))
            xs, ys = [p[0] for p in corners], [p[1] for p in corners]
            boxes.append((string, [min(xs), min(ys), max(xs), max(ys)]))
    return boxes


def test_every_figure_keeps_its_text_inside_the_canvas(study):
    folder = study["processed"] / "figures"
    # all figures.py draws
    kinds = {"accuracy", "gap_recovery", "kd_effect", "seeds", "curves", "reproduction"}
    assert {re.sub(r"_(resnet|lenet).*", "", p.stem) for p in folder.glob("*.svg")} == kinds
    outside = []
    for path in sorted(folder.glob("*.svg")):
        left, top, width, height = map(float, ET.parse(path).getroot().get("viewBox").split())
        for string, (x0, y0, x1, y1) in text_boxes(path):
            if x0 < left or y0 < top or x1 > left + width or y1 > top + height:
                outside.append((path.name, string, [round(v) for v in (x0, y0, x1, y1)]))
    assert not outside, outside


def test_curves_of_single_epoch_runs_show_a_mark(tmp_path):
    raw = tmp_path / "raw"
    for tag, quant in (("fp32", "fp32"), ("bitnet", "bitnet")):
        folder = write_run(raw, "cifar10", "resnet18", tag, 42, 90.0, quant=quant)
        results = json.loads((folder / "results.json").read_text())
        results["history"] = results["history"][:1]
        (folder / "results.json").write_text(json.dumps(results))
    processed = tmp_path / "processed"
    assert run_script("aggregate.py", "--results", raw, "--processed", processed).returncode == 0
    assert run_script("figures.py", "--processed", processed).returncode == 0
    root = ET.parse(processed / "figures" / "curves_resnet18_cifar10.svg").getroot()
    # one per method: a line of one point is empty
    assert len(root.findall("{http://www.w3.org/2000/svg}circle")) == 2


def test_nice_ticks():
    from figures import nice_ticks  # the root is on sys.path (conftest.py)
    assert nice_ticks(0, 95) == [0, 20, 40, 60, 80, 100]        # 95 / 6 = 15.8 -> step 20
    assert nice_ticks(86.0, 94.3) == [86, 88, 90, 92, 94, 96]  # 8.3 / 6 = 1.38 -> step 2
    assert nice_ticks(-20, 60) == [-20, 0, 20, 40, 60]           # 80 / 6 = 13.3 -> step 20
    # 0.33 -> 0.5, raised to 1 for epochs
    assert nice_ticks(1, 3, integer=True) == [1, 2, 3]
    assert nice_ticks(0.9, 1.1) == pytest.approx([0.9, 0.95, 1.0, 1.05, 1.1])  # 0.033 -> 0.05


