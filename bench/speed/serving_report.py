"""The serving report: docs/benchmarks/serving.json, one section per serving benchmark, and
serving.md rendered from it, so running one benchmark keeps the others' last numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import OUT_DIR, machine_line, read_json, write_atomic, write_json


def update_report(section: str, payload: dict[str, Any], out: Path = OUT_DIR) -> None:
    """Replace one section of `out`/serving.json (atomically) and re-render serving.md."""
    report = read_json(out / "serving.json")
    report[section] = payload
    write_json(out / "serving.json", report)
    write_atomic(out / "serving.md", render(report))


def _load_lines(load: dict[str, Any] | None, title: str) -> list[str]:
    """One load-test section: conditions, totals and per-endpoint latency."""
    if not load:
        return []
    workload = (f"/recommend only, policy {load['policy']} live" if load.get("policy")
                else "/recommend only" if load.get("only_recommend")
                else "/recommend and /events alternating" if load.get("events")
                else "mixed /recommend and /search")
    lines = [
        f"## {title}", "",
        f"Command: `{load['command']}`. {load['clients']} concurrent clients × "
        f"{load['requests_per_client']} requests, {workload}, against "
        f"{load['run_model']} on {load['dataset']}, {load.get('workers', 1)} server "
        f"worker(s). Machine: {machine_line(load['machine'])}.", "",
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
    return lines + _events_and_workers(load) + [""]


def _events_and_workers(load: dict[str, Any]) -> list[str]:
    """Events acknowledged vs stored, and the same load on more workers (when measured)."""
    lines = []
    if "server_cpu_ms_per_request" in load:
        lines += ["", f"Server CPU per request (user + system time of the server's processes "
                      f"over the load, divided by the requests): "
                      f"{load['server_cpu_ms_per_request']:.2f} ms = "
                      f"{load['ratio']['server_cpu_over_in_process']:.2f}× the in-process "
                      "call; unlike wall times this hardly moves with other work on the "
                      "machine."]
    if "lost_events" in load:
        lines += ["", f"Events: {load['events_acknowledged']} acknowledged (201), "
                      f"{load['events_stored']} in the store after the server stopped: "
                      f"{load['lost_events']} lost."]
    if load.get("more_workers"):
        lines += _workers_table(load)
    if "load_average_after" in load:
        lines += ["", f"1-minute load average after the run: {load['load_average_after']}."]
    return lines


def _workers_table(load: dict[str, Any]) -> list[str]:
    """The same load on each worker count, with where the CPU went."""
    rows = [(str(load.get("workers", 1)), {**load, "throughput_over_first": 1.0}),
            *load["more_workers"].items()]
    lines = ["", "| workers | requests | errors | p50 ms | p99 ms | req/s | × first | "
                 "server CPU ms/request | client CPU ms/request | cores busy | warm-up CPU s "
                 "(before the load) | lost events |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {n} | {row['requests']} | {row['errors']} | {row['p50_ms']:.1f} | "
              f"{row['p99_ms']:.1f} | {row['throughput_rps']:.1f} | "
              f"{row['throughput_over_first']:.2f} | "
              f"{row.get('server_cpu_ms_per_request', '–')} | "
              f"{row.get('client_cpu_ms_per_request', '–')} | {row.get('cores_busy', '–')} | "
              f"{row.get('warmup_cpu_s', '–')} | {row.get('lost_events', '–')} |"
              for n, row in rows]
    if "cores_busy" in load:
        lines += ["", "Throughput = cores busy ÷ CPU per request (server + clients): " + "; ".join(
            f"{n} worker(s) {row['cores_busy']} cores ÷ "
            f"{row['server_cpu_ms_per_request'] + row['client_cpu_ms_per_request']:.2f} ms"
            for n, row in rows) + ". The clients share the server's cores, so a further "
            "worker raises throughput only as far as the machine has a core to give it (the "
            "cores-busy column, which swings with other work on a shared machine); what it "
            "costs is the server CPU per request it adds (the workers' event tail and shared "
            "store). Servers are measured warm: the warm-up column is the CPU each spent "
            "loading the search encoder after /healthz first answered, which a load started "
            "at once would be timed against."]
    return lines


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
            f"Machine: {machine_line(latency['machine'])}.", "",
            "| call | median ms | p90 ms |", "|---|---|---|"]
        lines += [f"| {name} | {row['median_ms']:.2f} | {row['p90_ms']:.2f} |"
                  for name, row in latency["calls"].items()]
        lines += ["", f"Target: `recommend()` median ≤ 20 ms. Worst method median: "
                      f"{latency['worst_recommend_median_ms']:.2f} ms.", ""]
    lines += _load_lines(report.get("load"), "HTTP API under load (`prism serve`, loopback)")
    lines += _load_lines(report.get("load_recommend"),
                         "`/recommend` alone (`prism serve`, loopback)")
    lines += _load_lines(report.get("load_events"),
                         "`/recommend` and `/events` mixed (`prism serve`, loopback)")
    lines += _load_lines(report.get("load_policy"),
                         "`/recommend` alone with a live policy (`prism serve`, loopback)")
    return "\n".join(lines)
