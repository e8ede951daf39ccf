"""What a user reads is what ran: a table cell holds one recipe and counts distinct seeds, on a
fabricated results tree run through aggregate.py, tables.py and figures.py as a user runs them; each
expected number is worked out by hand in a comment."""
import pytest

from test_analysis import read_csv, row_of, run_script, svg_texts, table_rows, write_cell, write_run

SEEDS = [42, 123, 456]
R20 = dict(shortcut="A", epochs=160)
TABLE = dict(epochs=200, optimizer="adam", report="best")  # quant_table.sh's kind of recipe
T20 = dict(R20, **TABLE)
P20 = dict(epochs=800, batch_size=256, normalize="pixel")  # ttq_paper.sh's kind of recipe


def build_tree(raw):
    """Runs of two recipes in cells of the main, TTQ-paper, STE, BC/SR, bit-width and published
    tables, and one seed run twice with one recipe under two tags (tests/test_analysis.py's
    writers)."""
    r18, r20, c10 = "resnet18", "resnet20", "cifar10"
    write_cell(raw, c10, r18, "fp32", [91.0, 91.2, 91.4])
    write_cell(raw, c10, r18, "table_fp32", [80.0], seeds=[42], **TABLE)
    write_cell(raw, c10, r18, "bitnet", [90.0, 91.0, 92.0], quant="bitnet")
    write_cell(raw, c10, r18, "bitnet_again", [50.0], seeds=[42], quant="bitnet")  # seed 42 again
    # four distinct seeds, seed 789 run twice; and a cell of one seed beyond the standard three
    c100 = dict(num_classes=100, quant="bitnet")
    write_cell(raw, "cifar100", r18, "bitnet", [66.0, 67.0, 68.0, 69.0], SEEDS + [789], **c100)
    write_cell(raw, "cifar100", r18, "bitnet_rerun", [10.0], seeds=[789], **c100)
    write_cell(raw, "cifar100", r18, "ttq", [60.0], seeds=[789], **dict(c100, quant="ttq"))
    write_cell(raw, c10, r20, "fp32", [92.0, 92.2, 92.4], **R20)
    write_cell(raw, c10, r20, "table_fp32", [80.0], seeds=[42], **T20)
    write_cell(raw, c10, r20, "ttq", [91.0, 91.4, 91.8], quant="ttq", **R20)
    poly = dict(R20, quant="twn", ste="polynomial", keep=["conv1", "fc"])  # as ste_ablation.sh
    write_cell(raw, c10, r20, "twn_keep-conv1-fc_ste-polynomial", [91.0, 91.2, 91.4], **poly)
    write_cell(raw, c10, r20, "twn_keep-conv1-fc_ste-polynomial_lr", [80.0], seeds=[42], lr=0.01,
               **poly)
    # the same STE with every layer ternary, in more seeds: an arm of its own
    write_cell(raw, c10, r20, "twn_ste-polynomial", [50.0] * 4, seeds=SEEDS + [789],
               **dict(poly, keep=[]))
    write_cell(raw, c10, r20, "bc", [88.0, 89.0, 90.0], quant="bc", **R20)
    write_cell(raw, c10, r20, "bc_lr", [60.0], seeds=[42], quant="bc", lr=0.01, **R20)
    # one recipe, its third seed trained from a later commit: counted, and said
    write_cell(raw, c10, r20, "sr", [84.0, 85.0], seeds=SEEDS[:2], quant="sr", **R20)
    write_cell(raw, c10, r20, "sr", [86.0], seeds=SEEDS[2:], quant="sr", git_commit="def5678",
               **R20)
    write_cell(raw, c10, r20, "dorefa_w1a32", [84.0, 84.5, 85.0], quant="dorefa", wbits=1, **R20)
    write_cell(raw, c10, r20, "dorefa_w1a32_lr", [70.0], seeds=[42], quant="dorefa", wbits=1,
               lr=0.01, **R20)
    w1, redbit = dict(T20, quant="dorefa", wbits=1), "resnet20_redbit_preact"  # DoReFa's form
    write_cell(raw, c10, redbit, "table_dorefa_w1a32", [84.0], seeds=[42], keep=["conv1", "fc"],
               **w1)
    write_cell(raw, c10, redbit, "table_dorefa_w1a32_nokeep", [70.0], seeds=[42], **w1)
    write_cell(raw, c10, r20, "xnor", [60.0, 61.0, 62.0], quant="xnor", **R20)
    write_cell(raw, c10, r20, "xnor_lr", [40.0], seeds=[42], quant="xnor", lr=0.01, **R20)
    # the TTQ authors' setup: FP32 in two recipes, TTQ with conv1 kept, and a conv1,fc TTQ run
    # that is not the authors' recipe
    pre = "preact_resnet20"
    write_cell(raw, c10, pre, "fp32_norm-pixel_bs256", [92.0, 92.2, 92.4], **P20)
    write_cell(raw, c10, pre, "fp32_short", [20.0], seeds=[42], **dict(P20, epochs=3))
    write_cell(raw, c10, pre, "ttq_keep-conv1", [91.0, 91.4, 91.8], quant="ttq", keep=["conv1"],
               **P20)
    write_cell(raw, c10, pre, "ttq_keep-conv1-fc", [50.0], seeds=[42], quant="ttq",
               keep=["conv1", "fc"], **P20)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("recipes")
    raw, processed = root / "raw", root / "processed"
    build_tree(raw)
    out = dict(aggregate=run_script("aggregate.py", "--results", raw, "--processed", processed))
    out["tables"] = run_script("tables.py", "--processed", processed)
    out["figures"] = run_script("figures.py", "--processed", processed)
    for script in ("aggregate", "tables", "figures"):
        assert out[script].returncode == 0, out[script].stderr
    out.update(raw=raw.resolve(), processed=processed)
    return out


