"""docs/architecture.md draws the package graph and a request's path; both are read here and
checked against the imports in the source: a drawn arrow the code does not have fails, and
so does a package dependency that no path of drawn arrows explains."""

from __future__ import annotations

import re

import pytest
from test_engine_imports import ROOT, import_graph, package_of

DOC = ROOT / "docs" / "architecture.md"
NODE = re.compile(r"^\s*([A-Za-z_]+)(?:\[[^\]]*\])?\s*$")


def mermaid_blocks(text: str) -> list[str]:
    return re.findall(r"```mermaid\n(.*?)```", text, flags=re.S)


def _nodes(part: str) -> list[str]:
    names = []
    for piece in part.split("&"):
        match = NODE.match(piece)
        if not match:
            raise ValueError(f"cannot read diagram node {piece!r}")
        names.append(match.group(1))
    return names


def drawn_arrows(flowchart: str) -> set[tuple[str, str]]:
    """(from, to) short package names of every `a --> b & c` line (chains allowed)."""
    arrows = set()
    for line in flowchart.splitlines()[1:]:
        parts = [p for p in line.split("-->")]
        if len(parts) < 2:
            continue
        for left, right in zip(parts, parts[1:], strict=False):
            arrows.update((a, b) for a in _nodes(left) for b in _nodes(right))
    return arrows


def short(package: str) -> str:
    return "dashboard" if package.startswith("dashboard") else package.removeprefix("engine.")


def package_graph() -> dict[str, set[str]]:
    """Short package name -> the packages it imports (the engine's own top modules left out)."""
    graph: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        own = short(package_of(module))
        if own in ("engine", "__main__"):
            continue
        graph.setdefault(own, set()).update(
            short(package_of(t)) for t in targets
            if short(package_of(t)) not in (own, "engine", "__main__"))
    return graph


def closure(arrows: set[tuple[str, str]]) -> set[tuple[str, str]]:
    reach = set(arrows)
    while True:
        more = {(a, d) for a, b in reach for c, d in reach if b == c} - reach
        if not more:
            return reach
        reach |= more


def flowchart() -> str:
    return next(b for b in mermaid_blocks(DOC.read_text(encoding="utf-8"))
                if b.startswith("flowchart"))


def test_every_drawn_arrow_is_a_real_import() -> None:
    real = {(a, b) for a, targets in package_graph().items() for b in targets}
    drawn = drawn_arrows(flowchart())
    assert len(drawn) > 10
    assert sorted(drawn - real) == []


def test_every_package_dependency_follows_drawn_arrows() -> None:
    graph = package_graph()
    reach = closure(drawn_arrows(flowchart()))
    missing = sorted((a, b) for a, targets in graph.items() for b in targets
                     if (a, b) not in reach)
    assert missing == []
    drawn_nodes = {n for arrow in reach for n in arrow}
    assert set(graph) <= drawn_nodes


def test_serving_ranks_without_the_evaluation_package() -> None:
    graph = package_graph()
    assert "evaluation" not in graph["serving"] and "evaluation" not in graph["runs"]


def test_each_step_of_the_request_sequence_is_an_import() -> None:
    sequence = next(b for b in mermaid_blocks(DOC.read_text(encoding="utf-8"))
                    if b.startswith("sequenceDiagram"))
    where = {m.group(1): short(package_of(m.group(2).replace("/", ".")))
             for m in re.finditer(r"participant (\w+) as .*?\b((?:engine|dashboard)/\w+)",
                                  sequence)}
    graph = package_graph()
    steps = re.findall(r"^\s*(\w+)->>(\w+):", sequence, flags=re.M)
    assert len(steps) >= 5 and len(where) >= 5
    wrong = [(a, b) for a, b in steps
             if where[a] != where[b] and where[b] not in graph.get(where[a], set())]
    assert wrong == []


def test_the_reader_sees_arrows_chains_and_labels() -> None:
    assert drawn_arrows("flowchart TD\n  a[x: y] --> b & c[z]\n  c --> d --> e\n") == {
        ("a", "b"), ("a", "c"), ("c", "d"), ("d", "e")}
    with pytest.raises(ValueError):
        drawn_arrows("flowchart TD\n  a --> b c\n")
