"""Stability measures and quantizer dynamics through aggregate.py, tables.py and figures.py: each
measure worked out by hand on a made-up history, and the tables and figures of generated run folders
in the real layout (the derivations are in the comments)."""
import json
import xml.etree.ElementTree as ET

import pytest

from aggregate import load_runs
from stability import (epochs_to_95, flip_rates_before_drops, history_measures, loss_spikes,
                       phase_flip_rates, top1_change_std)
from test_analysis import BASE_CONFIG, read_csv, row_of, run_script, svg_texts, table_rows
from test_figures import text_boxes

STEP = dict(schedule="step", milestones=[2, 4], epochs=6)  # lr drops after epochs 2 and 4
FLIPS = [0.1, 0.3, 0.05, 0.07, 0.01, 0.03]  # phases: 0.2, 0.06, 0.02; before the drops 0.3, 0.07


def history(top1, losses=None, flips=None):
    """Per-epoch entries as train.py writes them; a dynamics record only where flips are given."""
    entries = []
    for i, acc in enumerate(top1):
        entry = dict(epoch=i + 1, train_loss=losses[i] if losses else 1.0, test_loss=1.0,
                     test_top1=acc, test_top5=99.0, lr=0.1, seconds=1.0)
        if flips:
            entry["dynamics"] = dict(flip_rate=flips[i], oscillation_rate=flips[i] / 4,
                                     zero_share=0.4, levels={"-1": 0.3, "0": 0.4, "1": 0.3})
        entries.append(entry)
    return entries


def make_run(raw, model, tag, seed, entries, layers=None, **config):
    """A completed run folder results/raw/<dataset>/<model>/<tag>_s<seed>/, with a dynamics.jsonl
    of {layer: record} per epoch when layers are given."""
    config = dict(BASE_CONFIG, model=model, dataset="cifar10", seed=seed, tag=tag, **config)
    folder = raw / "cifar10" / model / f"{tag}_s{seed}"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(dict(config, run_dir=str(folder))))
    top1 = entries[-1]["test_top1"]
    (folder / "results.json").write_text(json.dumps(dict(
        status="completed", report_top1=top1, best_top1=max(e["test_top1"] for e in entries),
        final_top1=top1, epochs_completed=len(entries), epochs=len(entries), history=entries)))
    if layers:
        (folder / "dynamics.jsonl").write_text("".join(
            json.dumps({"epoch": epoch, "layers": records}) + "\n"
            for epoch, records in enumerate(layers, 1)) + '{"epoch": 7, "lay')  # a torn last line


def ttq_layers(epochs=6):
    """Five layers' records per epoch: scales and code shares that drift with the epoch."""
    names = ["layer1.0.conv1", "layer1.0.conv2", "layer2.0.conv1", "layer3.0.conv1", "fc"]
    return [{name: {"scales": {"positive": 0.1 + 0.01 * e + 0.02 * i, "negative": 0.09 + 0.01 * e},
                    "levels": {"-1": 0.3, "0": 0.4 - 0.02 * e, "1": 0.3 + 0.02 * e}}
             for i, name in enumerate(names)} for e in range(epochs)]


# ------------------------------------------------------------------------ the measures by hand

def test_stability_measures_by_hand():
    # losses 1, 2, 1.9, 3.0: 2 > 1.5, 1.9 < 3.0, 3.0 > 2.85 -> 2 spikes
    assert loss_spikes(history([50] * 4, losses=[1, 2, 1.9, 3.0])) == 2
    # ten epochs: the last ceil(10 / 5) = 2 changes, into epochs 9 (+2) and 10 (-1): mean +0.5,
    # deviations 1.5 each, std (ddof=0) 1.5; 95% of the final 92 is 87.4, first reached at epoch 6
    top1 = history([50, 60, 70, 80, 85, 88, 90, 91, 93, 92])
    assert top1_change_std(top1) == pytest.approx(1.5)
    assert epochs_to_95(top1) == 6
    # five epochs give ceil(5 / 5) = 1 change: no std
    assert top1_change_std(history([50, 60, 70, 80, 85])) is None
    assert [f(history([])) for f in (top1_change_std, loss_spikes, epochs_to_95)] == [None] * 3