def rows(study, table):
    """The body rows of one table tables.py wrote."""
    return table_rows((study["processed"] / "tables" / f"{table}.md").read_text())[1:]


def notes(study, table):
    return (study["processed"] / "tables" / f"{table}.md").read_text().splitlines()


def warnings(study, script):
    return study[script].stderr.splitlines()


def test_a_cell_holds_one_recipe_and_names_what_it_left_out(study):
    # FP32 is fp32's three seeds (91.0/91.2/91.4: 91.20 +- 0.20), never averaged with table_fp32's
    main = row_of(rows(study, "main"), "resnet18", "cifar10")
    assert main[2:4] == ["91.20 ± 0.20 (3)", "91.00 ± 1.00 (3)"]
    note = ("resnet18 cifar10 FP32 ran 2 recipes: used tags fp32 (n = 3, the most seeds); left out "
            "tags table_fp32 (n = 1; settings used -> left out: epochs 3 -> 200, optimizer sgd -> "
            "adam, report final -> best).")
    assert note in notes(study, "main") and note in notes(study, "gap")
    assert f"warning: {note}" in warnings(study, "tables")
    assert study["tables"].stderr.count(note) == 1  # read by the main and gap tables, warned once
    assert f"warning: {note}" in warnings(study, "figures")  # accuracy.svg draws that cell too


