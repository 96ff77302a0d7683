"""The import graph runs one way: every import follows the layer table.

The table is [tool.emops.layers] in pyproject.toml; docs/architecture.md draws it.
Every project .py is parsed (ast), so an import inside a function counts, and so does
a module started as `python -m pkg.mod` from an argv list or tuple: a wrong-way
import fails here with its file:line, before review.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "architecture.md"


@dataclass(frozen=True)
class Layers:
    order: list[list[str]]  # low to high
    imports: dict[str, list[str]]  # package -> the packages it may import
    free: list[str]  # folders that import anything and that nothing imports

    @property
    def packages(self) -> list[str]:
        return [p for layer in self.order for p in layer]

    def level(self, package: str) -> int:
        return next(i for i, layer in enumerate(self.order) if package in layer)


def read_layers(root: Path) -> Layers:
    table = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["emops"]["layers"]
    return Layers(table["order"], table["imports"], table.get("free", []))


def table_problems(layers: Layers) -> list[str]:
    """What makes the table itself not one-way (or not a table of every package)."""
    problems = []
    packages = layers.packages
    if len(packages) != len(set(packages)):
        problems.append(f"a package is in two layers: {packages}")
    if sorted(layers.imports) != sorted(packages):
        problems.append(f"imports names {sorted(layers.imports)}, the layers {sorted(packages)}")
    for package, allowed in layers.imports.items():
        for other in allowed:
            if other not in packages:
                problems.append(f"{package} may import {other}, which is in no layer")
            elif package not in packages:
                continue
            elif other == package:
                problems.append(f"{package} lists itself")
            elif layers.level(other) > layers.level(package):
                problems.append(f"{package} may import {other}, a higher layer")
            elif layers.level(other) == layers.level(package) and package in layers.imports.get(
                other, []
            ):
                problems.append(f"siblings {package} and {other} may import each other")
    return problems


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, dotted module) for every import anywhere in the file, and for every
    `"-m", "pkg.mod"` pair in a list or tuple (a Python module run as a process)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif isinstance(node, ast.List | ast.Tuple):
            for flag, value in zip(node.elts, node.elts[1:], strict=False):
                if (
                    isinstance(flag, ast.Constant)
                    and flag.value == "-m"
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    yield value.lineno, value.value


@dataclass(frozen=True)
class Edge:
    where: str  # path:line, relative to the tree
    importer: str  # top-level package
    module: str  # the dotted module it imports

    @property
    def imported(self) -> str:
        return self.module.split(".")[0]


def cross_package_imports(root: Path, layers: Layers) -> list[Edge]:
    """Every import from one package of the table (or a free folder) into another."""
    known = set(layers.packages) | set(layers.free)
    edges = []
    for package in sorted(known):
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_bytes(), filename=str(path))
            for line, module in imported_modules(tree):
                edge = Edge(f"{path.relative_to(root)}:{line}", package, module)
                if edge.imported in known and edge.imported != package:
                    edges.append(edge)
    return edges


def wrong_way_imports(root: Path) -> list[str]:
    """One line per import the table does not allow, naming file:line."""
    layers = read_layers(root)
    found = []
    for edge in cross_package_imports(root, layers):
        if edge.importer in layers.free:
            continue
        if edge.imported in layers.free:
            found.append(f"{edge.where}: {edge.importer} imports {edge.module}, a free folder")
        elif edge.imported not in layers.imports.get(edge.importer, []):
            allowed = ", ".join(layers.imports.get(edge.importer, [])) or "nothing of the project"
            found.append(
                f"{edge.where}: {edge.importer} imports {edge.module}"
                f" ({edge.importer} may import {allowed})"
            )
    return found


def unlisted_packages(root: Path, layers: Layers) -> list[str]:
    """Top-level folders holding Python that the table does not place."""
    listed = set(layers.packages) | set(layers.free)
    return sorted(
        d.name
        for d in root.iterdir()
        if d.is_dir()
        and not d.name.startswith(".")
        and d.name not in listed
        and any(d.rglob("*.py"))
    )


def picture(layers: Layers) -> str:
    """The table drawn as docs/architecture.md shows it: highest layer first."""
    width = max(len(p) for p in layers.packages)
    rows: list[list[str]] = []
    for level in reversed(range(len(layers.order))):
        rows.append([])
        for i, package in enumerate(layers.order[level]):
            allowed = ", ".join(layers.imports[package]) or "(nothing of the project)"
            head = f"layer {level}" if i == 0 else ""
            rows[-1].append(f"{head:<7}  {package:<{width}}  -> {allowed}")
    rule = "-" * max(len(line) for row in rows for line in row)
    return f"\n{rule}\n".join("\n".join(row) for row in rows)


# --- the project -------------------------------------------------------------------


def test_the_table_is_one_way_and_places_every_package() -> None:
    layers = read_layers(ROOT)
    assert table_problems(layers) == []
    assert unlisted_packages(ROOT, layers) == [], "add each package to [tool.emops.layers]"


def test_every_import_follows_the_layers() -> None:
    found = wrong_way_imports(ROOT)
    assert found == [], "imports against docs/architecture.md:\n" + "\n".join(found)


def test_the_architecture_page_draws_this_table() -> None:
    expected = picture(read_layers(ROOT))
    assert expected in ARCHITECTURE.read_text(), f"docs/architecture.md should show:\n{expected}"


# --- the checker on a seeded tree ----------------------------------------------------

SEEDED_TABLE = """
[tool.emops.layers]
order = [["emops"], ["capacity", "lab"], ["control"]]
free = ["tests"]