def test_flip_rates_per_phase_and_before_each_drop_by_hand():
    six = history([80] * 6, flips=FLIPS)  # milestones 2, 4: epochs 1-2, 3-4, 5-6
    assert phase_flip_rates(six, [2, 4]) == pytest.approx([0.2, 0.06, 0.02])
    assert flip_rates_before_drops(six, [2, 4]) == pytest.approx([0.3, 0.07])
    del six[1]["dynamics"]  # epoch 2 without a record: phase 1 is epoch 1 alone
    assert phase_flip_rates(six, [2, 4]) == pytest.approx([0.1, 0.06, 0.02])
    assert flip_rates_before_drops(six, [2, 4])[0] is None
    # a run from before the dynamics record: absent, never 0
    assert phase_flip_rates(history([80] * 6), [2, 4]) is None
    old = history_measures(history([80] * 6), STEP)
    assert [old[k] for k in ("final_flip_rate", "final_oscillation_rate", "final_zero_share",
                             "flip_rate_phases", "flip_rate_before_drops")] == [None] * 5
    # a cosine schedule is one phase, without drops
    cosine = history_measures(history([80] * 6, flips=FLIPS), dict(schedule="cosine"))
    assert cosine["flip_rate_phases"] == pytest.approx([0.56 / 6])
    assert cosine["flip_rate_before_drops"] == []


# ------------------------------------------------------------- aggregate, tables and figures

def build_tree(raw):
    r20 = dict(shortcut="A", **STEP)
    # TWN, STE tanh, two seeds. Seed 42: top-1 ends 88, 90 (changes +3, +2 over the last
    # ceil(6 / 5) = 2 epochs: std 0.5), 95% of 90 = 85.5 first reached at epoch 5; losses 1.5 ->
    # 1.2 -> 1.9 one spike. Seed 123: changes +3, +1 (std 1.0), 95% of 91 = 86.45 at epoch 4 (87);
    # spikes 2.0 -> 3.5 and 0.9 -> 2.0
    make_run(raw, "resnet20", "twn_ste-tanh", 42,
             history([50, 70, 80, 85, 88, 90], [2.0, 1.5, 1.2, 1.9, 1.0, 0.9], FLIPS),
             quant="twn", ste="tanh", **r20)
    make_run(raw, "resnet20", "twn_ste-tanh", 123,
             history([60, 75, 85, 87, 90, 91], [2.0, 3.5, 1.2, 1.0, 0.9, 2.0],
                     [0.2, 0.5, 0.03, 0.09, 0.02, 0.01]), quant="twn", ste="tanh", **r20)
    make_run(raw, "resnet20", "twn_ste-identity", 42, history([50, 70, 80, 85, 88, 90]),
             quant="twn", ste="identity", **r20)  # a run from before the dynamics record
    make_run(raw, "resnet20", "bc_ste-tanh", 42, history([50, 70, 80, 85, 88, 90], flips=FLIPS),
             quant="bc", ste="tanh", **r20)
    # the same arm with conv1 and fc in full precision, as ste_ablation.sh runs it: its own row;
    # flips before the drops 0.5 and 0.09, in the last epoch 0.01
    make_run(raw, "resnet20", "bc_keep-conv1-fc_ste-tanh", 42,
             history([60, 75, 85, 87, 90, 91], flips=[0.2, 0.5, 0.03, 0.09, 0.02, 0.01]),
             quant="bc", ste="tanh", keep=["conv1", "fc"], **r20)
    # BC against SR: BC phases (0.2, 0.06, 0.02) and (0.3, 0.1, 0.04), means 0.25, 0.08, 0.03;
    # SR at 128 (0.3, 0.1, 0.05); SR alone at batch 256
    li = dict(optimizer="adam", lr=0.01, **STEP)
    make_run(raw, "resnet56", "bc", 42, history([80] * 6, flips=FLIPS), quant="bc", **li)
    make_run(raw, "resnet56", "bc", 123, history([80] * 6, flips=[0.2, 0.4, 0.1, 0.1, 0.03, 0.05]),
             quant="bc", **li)
    make_run(raw, "resnet56", "sr", 42, history([80] * 6, flips=[0.4, 0.2, 0.1, 0.1, 0.05, 0.05]),
             quant="sr", **li)
    make_run(raw, "resnet56", "sr_bs256", 42, history([80] * 6, flips=FLIPS), quant="sr",
             batch_size=256, **li)
    # TTQ: the TTQ paper's pre-activation ResNet-20 seed 42 is drawn, not the alexnet run whose
    # folder sorts first
    for model in ("alexnet", "preact_resnet20"):
        make_run(raw, model, "ttq_keep-conv1", 42, history([80] * 6, flips=FLIPS), ttq_layers(),
                 quant="ttq", keep=["conv1"])