def test_ttq_paper_and_published_tables_use_one_recipe(study):
    # FP32 errors 8.0/7.8/7.6 (not table_fp32's 20.0): 7.80 +- 0.20; TTQ 9.0/8.6/8.2: 8.60 +- 0.40
    assert row_of(rows(study, "ttq_paper"), "resnet20") == [
        "resnet20", "7.80 ± 0.20 (3)", "8.60 ± 0.40 (3)", "+0.80"]
    note = "resnet20 cifar10 FP32 ran 2 recipes: used tags fp32 (n = 3, the most seeds)"
    assert any(line.startswith(note) for line in notes(study, "ttq_paper"))
    # the authors' pre-activation ResNet-20: FP32 7.80 (3), not fp32_short's 80.0; TTQ with conv1
    # kept, 8.60 (3), never the conv1,fc run's 50.0
    assert row_of(rows(study, "ttq_paper"), "preact_resnet20") == [
        "preact_resnet20", "7.80 ± 0.20 (3)", "8.60 ± 0.40 (3)", "+0.80"]
    # errors 8.0/7.8/7.6 -> 7.80, s = 0.2, t(0.975, 2) = 4.30265, half-width 0.4968; published 8.23
    published = rows(study, "published_ttq_paper")
    assert row_of(published, "preact_resnet20", "FP32") == [
        "preact_resnet20", "FP32", "7.80", "3", "[7.30, 8.30]", "8.23", "-0.43"]
    assert row_of(published, "preact_resnet20", "TTQ")[2:4] + row_of(
        published, "preact_resnet20", "TTQ")[5:] == ["8.60", "3", "8.87", "-0.27"]
    # the STE headlines: FP32 92.20 (3); TWN polynomial 91.2 (3) with conv1 and fc kept, as the
    # phase runs it, not lr 0.01's 80.0 nor every layer ternary's 50.0 (4); XNOR 61 (3)
    ste = rows(study, "published_ste")
    assert row_of(ste, "FP32", "top1")[2:4] == ["92.20", "3"]
    assert row_of(ste, "ternary, best STE (polynomial)", "top1")[2:4] == ["91.20", "3"]
    assert row_of(ste, "XNOR", "top1")[2:4] == ["61.00", "3"]
    twn = ("resnet20 cifar10 TWN+FP32 conv1,fc STE polynomial ran 2 recipes: used tags "
           "twn_keep-conv1-fc_ste-polynomial (n = 3")
    assert any(line.startswith(twn) for line in notes(study, "published_ste"))
    xnor = ("resnet20 cifar10 XNOR 1/32 ran 2 recipes: used tags xnor (n = 3, the most seeds); "
            "left out tags xnor_lr (n = 1; settings used -> left out: lr 0.1 -> 0.01).")
    assert xnor in notes(study, "published_ste")
    # a tie (one seed each) goes to the first tag; never the mean of 84.0 and 70.0
    bits = row_of(rows(study, "published_bits"), "resnet20_redbit_preact", "cifar10", "DoReFa",
                  "1/32")
    assert bits[4:6] == ["84.00", "1"]
    tie = ("resnet20_redbit_preact cifar10 DoReFa 1/32 ran 2 recipes: used tags table_dorefa_w1a32 "
           "(n = 1, tied "
           "on seeds, first by tag); left out tags table_dorefa_w1a32_nokeep (n = 1; settings used "
           '-> left out: keep ["conv1", "fc"] -> []).')
    assert tie in notes(study, "published_bits")
    assert f"warning: {tie}" in warnings(study, "tables")


def test_tables_with_their_own_grouping_use_one_recipe(study):
    # STE table: TWN polynomial 91.0/91.2/91.4 only, and every layer ternary a row of its own
    ste = rows(study, "ste")
    assert row_of(ste, "resnet20", "cifar10", "ternary", "TWN+FP32 conv1,fc")[4:] == [
        "polynomial", "–", "yes", "91.20 ± 0.20 (3)"]
    assert row_of(ste, "resnet20", "cifar10", "ternary", "TWN")[4:] == [
        "polynomial", "–", "yes", "50.00 ± 0.00 (4)"]
    assert ("resnet20 cifar10 TWN+FP32 conv1,fc STE polynomial, clip –, BN ran 2 recipes"
            in study["tables"].stderr)
    # BC against SR: BC 88/89/90 without bc_lr's 60.0: +4.00, p 0.008 as in tests/test_analysis.py
    assert row_of(rows(study, "bc_sr"), "resnet20", "cifar10", "128") == [
        "resnet20", "cifar10", "128", "89.00 ± 1.00 (3)", "85.00 ± 1.00 (3)", "+4.00", "0.008"]
    assert any(line.startswith("resnet20 cifar10 128 bc ran 2 recipes: used tags bc (n = 3, the "
                               "most seeds)") for line in notes(study, "bc_sr"))
    assert ("resnet20 cifar10 128 sr: its seeds ran from 2 commits of the code: abc1234 (seed 42, "
            "123); def5678 (seed 456)" in [line.strip("- *") for line in notes(study, "bc_sr")])
    # bit widths (columns 32/32, 2/32, 1/32): DoReFa 1/32 is dorefa_w1a32's 84.0/84.5/85.0
    assert row_of(rows(study, "bits"), "resnet20", "cifar10", "DoReFa") == [
        "resnet20", "cifar10", "DoReFa", "–", "–", "84.50 ± 0.50 (3)"]
    note = ("resnet20 cifar10 DoReFa 1/32 ran 2 recipes: used tags dorefa_w1a32 (n = 3, the most "
            "seeds); left out tags dorefa_w1a32_lr (n = 1; settings used -> left out: "
            "lr 0.1 -> 0.01).")
    assert note in notes(study, "bits")
    # a run with layers kept in FP32 is a row of its own, not left out (32/32, 2/32, 1/32)
    bits = rows(study, "bits")
    redbit = "resnet20_redbit_preact"
    assert row_of(bits, redbit, "cifar10", "DoReFa")[3:] == ["–", "–", "70.00 (1)"]
    kept = row_of(bits, redbit, "cifar10", "DoReFa+FP32 conv1,fc")
    assert kept[3:] == ["–", "–", "84.00 (1)"]


