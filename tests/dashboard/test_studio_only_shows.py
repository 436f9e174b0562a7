"""The studio shows what the engine computes and keeps: no SQL of its own, no run.json
writes, and every cache in one module (`dashboard/state.py`), read from the source."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE_MODULE = "dashboard/state.py"
CACHES = {"cache_data", "cache_resource", "cache", "lru_cache"}


def modules() -> dict[str, ast.Module]:
    return {str(p.relative_to(ROOT)): ast.parse(p.read_text(encoding="utf-8"))
            for p in sorted((ROOT / "dashboard").rglob("*.py"))}


def imported(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
            names.add(node.module or "")
    return names


def cache_decorators(tree: ast.Module) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = target.attr if isinstance(target, ast.Attribute) else \
                    getattr(target, "id", "")
                if name in CACHES:
                    lines.append(node.lineno)
    return lines


def test_the_studio_holds_no_database_code() -> None:
    found = {path: sorted(n for n in imported(tree) if n.split(".")[0] in
                          ("sqlite3", "sqlalchemy"))
             for path, tree in modules().items()}
    assert {path: names for path, names in found.items() if names} == {}


def test_run_metadata_is_written_by_the_engine_only() -> None:
    writers = {path for path, tree in modules().items()
               if {"engine.core.files.write_json_atomic", "engine.runs.store.RUN_JSON"}
               & imported(tree)}
    assert writers == set()


def test_every_cache_lives_in_the_state_module() -> None:
    trees = modules()
    assert len(cache_decorators(trees[CACHE_MODULE])) >= 10
    elsewhere = {path: cache_decorators(tree) for path, tree in trees.items()
                 if path != CACHE_MODULE}
    assert {path: lines for path, lines in elsewhere.items() if lines} == {}


def test_the_cache_check_sees_every_decorator_form() -> None:
    tree = ast.parse("@st.cache_data(max_entries=2)\ndef a(): ...\n@functools.cache\n"
                     "def b(): ...\n@lru_cache\ndef c(): ...\ndef d(): ...\n")
    assert cache_decorators(tree) == [2, 4, 6]
