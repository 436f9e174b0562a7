"""Each shared job has one definition, found by scanning the source of engine/ and dashboard/:
the atomic writer, the list of re-rank methods, the device resolver, min–max scaling, the
value checks (k, weight, target mix, quota bounds), the category prior and the greedy loop
every re-ranker and policy fills its slots with. A second copy would
drift (as the old ones did: a fixed temp name two processes shared, two scalings that disagreed
on constant input, a weight check that read the text "0.5" as a number). The behaviour tests in
test_one_answer.py send the same input through every door and expect one answer."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

from engine.rerank.methods import METHODS

ROOT = Path(__file__).resolve().parents[2]
FILES_MODULE = "engine/core/files.py"
METHODS_MODULE = "engine/rerank/methods.py"


def sources() -> dict[str, ast.Module]:
    return {str(p.relative_to(ROOT)): ast.parse(p.read_text(encoding="utf-8"))
            for top in ("engine", "dashboard") for p in sorted((ROOT / top).rglob("*.py"))}


def definitions(match: Callable[[str], bool]) -> list[str]:
    """`file:function` for every function whose name `match` accepts."""
    return [f"{path}:{node.name}" for path, tree in sources().items() for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and match(node.name)]


def named(*names: str) -> Callable[[str], bool]:
    return lambda name: name in names


def calls(module: str, functions: set[str]) -> list[str]:
    """`file:line` for every call `module.f(...)` with f in `functions`."""
    return [f"{path}:{node.lineno}" for path, tree in sources().items() for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in functions and isinstance(node.func.value, ast.Name)
            and node.func.value.id == module]


def method_lists(trees: dict[str, ast.Module]) -> list[str]:
    """`file:line` of every tuple/list/set literal (or Literal[...]) of 3+ method names."""
    found = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Tuple | ast.List | ast.Set):
                values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
                if len(values) == len(node.elts) >= 3 and set(values) <= set(METHODS):
                    found.append(f"{path}:{node.lineno}")
    return found


def greedy_loops(trees: dict[str, ast.Module]) -> list[str]:
    """`file:function` of every function with a `for` loop that asks a scorer for its
    diversity term and takes an argmax: a slot-by-slot greedy fill."""
    found = []
    for path, tree in trees.items():
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            called = {node.func.attr for loop in ast.walk(function) if isinstance(loop, ast.For)
                      for node in ast.walk(loop)
                      if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
            if {"diversity", "argmax"} <= called:
                found.append(f"{path}:{function.name}")
    return found


def test_one_greedy_loop() -> None:
    assert greedy_loops(sources()) == ["engine/rerank/greedy.py:run_greedy"]
    assert definitions(named("constrained_greedy", "run_greedy", "greedy_fill")) == [
        "engine/rerank/greedy.py:run_greedy", "engine/serving/constrained.py:constrained_greedy"]


def test_one_atomic_writer() -> None:
    writers = definitions(lambda name: name.startswith("write") and name.endswith("_atomic"))
    assert writers == [f"{FILES_MODULE}:write_{kind}_atomic"
                       for kind in ("bytes", "text", "json", "lines")]
    assert definitions(named("swap_folder")) == [f"{FILES_MODULE}:swap_folder"]
    renames = calls("os", {"replace", "rename"})
    assert renames and all(place.startswith(f"{FILES_MODULE}:") for place in renames), renames
    assert calls("tempfile", {"mkstemp", "mkdtemp", "NamedTemporaryFile"}) == []


def test_one_list_of_methods() -> None:
    assert method_lists(sources()) == [f"{METHODS_MODULE}:{line}" for line in _methods_lines()]
    assert definitions(named("check_method")) == [f"{METHODS_MODULE}:check_method"]


def _methods_lines() -> list[int]:
    tree = ast.parse((ROOT / METHODS_MODULE).read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Tuple)
            and len(node.elts) >= 3 and all(isinstance(e, ast.Constant) for e in node.elts)]


def test_one_device_resolver_scaling_and_prior() -> None:
    assert definitions(named("resolve_device")) == ["engine/core/device.py:resolve_device"]
    scalings = named("min_max", "minmax", "minmax_rows", "min_max_rows", "min_max_scale",
                     "scale_rows", "_scaled", "_minmax_allowed", "scaled_rows")
    assert definitions(scalings) == ["engine/rerank/scaling.py:min_max"]
    checks = {"check_k": "engine/core/checks.py", "check_weight": "engine/core/checks.py",
              "check_target_mix": "engine/core/checks.py",
              "check_bounds": "engine/rerank/quotas.py", "check_supply": "engine/rerank/quotas.py"}
    for name, module in checks.items():
        assert definitions(named(name)) == [f"{module}:{name}"]
    assert definitions(named("_quota_bounds", "_candidate_quota_check", "quota_bounds")) == []
    assert definitions(named("gini", "gini_rows")) == ["engine/metrics/exposure.py:gini"]
    assert definitions(named("paired_difference", "comparison", "resample_counts")) == [
        f"engine/metrics/stats.py:{name}"
        for name in ("resample_counts", "paired_difference", "comparison")]
    assert not (ROOT / "engine/policy/stats.py").exists()
    assert definitions(named("category_prior")) == ["engine/metrics/diversity.py:category_prior",
                                             "engine/serving/catalogue.py:category_prior"]


def test_scan_finds_a_second_copy() -> None:
    """The scan is not vacuous: stray method lists are reported, other lists are not."""
    tree = ast.parse('A = ("none", "mmr", "dpp")\nB: Literal["mmr", "dpp", "quota"]\n'
                     'C = ["mmr", "dpp"]\nD = ("mmr", "dpp", "fast")\n')
    assert method_lists({"x.py": tree}) == ["x.py:1", "x.py:2"]
    loop = ast.parse("def fill(s, n):\n    for _ in range(n):\n        s.diversity(0).argmax()\n"
                     "def other(s):\n    return s.diversity(0).argmax()\n")
    assert greedy_loops({"x.py": loop}) == ["x.py:fill"]