def test_n_counts_distinct_seeds_and_a_repeated_seed_is_warned(study):
    # BitNet resnet18/cifar10: seed 42 ran as bitnet and bitnet_again; bitnet, first by tag, counts
    assert row_of(rows(study, "main"), "resnet18", "cifar10")[3] == "91.00 ± 1.00 (3)"
    folder = study["raw"] / "cifar10" / "resnet18"
    warning = (f"warning: seed 42 ran twice with one recipe, counted once: {folder / 'bitnet_s42'} "
               f"(counted) and {folder / 'bitnet_again_s42'} (left out)")
    assert warning in warnings(study, "tables")
    assert warning in warnings(study, "aggregate")
    summary = {(r["dataset"], r["tags"]): r for r in read_csv(study["processed"] / "summary.csv")}
    bitnet = summary[("cifar10", "bitnet bitnet_again")]
    assert [bitnet[k] for k in ("n", "seeds", "mean", "min")] == ["3", "42 123 456", "91.0", "90.0"]
    rerun = summary[("cifar100", "bitnet bitnet_rerun")]
    assert (rerun["n"], rerun["seeds"], rerun["min"]) == ("4", "42 123 456 789", "66.0")


def test_power_table_and_seeds_figure_list_more_than_three_distinct_seeds(study):
    # 66/67/68/69 (seed 789's rerun at 10.0 left out): mean 67.5, s = sqrt(5/3) = 1.290994;
    # half-width t(0.975, 3) s / 2 = 3.182446 * 0.645497 = 2.054275. Seeds 42/123/456: mean 67,
    # s = 1, half-width t(0.975, 2) / sqrt(3) = 4.302653 / 1.732051 = 2.484138
    # no FP32 run on CIFAR-100 here: no gap to it
    assert rows(study, "power") == [["resnet18", "cifar100", "BitNet", "4", "67.50 ± 1.29",
                                     "[65.45, 69.55]", "± 2.05", "[64.52, 69.48]", "± 2.48",
                                     "–", "–", "–"]]
    texts = svg_texts(study["processed"] / "figures" / "seeds.svg")  # TTQ's single seed 789: none
    assert "resnet18 cifar100BitNetmean 67.50%, n = 4" in texts
    assert not any(t.startswith("resnet18 cifar100TTQ") for t in texts)


def test_students_of_two_teachers_are_two_recipes_and_normalization_is_per_run(tmp_path):
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    for teacher, accuracies in (("fp32", [91.0, 91.2]), ("fp32_long", [95.0, 95.2])):
        # each seed's own normalization, as on synthetic data, and teacher digest, as when each
        # seed learns from its own seed's FP32 run
        for seed, top1 in zip(SEEDS, accuracies):
            write_run(raw, "cifar10", "resnet18", f"bitnet_kd_{teacher}", seed, top1,
                      quant="bitnet",
                      kd=f"results/raw/cifar10/resnet18/{teacher}_s42/final.pt",
                      norm_mean=[seed, 0, 0], kd_digest=f"{teacher}{seed}")
    assert run_script("aggregate.py", "--results", raw, "--processed", processed).returncode == 0
    summary = {r["tags"]: r for r in read_csv(processed / "summary.csv")}
    assert [(summary[t]["n"], summary[t]["kd"])
            for t in ("bitnet_kd_fp32", "bitnet_kd_fp32_long")] == \
        [("2", "cifar10/resnet18/fp32"), ("2", "cifar10/resnet18/fp32_long")]


def test_stem_table_has_rows_of_both_arms_only_not_where_that_stem_is_the_default():
    import tables as tables_py
    from study import Study

    def cell(model, dataset, stem, base):
        return [dict(status="completed", model=model, dataset=dataset, quant="fp32", stem=stem,
                     seed=s, top1=base + s, tag="t", path=f"r/{dataset}/{model}/{stem}{s}")
                for s in (1, 2)]
    runs = cell("alexnet", "imagenet", "imagenet", 50) + cell("resnet18", "cifar10", "cifar", 90)
    runs += cell("resnet18", "imagefolder", "imagenet", 70)  # 224 px images: the default stem
    study = Study(runs + cell("resnet18", "cifar10", "imagenet", 88))
    assert [row[:2] for row in tables_py.stem_table(study).rows] == [["resnet18", "cifar10"]]