@pytest.fixture(scope="module")
def dynamics(tmp_path_factory):
    root = tmp_path_factory.mktemp("dynamics")
    raw, processed = root / "results" / "raw", root / "results" / "processed"
    build_tree(raw)
    out = {script: run_script(f"{script}.py", *args) for script, args in
           (("aggregate", ("--results", raw)), ("tables", ("--processed", processed)),
            ("figures", ("--processed", processed)))}
    for result in out.values():
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return dict(out, processed=processed)


def rows_of(dynamics, table):
    return table_rows((dynamics["processed"] / "tables" / f"{table}.md").read_text())


def test_aggregated_csv_reads_the_measures_back_as_numbers_and_missing_as_empty(dynamics):
    by_tag = {(r["tag"], r["seed"]): r for r in read_csv(dynamics["processed"] / "aggregated.csv")}
    old = by_tag[("twn_ste-identity", "42")]
    assert [old[k] for k in ("final_flip_rate", "final_oscillation_rate", "final_zero_share",
                             "flip_rate_phases", "flip_rate_before_drops")] == [""] * 5
    runs = {(r["tag"], r["seed"]): r for r in load_runs(dynamics["processed"])}
    run = runs[("twn_ste-tanh", 42)]
    assert (run["final_flip_rate"], run["final_oscillation_rate"],
            run["final_zero_share"]) == pytest.approx((0.03, 0.0075, 0.4))
    assert (run["top1_change_std"], run["loss_spikes"], run["epochs_to_95"]) == (0.5, 1, 5)
    assert run["flip_rate_phases"] == pytest.approx([0.2, 0.06, 0.02])
    assert run["flip_rate_before_drops"] == pytest.approx([0.3, 0.07])


def test_stability_table_means_over_the_seeds_of_each_arm(dynamics):
    # top-1 90 and 91: mean 90.50, sample std sqrt(0.5) = 0.71; change std (0.5 + 1.0) / 2 = 0.75;
    # spikes (1 + 2) / 2 = 1.5; epochs to 95% (5 + 4) / 2 = 4.5; flips before the drops
    # (0.3 + 0.5) / 2 = 40% and (0.07 + 0.09) / 2 = 8%, in the last epoch (0.03 + 0.01) / 2 = 2%
    rows = rows_of(dynamics, "stability_ste_ablation")
    assert row_of(rows, "Weights", "STE")[5:] == [
        "Top-1 change std (pts)", "Loss spikes", "Epochs to 95%", "Flip, epoch 2 (%)",
        "Flip, epoch 4 (%)", "Flip, last epoch (%)"]
    assert row_of(rows, "ternary (TWN)", "tanh") == [
        "ternary (TWN)", "tanh", "–", "yes", "90.50 ± 0.71 (2)", "0.75", "1.50", "4.5",
        "40", "8", "2"]
    # the run without a dynamics record: its measures of the history, and no flip rates
    assert row_of(rows, "ternary (TWN)", "identity")[4:] == [
        "90.00 (1)", "0.50", "0.00", "5.0", "–", "–", "–"]
    assert row_of(rows, "binary (BC)", "tanh")[8:] == ["30", "7", "3"]
    assert row_of(rows, "binary (BC+FP32 conv1,fc)", "tanh")[4:5] + row_of(
        rows, "binary (BC+FP32 conv1,fc)", "tanh")[8:] == ["91.00 (1)", "50", "9", "1"]
    tex = (dynamics["processed"] / "tables" / "stability_ste_ablation.tex").read_text()
    assert r"ternary (TWN) & tanh & -- & yes & 90.50 $\pm$ 0.71 (2)" in tex


