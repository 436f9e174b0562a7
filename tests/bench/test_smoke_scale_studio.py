"""Smoke: the scale and studio benchmarks run on the tiny shop and write their reports to --out.

The 1,000,000-item stages (bench/scale/large_catalogue.py, the shop part of ann_serving) are
the benchmarks' own size and are not run here; test_bench_imports.py checks they load."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench_shop import BenchShop, report


def test_quantize(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.scale import quantize

    quantize.main(["--run", str(bench_shop.twotower), "--data", str(bench_shop.data), "--out",
                   str(tmp_path)])
    report(tmp_path, "quantize", "command")


def test_studio_open(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.scale import studio_open

    studio_open.main(["--run", str(bench_shop.twotower), "--out", str(tmp_path)])
    results = report(tmp_path, "studio_open", "command", "machine", "steps")
    assert "RUN" in results["command"]  # an absolute folder of this machine is never named
    assert len(results["steps"]) == 5 and results["items"] > 0
    assert all(step["peak_rss_gb"] >= step["rss_gb"] > 0 for step in results["steps"])
    pages = {row["page"]: row for row in results["pages"]}  # opened in the real app
    assert set(pages) == {"catalogue", "ledger"}
    assert all(row["problems"] == [] and row["cpu_s"] > 0 for row in pages.values())
    typed = pages["catalogue"]["find_box"]  # the last query is a whole item id: found first
    assert len(typed) == 4 and typed[-1]["found"] >= 1 and not pages["ledger"]["find_box"]


@pytest.mark.slow
def test_ann_serving(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.scale import ann_serving

    ann_serving.main(["--parts", "amazon", "--data", str(bench_shop.data), "--users", "10",
                      "--epochs", "1", "--out", str(tmp_path), "--keep", str(tmp_path / "kept")])
    part = report(tmp_path, "ann_serving", "command", "machine", "parts")["parts"]["amazon"]
    assert "--out" not in part["command"]  # the report never names this machine's folders
    assert {"kinds", "lists", "recommend"} <= set(part)
    ann_serving.main(["--remeasure", "amazon", str(tmp_path / "kept" / "amazon"), "--apart",
                      "--out", str(tmp_path)])
    part = report(tmp_path, "ann_serving", "parts")["parts"]["amazon"]
    assert part["recommend_timed"]["apart"] and "RUN --apart" in part["recommend_timed"]["command"]
    assert all("p99_ms" in row for row in part["recommend"].values())
    assert "one after the other" in (tmp_path / "ann_serving.md").read_text()


@pytest.mark.slow
def test_dashboard_speed(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.studio import dashboard_speed

    dashboard_speed.main(["--home", str(tmp_path / "home"), "--data", str(bench_shop.data),
                          "--epochs", "1", "--moves", "2", "--out", str(tmp_path)])
    results = report(tmp_path, "dashboard", "machine", "command", "explorer", "tradeoff")
    assert results["explorer"]["methods"]


@pytest.mark.browser
def test_browser_speed(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.studio import browser_speed

    browser_speed.main(["--run", str(bench_shop.twotower), "--drags", "2", "--rounds", "1",
                        "--out", str(tmp_path)])
    results = report(tmp_path, "browser", "machine", "command", "runs", "floor")
    assert results["runs"][0]["floor"]["n"] >= 2  # taken before and after the one round
    assert len(results["runs"][0]["slider_round_ratios"]) == 1
    pages = results["runs"][0]["pages"]
    assert set(pages) == {"Catalogue", "Ledger", "Explorer"}
    assert all(page["warm"]["n"] == 1 for page in pages.values())


def test_starter_fit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from bench.studio import starter_fit
    from engine.training import presets

    monkeypatch.setattr(presets, "TINY_SHOP", {"n_items": 100, "n_users": 60})
    home = os.environ.get("PRISM_HOME")
    starter_fit.main(["--epochs", "1", "--no-text", "--out", str(tmp_path)])
    assert os.environ.get("PRISM_HOME") == home  # the fresh studio home is gone again
    results = report(tmp_path, "starter_fit", "machine", "command", "fits", "fit_cpu_ratio")
    one, every = (results["fits"][label] for label in (starter_fit.ONE_ALPHA,
                                                        starter_fit.EVERY_ALPHA))
    assert (one["alpha_max"], every["alpha"], every["alpha_max"]) == (None, 0.0, 1.0)
    assert one["epochs_run"] == every["epochs_run"] == 1 and results["fit_cpu_ratio"] > 0
    assert "| every α (now) | 0–1 |" in (tmp_path / "starter_fit.md").read_text()