def test_a_cell_names_the_commits_its_seeds_ran_from_and_the_seeds_that_recorded_none():
    from study import commits_note
    runs = [dict(seed=123, git_commit="abc1234" + "0" * 33), dict(seed=42, git_commit="abc1234"),
            dict(seed=456, git_commit=None)]
    assert commits_note("cell", runs) == ["cell: its seeds ran from 2 commits of the code: "
                                          "abc1234 (seed 42, 123); unrecorded (seed 456)"]
    assert commits_note("cell", runs[:2]) == []  # one commit, long or short


def test_a_bit_pair_without_wbits_is_the_methods_own_weight_width():
    from study import bit_pair
    # XNOR-Net, BinaryConnect and stochastic rounding store 1-bit weights, TWN and TTQ ternary
    expected = {"xnor": "1/1", "bc": "1/32", "sr": "1/32", "twn": "2/32", "ttq": "2/32",
                "dorefa": "32/32", "fp32": "32/32"}
    for quant, pair in expected.items():
        abits = 1 if quant == "xnor" else None
        assert bit_pair(dict(quant=quant, abits=abits)) == pair, quant


def test_runs_from_before_and_after_a_quantized_first_layer_took_the_image_are_two_recipes(
        tmp_path):
    # DoReFa 2/2 seeds 42 and 123 record quant_forward 2 (their conv1 takes the image as it is),
    # seed 456 none (its conv1 clipped the image: another model); BitNet's forward never changed,
    # so its runs with and without the field are one recipe
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    dorefa = dict(quant="dorefa", wbits=2, abits=2)
    write_cell(raw, "cifar10", "resnet18", "dorefa_w2a2", [80.0, 81.0], seeds=SEEDS[:2],
               quant_forward=2, **dorefa)
    write_cell(raw, "cifar10", "resnet18", "dorefa_w2a2_old", [60.0], seeds=SEEDS[2:], **dorefa)
    write_cell(raw, "cifar10", "resnet18", "bitnet", [90.0, 91.0], seeds=SEEDS[:2],
               quant="bitnet", quant_forward=2)
    write_cell(raw, "cifar10", "resnet18", "bitnet_old", [92.0], seeds=SEEDS[2:], quant="bitnet")
    # conv1 kept in full precision: the forward never changed, one recipe with or without the field
    kept = dict(dorefa, keep=["conv1", "fc"])
    write_cell(raw, "cifar10", "resnet18", "dorefa_keep", [70.0, 71.0], seeds=SEEDS[:2],
               quant_forward=2, **kept)
    write_cell(raw, "cifar10", "resnet18", "dorefa_keep_old", [72.0], seeds=SEEDS[2:], **kept)
    assert run_script("aggregate.py", "--results", raw, "--processed", processed).returncode == 0
    summary = {r["tags"]: (r["n"], r["quant_forward"]) for r in read_csv(processed / "summary.csv")}
    assert summary == {"dorefa_w2a2": ("2", "2"), "dorefa_w2a2_old": ("1", "1"),
                       "bitnet bitnet_old": ("3", ""), "dorefa_keep dorefa_keep_old": ("3", "")}
    tables = run_script("tables.py", "--processed", processed)
    assert tables.returncode == 0, tables.stderr
    # the bits table's DoReFa 2/2 cell: 80.0 and 81.0 (80.50 +- 0.71), the old run left out
    note = ("resnet18 cifar10 DoReFa 2/2 ran 2 recipes: used tags dorefa_w2a2 (n = 2, the most "
            "seeds); left out tags dorefa_w2a2_old (n = 1; settings used -> left out: "
            "quant_forward 2 -> 1).")
    assert f"warning: {note}" in tables.stderr.splitlines()
    bits = (processed / "tables" / "bits.md").read_text()
    assert row_of(table_rows(bits)[1:], "resnet18", "cifar10", "DoReFa") == [
        "resnet18", "cifar10", "DoReFa", "80.50 ± 0.71 (2)"]
    # 70.0, 71.0 and 72.0 of one recipe: 71.00 +- 1.00
    assert row_of(table_rows(bits)[1:], "resnet18", "cifar10", "DoReFa+FP32 conv1,fc")[3] == (
        "71.00 ± 1.00 (3)")