[tool.emops.layers.imports]
emops = []
capacity = ["emops"]
lab = ["emops"]
control = ["emops", "capacity", "lab"]
"""


def _tree(root: Path, files: dict[str, str]) -> Path:
    (root / "pyproject.toml").write_text(SEEDED_TABLE)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_checker_reports_a_wrong_way_import_with_file_and_line(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "emops/__init__.py": "",
            "emops/model.py": '"""core"""\n\n\ndef f():\n    from control.cli import main\n',
            "lab/__init__.py": "import emops.model\n",  # allowed: down one layer
            "capacity/plan.py": "from lab import x\n",  # a sibling not named in the table
            "control/cli.py": "import lab, capacity\n",  # allowed: the top imports all
            "tests/test_x.py": "import control.cli\n",  # free
        },
    )
    assert wrong_way_imports(root) == [
        "capacity/plan.py:1: capacity imports lab (capacity may import emops)",
        "emops/model.py:5: emops imports control.cli (emops may import nothing of the project)",
    ]


def test_checker_reads_python_m_and_imports_of_free_folders(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "emops/run.py": 'ARGV = ("python", "-m", "lab.agent", "--x")\n',
            "lab/agent.py": 'import subprocess\nsubprocess.run(["pg_ctl", "stop", "-m", "fast"])\n',
            "capacity/t.py": "\n\nfrom tests import helpers\n",
        },
    )
    assert wrong_way_imports(root) == [
        "capacity/t.py:3: capacity imports tests, a free folder",
        "emops/run.py:1: emops imports lab.agent (emops may import nothing of the project)",
    ]


@pytest.mark.parametrize(
    ("imports", "problem"),
    [
        ({"lab": ["emops", "control"]}, "lab may import control, a higher layer"),
        ({"lab": ["emops", "capacity"], "capacity": ["emops", "lab"]}, "siblings lab and"),
        ({"lab": ["lab"]}, "lab lists itself"),
        ({"lab": ["emops", "ghost"]}, "lab may import ghost, which is in no layer"),
    ],
)
def test_checker_refuses_a_table_that_is_not_one_way(
    imports: dict[str, list[str]], problem: str
) -> None:
    base = {"emops": [], "capacity": ["emops"], "lab": ["emops"], "control": ["emops"]}
    layers = Layers([["emops"], ["capacity", "lab"], ["control"]], base | imports, [])
    assert any(p.startswith(problem) for p in table_problems(layers)), table_problems(layers)


def test_checker_names_a_package_missing_from_the_table(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"emops/a.py": "", "newpart/b.py": "", "docs/readme.md": ""})
    assert unlisted_packages(root, read_layers(root)) == ["newpart"]
