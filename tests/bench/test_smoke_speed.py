"""Smoke: every speed benchmark runs on the tiny shop and writes its report to --out.

Timings are never asserted (benchmarks measure, tests check they run and what they write)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from bench_shop import BenchShop, report


def test_rerank(tmp_path: Path) -> None:
    from bench.speed import rerank

    rerank.main(["--quick", "--out", str(tmp_path)])
    results = report(tmp_path, "rerank", "command", "machine", "one_list", "batch")
    assert set(results["one_list"]["500"]) == set(rerank.METHODS)
    assert {"cpu_cores", "python", "load_average_1min"} <= set(results["machine"])


def test_rerank_quick_never_writes_docs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bench import common
    from bench.speed import rerank

    monkeypatch.setattr(rerank, "OUT_DIR", tmp_path)  # stands for docs/benchmarks
    rerank.main(["--quick", "--out", str(tmp_path)])
    assert list(tmp_path.iterdir()) == []
    assert common.OUT_DIR.name == "benchmarks"


def test_serve_latency(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.speed import serve_latency

    serve_latency.main(["--run", str(bench_shop.twotower), "--repeats", "2", "--out",
                        str(tmp_path)])
    latency = report(tmp_path, "serving", "latency")["latency"]
    assert latency["command"] == "python -m bench.speed.serve_latency --run RUN"
    assert {f"recommend {m}" for m in serve_latency.METHODS} <= set(latency["calls"])


def test_policy_preview(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.speed import policy_preview

    policy_preview.main(["--run", str(bench_shop.twotower), "--data", str(bench_shop.data),
                         "--repeats", "1", "--out", str(tmp_path)])
    results = report(tmp_path, "policy_preview", "command", "n_users", "seconds_fastest",
                     "machine")
    assert results["n_users"] > 0


def test_request_probe(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.speed import request_probe

    request_probe.main(["--run", str(bench_shop.twotower), "--repeats", "1", "--out",
                        str(tmp_path)])
    results = report(tmp_path, "request_probe", "probes", "slowest_seconds", "all_answered")
    assert results["all_answered"] is True


def test_alpha_latency(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.speed import alpha_latency

    alpha_latency.main(["--run", str(bench_shop.conditioned), "--repeats", "2", "--out",
                        str(tmp_path)])
    row = report(tmp_path, "alpha_latency", "machine", "runs")["runs"][0]
    assert row["alpha_range"] == [0.0, 1.0]
    assert {"median_ms", "p90_ms"} <= set(row["model_only"]) and row["repeats"] == 2


def test_scoring(tmp_path: Path) -> None:
    from bench.speed import scoring

    scoring.main(["--tables", "ml-100k", "--repeats", "1", "--out", str(tmp_path)])
    results = report(tmp_path, "scoring", "command", "machine", "rows")
    assert [row["table"] for row in results["rows"]] == ["ml-100k"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_events(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.speed import events

    events.main(["--run", str(bench_shop.ease), "--shoppers", "3", "--port",
                 str(_free_port()), "--out", str(tmp_path)])
    report(tmp_path, "events", "machine")


@pytest.mark.slow
def test_load(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.speed import load

    load.main(["--run", str(bench_shop.twotower), "--clients", "2", "--requests", "3",
               "--in-process", "3", "--only-recommend", "--out", str(tmp_path)])
    section = report(tmp_path, "serving", "load_recommend")["load_recommend"]
    assert section["requests"] == 6 and section["errors"] == 0
    assert {"p50_ms", "p99_ms", "throughput_rps", "in_process", "ratio"} <= set(section)


@pytest.mark.slow
def test_load_with_events(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.speed import load

    load.main(["--run", str(bench_shop.twotower), "--clients", "2", "--requests", "4",
               "--in-process", "3", "--events", "--out", str(tmp_path)])
    section = report(tmp_path, "serving", "load_events")["load_events"]
    assert section["errors"] == 0 and section["per_endpoint"]["/events"]["requests"] == 4
    assert section["events_acknowledged"] == section["events_stored"] == 4
    assert section["lost_events"] == 0
    assert section["server_cpu_ms_per_request"] > 0 and section["cores_busy"] > 0
    assert section["client_cpu_ms_per_request"] > 0 and section["warmup_cpu_s"] >= 0
    from bench.speed.serving_report import render

    same = {key: section[key] for key in section if key not in ("in_process", "ratio")}
    page = render({"load_events": {**section, "more_workers": {
        "2": {**same, "throughput_over_first": 1.0}}}})
    assert "| 2 | 8 | 0 |" in page and "Throughput = cores busy ÷ CPU per request" in page


@pytest.mark.slow
def test_refresh(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.speed import refresh

    refresh.main(["--datasets", "amazon-scientific", "--data-root", str(bench_shop.root),
                  "--new-share", "0.2", "--epochs", "1", "--refresh-epochs", "1",
                  "--out", str(tmp_path)])
    results = report(tmp_path, "refresh", "datasets", "machine")
    row = results["datasets"][0]
    assert row["refresh"]["events"] > 0 and row["full_fit_seconds"] > 0
    indexed = row["refresh_with_index"]
    if indexed is not None:  # FAISS installed: the refreshed run has a tuned index again
        assert indexed["tune_n"] > 0 and 0 < indexed["recall_after"] <= 1


def test_conditioned_fit(bench_shop: BenchShop, tmp_path: Path) -> None:
    from bench.speed import conditioned_fit

    conditioned_fit.main(["--smoke", "--data-root", str(bench_shop.root), "--epochs", "1",
                          "--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path)])
    row = report(tmp_path, "conditioned_fit", "machine", "command", "datasets")["datasets"][0]
    assert row["fits"]["α=0:1"]["epochs"] == row["fits"]["α=0"]["epochs"] == 1
    assert row["cpu_ratio_per_epoch"] > 0 and row["fit_ratio_estimate"] is None  # no runs
    assert "| amazon-scientific (seed 0) | 1 |" in (tmp_path / "conditioned_fit.md").read_text()
