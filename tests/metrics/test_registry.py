"""The metric vocabulary: every metric column has one entry, names never repeat, the worked
examples are what the metric functions compute, and docs/metrics.md is written from it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from engine.metrics import (
    category_entropy_at_k,
    compute_metrics,
    counted_categories,
    gini_index,
    ild_category_at_k,
    miscalibration_at_k,
)
from engine.metrics.registry import METRICS, as_json, display_name, legend, markdown, parse_column

DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def test_every_metric_column_is_in_the_vocabulary() -> None:
    cats = np.eye(3)[[0, 0, 1, 2, 2, 1]]
    out = compute_metrics(np.array([[0, 1, 2, 3], [4, 5, -1, -1]]),
                          [np.array([1]), np.array([4])], k=4, item_categories=cats,
                          item_popularity=np.arange(1, 7), item_vectors=np.eye(6)[:, :4] + 0.1,
                          intervals=20)
    for column in out:
        assert parse_column(column) is not None, column
    assert {parse_column(c)[0].key for c in out} == set(METRICS)


def test_names_are_unique_and_the_two_dissimilarities_differ() -> None:
    names = [m.name for m in METRICS.values()]
    assert len(set(names)) == len(names)
    assert display_name("ild@10") == "Category dissimilarity@10"
    assert display_name("ild_vec@10") == "Vector dissimilarity@10"
    assert display_name("gini@10 low") == "Exposure Gini@10 low"
    assert display_name("n_users") == "n_users"
    assert all("ILD" not in m.name for m in METRICS.values())


def test_legend_names_each_metric_once() -> None:
    lines = legend(["ndcg@10", "ndcg@10 low", "ild@10", "seconds"])
    assert len(lines) == 2 and lines[1].startswith("Category dissimilarity@10: ")
    assert {row["key"] for row in as_json()} == set(METRICS)


def test_worked_examples_are_what_the_functions_compute() -> None:
    lamps_desks = np.eye(2)[[0] * 5 + [1] * 5]
    entropy = category_entropy_at_k(np.arange(10)[None], lamps_desks)[0]
    assert entropy == pytest.approx(0.693, abs=5e-4)
    assert "0.693" in METRICS["category_entropy"].example
    mixed = np.eye(3)[[0, 0, 1, 2]]  # Lamp, Lamp, Desk, Rug
    assert ild_category_at_k(np.arange(4)[None], mixed)[0] == pytest.approx(5 / 6, abs=1e-9)
    assert "5 / 6 = 0.83" in METRICS["ild"].example
    assert gini_index(np.array([[3, 3, 3, 3]]), 4) == pytest.approx(0.75, abs=1e-12)
    all_lamps = np.eye(2)[[0, 0]]
    kl = miscalibration_at_k(np.array([[0, 1]]), all_lamps, np.array([[0.5, 0.5]]))[0]
    assert kl == pytest.approx(1.96, abs=5e-3) and "1.96" in METRICS["miscalibration"].example


def test_unknown_category_counts_toward_nothing() -> None:
    cats = np.eye(3)[[0, 2, 2]]  # item 0 in "Lamps", items 1 and 2 without a category
    counted = counted_categories(cats, ["Lamps", "Desks", "unknown"])
    assert counted[:, 2].sum() == 0 and counted[0, 0] == 1
    assert np.array_equal(counted_categories(cats, ["a", "b", "c"]), cats)
    out = compute_metrics(np.array([[0, 1, 2]]), [np.array([0])], k=3, item_categories=cats,
                          item_popularity=np.ones(3), category_names=["Lamps", "Desks", "unknown"])
    assert out["category_coverage@3"] == 1.0
    assert out["category_entropy@3"] == pytest.approx(0.0, abs=1e-12)
    plain = compute_metrics(np.array([[0, 1, 2]]), [np.array([0])], k=3, item_categories=cats,
                            item_popularity=np.ones(3))
    assert plain["category_coverage@3"] == 2.0
    assert plain["category_entropy@3"] == pytest.approx(-(1 / 3) * math.log(1 / 3)
                                                       - (2 / 3) * math.log(2 / 3), abs=1e-9)


def test_docs_page_is_written_from_the_vocabulary() -> None:
    assert DOCS.read_text(encoding="utf-8") == markdown(), \
        "docs/metrics.md is stale: run `python -m engine.metrics.registry`"


def test_cli_prints_the_vocabulary(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from engine.cli.main import main

    assert main(["metrics"]) == 0
    text = capsys.readouterr().out
    assert "ild@k — Category dissimilarity@k" in text and "ild_vec@k — Vector" in text
    assert main(["metrics", "--json"]) == 0
    assert {row["key"] for row in json.loads(capsys.readouterr().out)} == set(METRICS)
