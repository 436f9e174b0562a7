"""Every benchmark module loads, and every engine or bench name it imports (at the top or
inside a function) exists: a moved engine function breaks this test, not a long run."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
MODULES = sorted(".".join(p.relative_to(BENCH.parent).with_suffix("").parts)
                 for p in BENCH.rglob("*.py") if p.name not in ("__init__.py",
                                                               "bare_slider_app.py"))


def _imported(path: Path) -> list[tuple[str, str]]:
    return [(node.module, alias.name) for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom) and node.module
            and node.module.split(".")[0] in ("engine", "bench") for alias in node.names]


@pytest.mark.parametrize("name", MODULES)
def test_module_and_its_imports_resolve(name: str) -> None:
    importlib.import_module(name)
    path = BENCH.parent / (name.replace(".", "/") + ".py")
    missing = [f"{module}.{what}" for module, what in _imported(path)
               if not _exists(module, what)]
    assert missing == []


def _exists(module: str, name: str) -> bool:
    """`from module import name` would work: a name in the module, or a submodule."""
    if hasattr(importlib.import_module(module), name):
        return True
    try:
        importlib.import_module(f"{module}.{name}")
    except ModuleNotFoundError:
        return False
    return True



def test_no_benchmark_reaches_into_the_cli() -> None:
    """Benchmarks train and measure through engine functions, never the CLI's internals."""
    reaching = sorted({f"{path.relative_to(BENCH.parent)}: {module}"
                       for path in BENCH.rglob("*.py") for module, _ in _imported(path)
                       if module.startswith("engine.cli")})
    assert reaching == []
