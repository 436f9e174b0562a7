"""The suite's own rules, read from its source: every float comparison states an absolute
tolerance (a value that should be 0 is compared with one, where a relative tolerance alone
demands exact zeros), and no test waits a fixed time: waits are conditions (a page's run state,
a chart drawn, a file present), and a `time.sleep` only paces a loop that polls one."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
FLOAT_CHECKS = {"assert_allclose", "assert_close"}


def _trees() -> dict[str, ast.Module]:
    return {str(p.relative_to(TESTS)): ast.parse(p.read_text(encoding="utf-8"))
            for p in sorted(TESTS.rglob("*.py"))}


def _calls(tree: ast.AST, names: set[str]) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute) and node.func.attr in names]


def test_every_float_comparison_has_an_absolute_tolerance() -> None:
    missing = [f"{path}:{call.lineno}" for path, tree in _trees().items()
               for call in _calls(tree, FLOAT_CHECKS)
               if not any(keyword.arg == "atol" for keyword in call.keywords)]
    assert missing == []


def _fixed_sleeps(tree: ast.AST) -> list[int]:
    """Lines of `page.wait_for_timeout(...)`, and of `time.sleep(...)` outside a loop."""
    lines = [call.lineno for call in _calls(tree, {"wait_for_timeout"})]
    in_loops = {id(call) for loop in ast.walk(tree) if isinstance(loop, ast.While | ast.For)
                for call in _calls(loop, {"sleep"})}
    return lines + [call.lineno for call in _calls(tree, {"sleep"}) if id(call) not in in_loops]


def test_no_fixed_sleeps() -> None:
    found = [f"{path}:{line}" for path, tree in _trees().items() for line in _fixed_sleeps(tree)]
    assert found == []


def test_the_scans_see_what_they_look_for() -> None:
    tree = ast.parse("np.testing.assert_allclose(a, b)\npage.wait_for_timeout(100)\n"
                     "time.sleep(1)\nwhile not ready():\n    time.sleep(0.1)\n")
    assert [c.lineno for c in _calls(tree, FLOAT_CHECKS)] == [1]
    assert _fixed_sleeps(tree) == [2, 3]
