"""STYLE.md habit 2: the engine never imports streamlit or plotly (read from the source)."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "engine"
UI_PACKAGES = ("streamlit", "plotly")


def imported_modules(source: str) -> set[str]:
    """Every module an `import x` / `from x import y` names, wherever it sits in the file
    (inside functions too, where lazy imports live)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_engine_never_imports_the_ui_packages() -> None:
    files = sorted(ENGINE.rglob("*.py"))
    assert len(files) > 20
    offenders = {str(path.relative_to(ENGINE.parent)): sorted(
                     m for m in imported_modules(path.read_text(encoding="utf-8"))
                     if m.split(".")[0] in UI_PACKAGES)
                 for path in files}
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_the_check_sees_lazy_and_dotted_imports() -> None:
    found = imported_modules("def f():\n    import plotly.express as px\n"
                             "from streamlit.runtime import x\nfrom . import y\n")
    assert {"plotly.express", "streamlit.runtime"} <= found
