"""Smoke: the quality benchmarks run on the tiny shop and write their reports to --out.

The numbers are a smoke run's (a tiny shop, one epoch): only what is written is checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench_shop import DATASET, BenchShop, report


def test_quality(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.quality import quality

    quality.main(["--data-root", str(bench_shop.root), "--datasets", DATASET, "--models",
                  "pop,ease", "--out", str(tmp_path)])
    rows = report(tmp_path, "quality", "machine", "protocol", "rows")["rows"]
    assert {row["model"] for row in rows} == {"pop", "ease"}
    assert all("ndcg@10" in row["metrics"] for row in rows)


def test_tradeoff(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.quality import tradeoff

    tradeoff.main(["--data-root", str(bench_shop.root), "--datasets", DATASET, "--models",
                   "ease", "--methods", "mmr", "--weights", "0,0.5", "--users", "20",
                   "--reference-mix", "-1", "--runs-dir", str(tmp_path / "runs"),
                   "--out", str(tmp_path)])
    row = report(tmp_path, "tradeoff", "machine", "k", "rows")["rows"][0]
    assert (row["dataset"], row["model"]) == (DATASET, "ease")
    assert {(p["method"], p["weight"]) for p in row["points"]} >= {("mmr", 0.0), ("mmr", 0.5)}


def test_exposure(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.quality import exposure

    exposure.main(["--run", str(bench_shop.twotower), "--fit-users", "30", "--out",
                   str(tmp_path)])
    results = report(tmp_path, "exposure", "command", "machine", "sets", "serving")
    assert results["n_fit"] == 30


def test_schedule(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.quality import schedule

    schedule.main(["--pair", f"shop={bench_shop.twotower},{bench_shop.twotower}", "--out",
                   str(tmp_path)])
    report(tmp_path, "schedule", "machine")


@pytest.mark.slow
def test_ask_quality(tmp_path: Path) -> None:
    from bench.quality import ask_quality

    ask_quality.main(["--out", str(tmp_path)])
    results = report(tmp_path, "ask", "command", "machine", "methods")
    assert all({"hit@1", "mrr"} <= set(row) for row in results["methods"].values())


def test_experiments(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.quality import experiments

    experiments.main(["--run", str(bench_shop.ease), "--data", str(bench_shop.data),
                      "--shoppers", "40", "--runs", "2", "--visits", "60", "--looks", "2",
                      "--api-runs", "1", "--api-visits", "10", "--out", str(tmp_path)])
    report(tmp_path, "experiments", "command", "machine", "in_process", "off_policy", "api")


@pytest.mark.slow
def test_frontier_both_families(bench_shop: BenchShop, tmp_path: Path) -> None:
    """--smoke: one epoch, two fixed-α variants and the conditioned family (frontier_alpha)."""
    from bench.quality import frontier

    frontier.main(["--smoke", "--data-root", str(bench_shop.root), "--datasets", DATASET,
                   "--seeds", "0", "--resamples", "20", "--users", "40", "--runs-dir",
                   str(tmp_path / "runs"), "--out", str(tmp_path)])
    row = report(tmp_path, "frontier", "machine", "resamples", "datasets")["datasets"][0]
    assert [model["label"] for model in row["models"]] == list(
        frontier.DATASET_VARIANTS[DATASET][:2])
    assert all("--set epochs=1" in model["command"] for model in row["models"])
    conditioned = report(tmp_path, "frontier_alpha", "datasets")["datasets"][0]
    assert {"per_alpha", "frontier", "fit_ratio"} <= set(conditioned)
    assert "One model for every α" in (tmp_path / "frontier.md").read_text()


@pytest.mark.slow
def test_defaults(bench_shop: BenchShop, tmp_path: Path) -> None:
    """`prism train` with no model or settings (the model search) on the tiny shop."""
    from bench.quality import defaults

    defaults.main(["--data-root", str(bench_shop.root), "--datasets", DATASET, "--out",
                   str(tmp_path)])
    row = report(tmp_path, "defaults", "machine", "datasets")["datasets"][0]
    assert row["dataset"] == DATASET and row["chosen"] and row["candidates"]


@pytest.mark.slow
def test_explain_faithfulness(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.quality import explain_faithfulness

    explain_faithfulness.main(["--datasets", DATASET, "--data-root", str(bench_shop.root),
                               "--shoppers", "10", "--out", str(tmp_path)])
    rows = report(tmp_path, "explain_faithfulness", "machine", "command", "rows")["rows"]
    assert {row["dataset"] for row in rows} == {DATASET}


@pytest.mark.slow
def test_privacy(bench_shop: BenchShop, tmp_path: Path) -> None:
    pytest.importorskip("opacus", reason="private training needs the privacy extra")
    from bench.quality import privacy

    privacy.main(["--data", str(bench_shop.data), "--epochs", "1", "--out", str(tmp_path)])
    results = report(tmp_path, "privacy", "setup", "rows")
    assert results["setup"]["data"] == f"{DATASET} (leave-last-out)"
    assert len(results["rows"]) == len(privacy.EPSILONS)


@pytest.mark.slow
def test_buy_again(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.quality import buy_again

    buy_again.main(["--models", "ease", "--data-root", str(bench_shop.root), "--out",
                    str(tmp_path)])
    results = report(tmp_path, "buy_again", "machine", "command", "datasets")
    assert results["datasets"][0]["models"][0]["rows"]
