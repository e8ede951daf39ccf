"""The shape of the codebase: each file imports only files below it in the reading order, none is over 500 lines,
the README reads the files in that order, and every docs page is linked and every relative link resolves."""
import ast
import re

import pytest

from conftest import ROOT

# bottom to top: a file may import only the files before it (the README's reading order)
READING_ORDER = ["common", "stats", "downloads", "datasets", "models", "kernels", "estimators", "quant",
                 "qlayers", "summary",
                 "run_folder", "devices", "flags", "train", "export", "study_hours", "bench",
                 "bench_inference", "ste_factors", "aggregate", "study", "tables", "figures"]
MAX_LINES = 500


def project_imports(path):
    """Project files that a file imports, at the top or inside a function."""
    text = path.read_text()
    names = re.findall(r"^\s*import (\w+)", text,
                       re.M) + re.findall(r"^\s*from (\w+) import", text, re.M)
    return {n for n in names if (ROOT / f"{n}.py").exists()}


def test_every_file_is_in_the_reading_order():
    assert sorted(p.stem for p in ROOT.glob("*.py")) == sorted(READING_ORDER)


@pytest.mark.parametrize("name", READING_ORDER)
def test_a_file_imports_only_files_below_it(name):
    below = set(READING_ORDER[:READING_ORDER.index(name)])
    assert project_imports(ROOT / f"{name}.py") <= below, f"{name}.py imports a file at or above it"


def test_no_python_file_is_over_500_lines():
    lengths = {p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines())
               for p in [*ROOT.glob("*.py"), *ROOT.glob("tests/*.py")]}
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}


def test_the_readme_reads_the_files_in_the_import_order():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Reading the code"):]
    section = section[:section.index("\n## ", 1)]
    first = {name: section.find(f"`{name}.py`") for name in READING_ORDER}
    assert all(i >= 0 for i in first.values()), [n for n, i in first.items() if i < 0]
    assert sorted(READING_ORDER, key=first.get) == READING_ORDER


def links(path):
    """Relative link targets of a Markdown file, without their #anchors."""
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text())
    return [t for t in targets if not re.match(r"[a-z]+:", t)]


def test_every_docs_page_is_linked_from_the_readme_and_every_link_resolves():
    pages = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("docs/*.md"))
    assert pages, "no docs pages"
    linked = {(ROOT / t).resolve() for t in links(ROOT / "README.md")}
    assert [p for p in pages if (ROOT / p).resolve() not in linked] == []
    for md in [ROOT / "README.md", *ROOT.glob("docs/*.md")]:
        missing = [t for t in links(md) if not (md.parent / t).exists()]
        assert missing == [], f"{md.name} links to missing files"


def test_no_two_modules_define_a_top_level_function_or_class_of_one_name():
    # one name, one meaning; every script's entry point is main, by convention
    seen = {}
    for path in sorted(ROOT.glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name != "main":
                seen.setdefault(node.name, []).append(path.name)
    assert {name: files for name, files in seen.items() if len(files) > 1} == {}
