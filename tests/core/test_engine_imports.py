"""The layout's rules, read from the source: imports form no cycle (between modules or between
packages), the engine never imports the studio, streamlit or plotly, and no file grows past
the size a reader can hold in mind."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOP_PACKAGES = ("engine", "dashboard")
UI_PACKAGES = ("streamlit", "plotly", "dashboard")
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files() -> dict[str, Path]:
    return {module_name(p): p for top in TOP_PACKAGES for p in sorted((ROOT / top).rglob("*.py"))}


def imported_modules(source: str, module: str = "", is_package: bool = False) -> set[str]:
    """Every module an `import x` / `from x import y` names, wherever it sits in the file
    (inside functions too, where lazy imports live); `from x import y` also names `x.y`, in
    case `y` is a submodule. Relative imports resolve against `module`."""
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports (nearest existing module of each name)."""
    files = source_files()
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        targets = set()
        for name in imported_modules(path.read_text(encoding="utf-8"), module,
                                     path.name == "__init__.py"):
            while name and name not in files:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def package_of(module: str) -> str:
    """`engine.models.base` -> `engine.models`; a top-level module is its own package."""
    return ".".join(module.split(".")[:2])


def test_modules_import_each_other_without_a_cycle() -> None:
    graph = import_graph()
    assert len(graph) > 100
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the cycle


def test_packages_import_each_other_without_a_cycle() -> None:
    packages: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        own = package_of(module)
        packages.setdefault(own, set()).update(
            p for p in map(package_of, targets) if p != own and p not in TOP_PACKAGES)
    assert {"engine.core", "engine.models", "engine.serving", "engine.cli"} <= set(packages)
    graphlib.TopologicalSorter(packages).prepare()


def test_engine_never_imports_the_studio_or_the_ui_packages() -> None:
    files = {m: p for m, p in source_files().items() if m.split(".")[0] == "engine"}
    assert len(files) > 20
    offenders = {module: sorted(m for m in imported_modules(path.read_text(encoding="utf-8"))
                                if m.split(".")[0] in UI_PACKAGES)
                 for module, path in files.items()}
    assert {module: mods for module, mods in offenders.items() if mods} == {}


def test_no_file_is_longer_than_a_reader_can_hold() -> None:
    lengths = {module: len(path.read_text(encoding="utf-8").splitlines())
               for module, path in source_files().items()}
    assert {module: n for module, n in lengths.items() if n > MAX_LINES} == {}


def test_the_check_sees_lazy_dotted_and_relative_imports() -> None:
    found = imported_modules("def f():\n    import plotly.express as px\n"
                             "from streamlit.runtime import x\nfrom . import y\n"
                             "from ..core import errors\n", "engine.models.base")
    assert {"plotly.express", "streamlit.runtime", "engine.models.y",
            "engine.core.errors"} <= found


def test_the_check_finds_a_cycle() -> None:
    with pytest.raises(graphlib.CycleError):
        graphlib.TopologicalSorter({"a": {"b"}, "b": {"c"}, "c": {"a"}}).prepare()


def test_the_architecture_doc_maps_every_engine_package() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    packages = sorted(p.parent.name for p in (ROOT / "engine").glob("*/__init__.py"))
    assert len(packages) >= 10
    assert [p for p in packages if f"`engine/{p}/`" not in doc] == []
    assert doc.count("```mermaid") >= 2
