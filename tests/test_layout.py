"""The shape of the codebase: the reading order of its files and their imports, the lengths of
files and lines, the files' docstrings, one name per meaning, and the README's and docs' links."""
import ast
import re

import pytest

from conftest import ROOT

# bottom to top: a file may import only the files before it (the README's reading order)
READING_ORDER = ["common", "stats", "downloads", "datasets", "batches", "models_redbit", "models",
                 "kernels", "estimators", "quant", "qlayers", "summary", "run_folder", "devices",
                 "divergence", "dynamics", "flags", "train", "export", "study_hours", "bench",
                 "bench_inference", "ste_factors", "stability", "aggregate", "study", "published",
                 "tables", "svg", "figures"]
MAX_LINES = 500
MAX_LINE_LENGTH = 100
# files with one job longer than MAX_LINES, where a split would cut that job in two: their cap
ONE_LONG_JOB = {
    "bench.py": 540,  # the training-step benchmark: its setup, timing and report read together
}


def python_files():
    return [*sorted(ROOT.glob("*.py")), *sorted(ROOT.glob("tests/*.py"))]


def shell_files():
    return [*sorted(ROOT.glob("*.sh")), *sorted(ROOT.glob("phases/*.sh")), ROOT / ".ci" / "run"]


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


def test_no_python_file_is_over_500_lines_but_the_few_with_one_long_job():
    lengths = {p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines())
               for p in python_files()}
    over = {name: n for name, n in lengths.items() if n > MAX_LINES}
    assert over.keys() == ONE_LONG_JOB.keys(), "a file passed 500 lines: split it by job"
    assert {name: n for name, n in over.items() if n > ONE_LONG_JOB[name]} == {}


def test_no_line_is_over_100_characters():
    # a phase script's run lines stay one run a line: users grep them and --only matches in them
    long = [f"{p.relative_to(ROOT)}:{i}"
            for p in [*python_files(), *shell_files()]
            for i, line in enumerate(p.read_text().splitlines(), 1)
            if len(line) > MAX_LINE_LENGTH and not line.startswith("run ")]
    assert long == []


def test_every_file_opens_with_two_or_three_lines_on_what_it_holds():
    # after those lines a script may show its command lines, indented
    wrong = []
    for path in python_files():
        doc = ast.get_docstring(ast.parse(path.read_text()), clean=False) or ""
        about, *rest = doc.split("\n\n")
        usage = [line for part in rest for line in part.splitlines()]
        says_what_it_lacks = re.search(r"(^|\. )(Nothing|No) ", about)
        if not 1 <= len(about.splitlines()) <= 3 or says_what_it_lacks or \
                not all(line.startswith("    ") for line in usage):
            wrong.append(path.relative_to(ROOT).as_posix())
    assert wrong == []


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


def test_every_top_level_function_and_class_has_a_caller_outside_the_tests():
    project = [*ROOT.glob("*.py"), *shell_files()]
    text = "\n".join(p.read_text() for p in project)
    unused = []
    for path in sorted(ROOT.glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name != "main":
                if len(re.findall(rf"\b{node.name}\b", text)) < 2:  # its definition alone
                    unused.append(f"{path.name}:{node.name}")
    assert unused == []
