"""aggregate.py, tables.py and figures.py on a bad or partial results tree, as a user runs them: a
missing or empty folder, scripts run out of order, absent studies, a second results folder, cells
of one seed, runs set aside or moved, partial records (tests/test_analysis.py's writers)."""
import shutil

import pytest

from test_analysis import read_csv, row_of, run_script, table_rows, write_cell, write_run


@pytest.mark.parametrize("make", [lambda root: root / "nothing-here",
                                  lambda root: (root / "empty").mkdir() or root / "empty"])
def test_missing_or_empty_results_folder_is_one_error_line(tmp_path, make):
    result = run_script("aggregate.py", "--results", make(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "processed").exists()


@pytest.mark.parametrize("script", ["tables.py", "figures.py"])
def test_tables_and_figures_without_aggregate_are_one_error_line(tmp_path, script):
    result = run_script(script, "--processed", tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "aggregate.py" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_absent_studies_are_skipped_with_a_note(tmp_path):
    raw, processed = tmp_path / "scratch" / "raw", tmp_path / "out"
    write_cell(raw, "cifar10", "resnet18", "fp32", [93.0, 93.5, 94.0])
    write_cell(raw, "cifar10", "resnet18", "bitnet", [90.0, 91.0, 92.0], quant="bitnet")
    (processed / "tables").mkdir(parents=True)
    (processed / "tables" / "kd.md").write_text("a table from older runs")
    assert run_script("aggregate.py", "--results", raw, "--processed", processed).returncode == 0
    assert not (tmp_path / "scratch" / "processed").exists()  # --processed is honoured
    result = run_script("tables.py", "--processed", processed)
    assert result.returncode == 0
    skipped = {"kd", "layers", "stem", "power", "ttq_paper", "ste", "stability_ste_ablation",
               "bc_sr", "dynamics_bc_sr", "bits"}
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: skipped table")]
    assert {line.split("'")[1] for line in notes} == skipped
    # stale kd.md gone; the published tables are always written, with empty cells where no run
    # exists
    assert {p.stem for p in (processed / "tables").iterdir()} == {
        "main", "gap", "efficiency",
        "published_bits", "published_ttq_paper", "published_ste", "published_bitnet"}
    # no recipe runs: the gap is there but nothing recovers it
    gap = row_of(table_rows(result.stdout), "resnet18", "cifar10", "93.50", "91.00")
    assert gap[4:] == ["2.50", "–", "–", "–"]
    figures = run_script("figures.py", "--processed", processed)
    assert figures.returncode == 0
    assert ({p.name for p in (processed / "figures").iterdir()}
            == {"accuracy.svg", "curves_resnet18_cifar10.svg"})
    assert figures.stderr.count("note: skipped figure") == 3


def test_a_second_results_folder_is_refused_the_first_ones_processed_folder(tmp_path):
    first, second, processed = (tmp_path / "A" / name for name in ("raw", "raw2", "processed"))
    write_cell(first, "cifar10", "resnet18", "fp32", [93.0, 93.5, 94.0])
    write_cell(second, "cifar10", "resnet18", "bitnet", [90.0, 91.0, 92.0], quant="bitnet")
    assert run_script("aggregate.py", "--results", first).returncode == 0
    aggregated = (processed / "aggregated.csv").read_text()
    result = run_script("aggregate.py", "--results", second)  # the same default: A/processed
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert str(first.resolve()) in result.stderr and str(second) in result.stderr
    assert "--processed" in result.stderr
    assert (processed / "aggregated.csv").read_text() == aggregated  # the first aggregate survives
    # a folder of its own is fine, and so is the first results folder aggregated again
    own = run_script("aggregate.py", "--results", second, "--processed", tmp_path / "B")
    assert own.returncode == 0
    assert run_script("aggregate.py", "--results", first).returncode == 0


def test_cells_of_one_seed_print_no_numpy_warnings(tmp_path):
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    r18 = "resnet18"
    write_cell(raw, "cifar10", r18, "fp32", [93.0], seeds=[42])
    write_cell(raw, "cifar10", r18, "bitnet", [90.0], seeds=[42], quant="bitnet")
    write_cell(raw, "cifar10", r18, "ttq", [91.0], seeds=[789], quant="ttq")  # no standard seed
    # four seeds, none of them 42/123/456: the power table's three-seed interval has no values
    write_cell(raw, "cifar10", r18, "bitnet_keep-conv1", [92.0, 92.5, 93.0, 93.5],
               seeds=[1, 2, 3, 4], quant="bitnet", keep=["conv1"])
    write_cell(raw, "cifar10", r18, "bitnet_kd", [91.0], seeds=[42], quant="bitnet", kd=True)
    write_cell(raw, "cifar10", "resnet20", "bc", [88.0], seeds=[42], quant="bc", shortcut="A")
    write_cell(raw, "cifar10", "resnet20", "sr", [84.0], seeds=[42], quant="sr", shortcut="A")
    assert run_script("aggregate.py", "--results", raw, "--processed", processed).returncode == 0
    tables = run_script("tables.py", "--processed", processed)
    for result in (tables, run_script("figures.py", "--processed", processed)):
        assert result.returncode == 0, result.stderr
        assert "RuntimeWarning" not in result.stderr, result.stderr
        assert "Warning:" not in result.stderr, result.stderr
    power = row_of(table_rows(tables.stdout), r18, "cifar10", "BitNet+FP32 conv1", "4")
    assert power[7:] == ["–", "–", "93.00 (1)", "+0.25", "–"]  # 93.0 - 92.75; one FP32 seed


def test_a_completed_run_whose_last_test_loss_is_not_finite_is_counted_and_named(tmp_path):
    # finite weights can still overflow at evaluation (a last update that blew them up): the run
    # completed and is counted, but aggregate.py says its final top-1 is of overflowing logits
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    history = [dict(epoch=1, train_loss=2.0, test_loss=1.5, test_top1=60.0),
               dict(epoch=2, train_loss=1.0, test_loss=float("nan"), test_top1=10.0)]
    write_cell(raw, "cifar10", "resnet18", "fp32", [10.0], seeds=[42],
               results_extra=dict(history=history))
    write_cell(raw, "cifar10", "resnet18", "fp32", [90.0], seeds=[123])
    result = run_script("aggregate.py", "--results", raw, "--processed", processed)
    assert result.returncode == 0, result.stderr
    broken = raw.resolve() / "cifar10" / "resnet18" / "fp32_s42"
    assert result.stderr.splitlines() == [
        f"warning: {broken}: completed, but its last test loss is not finite: its final top-1 "
        "10.0 is of overflowing logits"]
    rows = {r["seed"]: r for r in read_csv(processed / "aggregated.csv")}
    assert (rows["42"]["status"], rows["42"]["final_test_loss_finite"]) == ("completed", "false")
    assert rows["123"]["final_test_loss_finite"] == "true"


def test_a_run_set_aside_renamed_hidden_or_moved_never_stands_for_the_run_of_its_folder(tmp_path):
    # an old BitNet seed 42 (10.0) renamed to bitnet_old_s42, copied under a hidden .old/, and
    # copied into the ResNet-50's folder: the cell is the rerun's 90.0/91.0/92.0 (91.00 +- 1.00)
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    write_cell(raw, "cifar10", "resnet18", "fp32", [93.0, 93.5, 94.0])
    write_cell(raw, "cifar10", "resnet18", "bitnet", [90.0, 91.0, 92.0], quant="bitnet")
    old = write_run(tmp_path / "old", "cifar10", "resnet18", "bitnet", 42, 10.0, quant="bitnet")
    for place in ("resnet18/bitnet_old_s42", ".old/bitnet_s42", "resnet50/bitnet_s42"):
        shutil.copytree(old, raw / "cifar10" / place)
    shutil.copytree(old, raw / "cifar10" / "resnet18" / "unnamed")  # no seed in its name: read
    result = run_script("aggregate.py", "--results", raw, "--processed", processed)
    assert result.returncode == 0, result.stderr
    rows = {r["path"]: r for r in read_csv(processed / "aggregated.csv")}
    assert len(rows) == 9  # six runs, renamed, moved, unnamed; nothing from .old/
    unnamed = rows[str(raw.resolve() / "cifar10" / "resnet18" / "unnamed")]
    assert (unnamed["tag"], unnamed["seed"], unnamed["status"]) == ("unnamed", "42", "completed")
    renamed = rows[str(raw.resolve() / "cifar10" / "resnet18" / "bitnet_old_s42")]
    assert (renamed["tag"], renamed["status"]) == ("bitnet_old", "completed")  # a run of its own
    moved = rows[str(raw.resolve() / "cifar10" / "resnet50" / "bitnet_s42")]
    assert (moved["status"], moved["reason"]) == (
        "moved", "config.json names another run: model resnet18 (its folder's resnet50)")
    assert run_script("tables.py", "--processed", processed).returncode == 0
    main = table_rows((processed / "tables" / "main.md").read_text())[1:]
    assert row_of(main, "resnet18", "cifar10")[2:4] == ["93.50 ± 0.50 (3)", "91.00 ± 1.00 (3)"]
    counted, left = raw.resolve() / "cifar10" / "resnet18", "bitnet_old_s42"
    assert (f"warning: seed 42 ran twice with one recipe, counted once: {counted}/bitnet_s42 "
            f"(counted) and {counted}/{left} (left out)") in result.stderr.splitlines()


def test_a_results_json_without_report_top1_counts_the_accuracy_its_config_reports():
    from aggregate import chosen_top1
    results = dict(best_top1=90.3, final_top1=90.0)
    assert chosen_top1(results, dict(report="final")) == 90.0
    assert chosen_top1(results, dict(report="best")) == 90.3
    assert chosen_top1(results, {}) == 90.0  # unsaid: train.py's default, the final epoch
    assert chosen_top1(results, dict(report="ttq-avg")) is None  # read as corrupt
    assert chosen_top1(dict(results, report_top1=89.9), dict(report="final")) == 89.9


def test_layers_kept_in_either_order_are_one_method_and_ttq_says_when_it_falls_back(tmp_path):
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    r20 = dict(quant="ttq", shortcut="A")
    write_cell(raw, "cifar10", "resnet20", "fp32", [92.0, 92.2, 92.4], shortcut="A")
    write_cell(raw, "cifar10", "resnet20", "ttq_keep-fc-conv1", [91.5, 91.6, 91.7],
               keep=["fc", "conv1"], **r20)
    write_cell(raw, "cifar10", "resnet20", "ttq", [85.0], seeds=[42], **r20)
    write_cell(raw, "cifar10", "resnet32", "ttq", [84.0], seeds=[42], **dict(r20, keep=[]))
    assert run_script("aggregate.py", "--results", raw, "--processed", processed).returncode == 0
    tables = run_script("tables.py", "--processed", processed)
    assert tables.returncode == 0, tables.stderr
    ttq = (processed / "tables" / "ttq_paper.md").read_text()
    # TTQ errors 8.5/8.4/8.3 (8.40 +- 0.10) of the runs keeping fc and conv1, not the 15.00 of the
    # all-ternary run; resnet32 has that recipe alone, and the notes say so
    assert row_of(table_rows(ttq)[1:], "resnet20") == ["resnet20", "7.80 ± 0.20 (3)",
                                                       "8.40 ± 0.10 (3)", "+0.60"]
    assert row_of(table_rows(ttq)[1:], "resnet32")[2] == "16.00 (1)"
    assert ("resnet32 cifar10 TTQ: every layer ternary (no run keeps conv1 and fc in full "
            "precision)") in ttq.splitlines()
