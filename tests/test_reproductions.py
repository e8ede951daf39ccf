"""The reproduction pages quote the committed records: each figure of the LeNet-5 table on
RedBit's setup (docs and README), and the committed figure and table, are what aggregate.py,
tables.py and figures.py make of reproductions/lenet5_mnist/raw; "before" quotes the older table."""
import re

import pytest

from aggregate import load_runs
from conftest import ROOT, run_script
from published import read_published
from study import bit_pair, quantizer

RAW = ROOT / "reproductions" / "lenet5_mnist" / "raw"
DOCS = ROOT / "docs" / "reproduction-lenet5-mnist.md"
SECTION = "## On RedBit's setup"
BEFORE = "### The table before"
METHODS = ["FP32", "QNN", "DoReFa", "XNOR", "TWN", "TTQ"]
TABLE_ROWS = 24  # the LeNet-5 / MNIST rows of the results table


def signed(text):
    """'−0.05' (the docs' minus sign) or '+0.03' as a float."""
    return float(text.replace("−", "-"))


def table_cells(heading, columns):
    """The cells of each method row of the docs' table under `heading`, up to the next heading."""
    text = DOCS.read_text()
    section = text[text.index(heading):]
    section = section[:section.index("\n#", 1)]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines()]
    return [cells for cells in rows if len(cells) == columns and cells[0] in METHODS]


def docs_rows():
    """The rows of the docs' table on RedBit's setup, as dicts of its columns."""
    rows = []
    for cells in table_cells(SECTION, 7):
        ours, epoch = re.fullmatch(r"(\d+\.\d\d) \(epoch (\d+)\)", cells[3]).groups()
        rows.append(dict(method=cells[0], bits=cells[1], network=cells[2].strip("`"),
                         ours=float(ours), epoch=int(epoch), published=float(cells[4]),
                         diff=signed(cells[5]), before=float(cells[6])))
    return rows


def before_rows():
    """{(method, W/A bits): our figure} of the docs' table on LeCun's lenet5 (the rows before)."""
    return {(cells[0], cells[1]): float(cells[2]) for cells in table_cells(BEFORE, 6)}


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    """aggregate.py's folder of the committed LeNet-5 runs."""
    folder = tmp_path_factory.mktemp("processed")
    result = run_script("aggregate.py", "--results", RAW, "--processed", folder)
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture(scope="module")
def records(processed):
    """The committed LeNet-5 runs as aggregate.py reads them, by (model, method, W/A bits)."""
    runs = [r for r in load_runs(processed) if str(r["tag"]).startswith("table_")]
    found = {(r["model"], quantizer(r), bit_pair(r)): r for r in runs}
    assert len(found) == len(runs)  # one run per row: no row's figure is a choice between two
    return found


def test_each_docs_row_is_its_committed_run(records):
    published = {(p["model"], p["method"], p["bits"]): p["value"] for p in read_published()
                 if p["study"] == "quant_table" and p["dataset"] == "mnist"}
    rows = docs_rows()
    assert rows, f"no table found under '{SECTION}' in {DOCS.name}"
    assert len(before_rows()) == TABLE_ROWS
    for row in rows:
        key = (row["network"], row["method"], row["bits"])
        run = records[key]
        assert (row["ours"], row["epoch"]) == (run["best_top1"], run["best_epoch"]), key
        assert row["published"] == published[key], key
        assert row["diff"] == pytest.approx(row["ours"] - row["published"], abs=1e-9), key
        assert row["before"] == before_rows()[(row["method"], row["bits"])], key


def test_every_committed_run_on_redbits_setup_has_its_docs_row(records):
    shown = {(r["network"], r["method"], r["bits"]) for r in docs_rows()}
    committed = {key for key in records if key[0].startswith("lenet5_wide")}
    assert committed == shown


def test_the_readme_row_quotes_the_docs_table():
    """The README's row on the table's setup: FP32 in its columns, the other rows in its last cell
    as 'QNN 32/32 99.64 (−0.05), 8/8 …', and how many rows are left."""
    line = next(line for line in (ROOT / "README.md").read_text().splitlines()
                if line.startswith("| LeNet-5 / MNIST on the table's setup"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    quoted, method = {("FP32", "32/32"): (float(cells[1]), signed(cells[3]))}, None
    pattern = r"(?:(" + "|".join(METHODS) + r") )?(\d+/\d+) (\d+\.\d\d) \(([+−]\d+\.\d\d)\)"
    for name, bits, ours, diff in re.findall(pattern, cells[4]):
        method = name or method
        quoted[(method, bits)] = (float(ours), signed(diff))
    rows = docs_rows()
    assert quoted == {(r["method"], r["bits"]): (r["ours"], r["diff"]) for r in rows}
    left = re.search(r"(\d+) rows? to go", cells[4])
    assert (int(left.group(1)) if left else 0) == TABLE_ROWS - len(rows)


def test_the_readme_summary_counts_the_docs_rows_within_half_a_point():
    line = next(line for line in (ROOT / "README.md").read_text().splitlines()
                if line.startswith("| LeNet-5 / MNIST, the results table's 24 rows"))
    rows = docs_rows()
    within = re.search(r"(\d+) of 24 within 0\.5 points", line)
    assert int(within.group(1)) == sum(abs(r["diff"]) <= 0.5 for r in rows)
    farthest = re.search(r"within (\d\.\d\d)", line)
    assert float(farthest.group(1)) == max(abs(r["diff"]) for r in rows)


@pytest.mark.parametrize("script,path", [
    ("figures.py", "figures/reproduction_lenet5_wide_mnist.svg"),
    ("tables.py", "tables/published_bits.md")])
def test_the_committed_figure_and_table_are_those_of_the_committed_records(processed, script,
                                                                           path):
    # a row committed without them leaves the docs' figure a row behind
    assert run_script(script, "--processed", processed).returncode == 0
    committed = RAW.parent / "processed" / path
    assert (processed / path).read_text() == committed.read_text(), f"regenerate {committed}"
