"""Shared by the serving benchmarks: find or train a run, and write the serving report.

Both benchmarks add their section to docs/benchmarks/serving.json and re-render
docs/benchmarks/serving.md from it, so running one keeps the other's last numbers.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from bench.common import REPO

AMAZON = REPO.parent / "shared" / "data" / "amazon-scientific"
REPORT_JSON = REPO / "docs" / "benchmarks" / "serving.json"
REPORT_MD = REPO / "docs" / "benchmarks" / "serving.md"


def ensure_run(run: str | None, data: Path, out: Path, model: str, epochs: int) -> Path:
    """`run` when given; else train `model` on `data` into `out` with `prism train`."""
    if run:
        return Path(run)
    if not data.is_dir():
        sys.exit(f"bench: data folder {data} not found; pass --run RUN or --data DIR")
    if (out / "run.json").exists():
        return out
    command = [sys.executable, "-m", "engine", "train", "--data", str(data), "--out", str(out),
               "--model", model, "--quiet"]
    if model == "twotower":
        command += ["--epochs", str(epochs)]
    print(f"bench: training a quick {model} run on {data.name} into {out}", file=sys.stderr)
    subprocess.run(command, check=True, cwd=REPO)
    return out


def machine() -> dict[str, Any]:
    """Where the numbers come from, including how busy the machine was when they were taken."""
    return {"machine": platform.machine(), "cpu_cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1min": round(os.getloadavg()[0], 2)}


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, int(round(q / 100.0 * len(ordered) + 0.5)))
    return ordered[min(rank, len(ordered)) - 1]


def update_report(section: str, payload: dict[str, Any]) -> None:
    """Replace one section of serving.json (atomically) and re-render serving.md."""
    report = json.loads(REPORT_JSON.read_text()) if REPORT_JSON.exists() else {}
    report[section] = payload
    _write_atomic(REPORT_JSON, json.dumps(report, indent=2) + "\n")
    _write_atomic(REPORT_MD, render(report))


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    staging.write_text(text)
    os.replace(staging, path)


def _machine_text(info: dict[str, Any]) -> str:
    return (f"{info['machine']}, {info['cpu_cores']} CPU cores, Python {info['python']}, "
            f"1-minute load average {info.get('load_average_1min', '?')} when measured "
            "(the machine is shared, so absolute numbers vary run to run)")


def _load_lines(load: dict[str, Any] | None, title: str) -> list[str]:
    """One load-test section: conditions, totals and per-endpoint latency."""
    if not load:
        return []
    workload = (f"/recommend only, policy {load['policy']} live" if load.get("policy")
                else "/recommend only" if load.get("only_recommend")
                else "mixed /recommend and /search")
    lines = [
        f"## {title}", "",
        f"Command: `{load['command']}`. {load['clients']} concurrent clients × "
        f"{load['requests_per_client']} requests, {workload}, against "
        f"{load['run_model']} on {load['dataset']}, {load.get('workers', 1)} server "
        f"worker(s). Machine: {_machine_text(load['machine'])}.", "",
        "| requests | errors | p50 ms | p99 ms | throughput req/s | wall s |",
        "|---|---|---|---|---|---|",
        f"| {load['requests']} | {load['errors']} | {load['p50_ms']:.1f} | "
        f"{load['p99_ms']:.1f} | {load['throughput_rps']:.1f} | {load['wall_s']:.1f} |", "",
        "| endpoint | requests | p50 ms | p99 ms |", "|---|---|---|---|"]
    lines += [f"| {name} | {row['requests']} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} |"
              for name, row in load["per_endpoint"].items()]
    if load.get("in_process"):
        local, ratio = load["in_process"], load["ratio"]
        lines += ["", f"Same run, `Recommender.recommend()` in process ({local['calls']} calls "
                      f"one at a time): mean {local['mean_ms']:.2f} ms, p50 "
                      f"{local['p50_ms']:.2f} ms, p99 {local['p99_ms']:.2f} ms. HTTP p50 = "
                      f"{ratio['p50_over_in_process']:.1f}× and p99 = "
                      f"{ratio['p99_over_in_process']:.1f}× the in-process call; throughput = "
                      f"{ratio['throughput_over_in_process_rate']:.2f}× the rate of in-process "
                      "calls made one at a time."]
    return lines + [""]


def render(report: dict[str, Any]) -> str:
    lines = ["# Serving speed", ""]
    latency = report.get("latency")
    if latency:
        lines += [
            "## `recommend()` end to end, one user (score catalogue + re-rank + explain)", "",
            f"Command: `{latency['command']}`. Run: {latency['run_model']} on "
            f"{latency['dataset']} ({latency['n_items']} items, {latency['n_users']} users); "
            f"k = {latency['k']}, {latency['n_candidates']} candidates, weight "
            f"{latency['weight']}, {latency['repeats']} calls per row over "
            f"{latency['distinct_users']} users, torch threads "
            f"{latency.get('torch_threads', 'default')}. "
            f"Machine: {_machine_text(latency['machine'])}.", "",
            "| call | median ms | p90 ms |", "|---|---|---|"]
        lines += [f"| {name} | {row['median_ms']:.2f} | {row['p90_ms']:.2f} |"
                  for name, row in latency["calls"].items()]
        lines += ["", f"Target: `recommend()` median ≤ 20 ms. Worst method median: "
                      f"{latency['worst_recommend_median_ms']:.2f} ms.", ""]
    lines += _load_lines(report.get("load"), "HTTP API under load (`prism serve`, loopback)")
    lines += _load_lines(report.get("load_recommend"),
                         "`/recommend` alone (`prism serve`, loopback)")
    lines += _load_lines(report.get("load_policy"),
                         "`/recommend` alone with a live policy (`prism serve`, loopback)")
    return "\n".join(lines)