def test_bc_sr_flip_rates_per_lr_phase(dynamics):
    rows = rows_of(dynamics, "dynamics_bc_sr")
    assert row_of(rows, "Model", "Dataset", "Batch size", "BC, epochs 1-2 (%)") == [
        "Model", "Dataset", "Batch size", "BC, epochs 1-2 (%)", "BC, epochs 3-4 (%)",
        "BC, epochs 5-6 (%)", "SR, epochs 1-2 (%)", "SR, epochs 3-4 (%)", "SR, epochs 5-6 (%)"]
    assert row_of(rows, "resnet56", "cifar10", "128") == [
        "resnet56", "cifar10", "128", "25", "8", "3", "30", "10", "5"]
    assert row_of(rows, "resnet56", "cifar10", "256") == [
        "resnet56", "cifar10", "256", "–", "–", "–", "20", "6", "2"]


def test_dynamics_figures_are_drawn_from_the_run_folders(dynamics):
    folder = dynamics["processed"] / "figures"
    expected = {
        "dynamics_ste.svg": ["STE ablation, ResNet-20 / CIFAR-10: weights changing code",
                             "ternary (TWN): flip rate", "binary (BC): oscillation rate",
                             "binary (BC+FP32 conv1,fc): flip rate",
                             "tanh", "epoch", "1e-1"],
        "dynamics_bc_sr.svg": ["BinaryConnect against stochastic rounding: weights changing code",
                               "resnet56 on cifar10", "BC, batch 128", "SR, batch 256"],
        "dynamics_ttq_layers.svg": ["TTQ per layer: preact_resnet20 on cifar10, ttq_keep-conv1, "
                                    "seed 42", "layer1.0.conv1: scales", "layer2.0.conv1: codes",
                                    "fc: scales", "W_p, positive scale", "share at +1"]}
    for name, texts in expected.items():
        found = svg_texts(folder / name)
        assert [t for t in texts if t not in found] == [], name
        left, top, width, height = map(float, ET.parse(folder / name).getroot()
                                       .get("viewBox").split())
        outside = [s for s, (x0, y0, x1, y1) in text_boxes(folder / name)
                   if x0 < left or y0 < top or x1 > left + width or y1 > top + height]
        assert outside == [], (name, outside)
    # an arm without a record draws no line and has no legend entry; of five layers, the first,
    # the third and the last are drawn
    assert "identity" not in svg_texts(folder / "dynamics_ste.svg")
    assert "layer1.0.conv2: scales" not in svg_texts(folder / "dynamics_ttq_layers.svg")


def test_no_dynamics_no_dynamics_figures(tmp_path):
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    make_run(raw, "resnet20", "twn_ste-tanh", 42, history([50, 70, 80]), quant="twn", ste="tanh")
    (processed / "figures").mkdir(parents=True)
    (processed / "figures" / "dynamics_ste.svg").write_text("<svg/>")  # from older runs
    assert run_script("aggregate.py", "--results", raw, "--processed", processed).returncode == 0
    result = run_script("figures.py", "--processed", processed)
    assert result.returncode == 0, result.stderr
    assert list((processed / "figures").glob("dynamics_*.svg")) == []


def test_ttq_layer_figure_falls_back_to_seed_42_not_the_first_folder(tmp_path):
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    for seed in (123, 42):  # ttq_s123 sorts before ttq_s42
        make_run(raw, "resnet20", "ttq", seed, history([80] * 3, flips=FLIPS[:3]), ttq_layers(3),
                 quant="ttq")
    assert run_script("aggregate.py", "--results", raw, "--processed", processed).returncode == 0
    result = run_script("figures.py", "--processed", processed)
    assert result.returncode == 0, result.stderr
    texts = svg_texts(processed / "figures" / "dynamics_ttq_layers.svg")
    assert "TTQ per layer: resnet20 on cifar10, ttq, seed 42" in texts


def test_ttq_layer_figure_draws_the_ttq_authors_recipe_before_another_that_sorts_first(tmp_path):
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    for tag, keep in (("ttq_keep-conv1-fc", ["conv1", "fc"]), ("ttq_keep-conv1", ["conv1"])):
        make_run(raw, "preact_resnet20", tag, 42, history([80] * 3, flips=FLIPS[:3]),
                 ttq_layers(3), quant="ttq", keep=keep)
    assert run_script("aggregate.py", "--results", raw, "--processed", processed).returncode == 0
    assert run_script("figures.py", "--processed", processed).returncode == 0
    texts = svg_texts(processed / "figures" / "dynamics_ttq_layers.svg")
    assert any(t.startswith("TTQ per layer: preact_resnet20 on cifar10, ttq_keep-conv1, seed 42")
               for t in texts), texts
